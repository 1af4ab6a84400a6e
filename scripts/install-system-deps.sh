#!/bin/sh
# Install the Debian packages the test suite drives for real (never `playwright install`):
# chromium (Playwright's browser), postgresql (server binaries; tests start their own
# cluster on loopback), redis-server, fonts-noto-cjk (the review desk's screenshots and browser
# tests show Chinese and Japanese names: without it they render as empty boxes). Runs apt only when something is missing and we are
# root; otherwise says what is missing (the tests that need it are skipped with that reason).
set -e
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 || missing="$missing fonts-noto-cjk"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
    echo "warning: missing$missing (not root or no apt-get); tests needing them will be skipped" >&2
fi
