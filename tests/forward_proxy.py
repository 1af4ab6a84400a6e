"""Real forward proxies for the tests: ``mitmdump`` processes on 127.0.0.1, several at once,
each with the :mod:`tests.mitm_addon` log of the requests it carried (and, when asked, a ban
after N requests).

mitmproxy lives in its own virtualenv (``scripts/install-mitmproxy.sh``, default
``.venv-mitmproxy``; ``WANGZI_MITMDUMP`` names another binary): it pins many dependencies,
so it is never one of the project's. :func:`mitmdump_binary` installs it on first use.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.helpers import REPO
from tests.postgres import free_port

ADDON = Path(__file__).resolve().parent / "mitm_addon.py"


class ProxyUnavailable(RuntimeError):
    """mitmdump cannot be installed or started here (the message says why)."""


def mitmdump_binary() -> str:
    """The mitmdump to run: ``WANGZI_MITMDUMP``, else the project's own environment, installed
    by ``scripts/install-mitmproxy.sh`` when missing."""
    named = os.environ.get("WANGZI_MITMDUMP")
    if named:
        return named
    venv = Path(os.environ.get("WANGZI_MITMPROXY_VENV") or REPO / ".venv-mitmproxy")
    binary = venv / "bin" / "mitmdump"
    if not binary.exists():
        done = subprocess.run(["sh", str(REPO / "scripts" / "install-mitmproxy.sh"), str(venv)], capture_output=True,
                              text=True, timeout=900)
        if done.returncode != 0 or not binary.exists():
            raise ProxyUnavailable(f"could not install mitmproxy ({done.stderr.strip().splitlines()[-1:]})")
    return str(binary)


class ForwardProxy:
    """One mitmdump on 127.0.0.1:PORT; ``log`` is its own JSON-lines record of what it carried."""

    def __init__(self, binary: str, name: str, *, ban_after: int = 0, ban: str = "403", user: str | None = None) -> None:
        self.binary = binary
        self.name = name
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"wangzi-proxy-{name}-"))
        self.log = self.dir / "requests.jsonl"
        self.ban_after, self.ban, self.user = ban_after, ban, user
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f"{self.user}@" if self.user else ""
        return f"http://{auth}127.0.0.1:{self.port}"

    def start(self) -> "ForwardProxy":
        command = [self.binary, "--listen-host", "127.0.0.1", "--listen-port", str(self.port), "--mode", "regular",
                   "-s", str(ADDON), "--set", f"wangzi_log={self.log}", "--set", f"wangzi_ban_after={self.ban_after}",
                   "--set", f"wangzi_ban={self.ban}", "--set", f"confdir={self.dir}", "--set", "termlog_verbosity=warn",
                   "--set", "connection_strategy=lazy"]
        if self.user:
            command += ["--set", f"proxyauth={self.user}"]
        self.process = subprocess.Popen(command, stdout=open(self.dir / "mitmdump.out", "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
        deadline = time.monotonic() + 30
        import socket

        while True:
            if self.process.poll() is not None:
                raise ProxyUnavailable(f"mitmdump exited with {self.process.returncode}: "
                                       f"{(self.dir / 'mitmdump.out').read_text(errors='replace')[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise ProxyUnavailable("mitmdump did not listen within 30s") from None
                time.sleep(0.1)

    def carried(self) -> list[dict[str, Any]]:
        """Every request this proxy logged, in order."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
