#!/bin/sh
# A separate virtualenv with mitmproxy's mitmdump, for the tests that crawl through real forward
# proxies (tests/test_proxies.py). mitmproxy pins many dependencies of its own, so it is never a
# dependency of Wangzi: it lives in its own environment, outside the project's lock.
#   sh scripts/install-mitmproxy.sh [VENV]      (default: .venv-mitmproxy; WANGZI_MITMPROXY_VENV)
# Idempotent: an environment whose mitmdump runs is left as it is.
set -e
VENV="${1:-${WANGZI_MITMPROXY_VENV:-.venv-mitmproxy}}"
VERSION="${WANGZI_MITMPROXY_VERSION:-11.0.2}"   # the last 11.x: installs on Python 3.11
PYTHON="${PYTHON:-python3}"
if [ -x "$VENV/bin/mitmdump" ] && "$VENV/bin/mitmdump" --version >/dev/null 2>&1; then
    exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "mitmproxy==$VERSION"
"$VENV/bin/mitmdump" --version >/dev/null && echo "mitmdump installed in $VENV"
