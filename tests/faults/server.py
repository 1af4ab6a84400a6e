"""A loopback HTTP server that answers any platform URL with a chosen fault.

It speaks the replay server's URL scheme (``http://127.0.0.1:PORT/<scheme>/<host>/<path>?q``,
see :func:`crawler.replay.loopback_url`), so the real spiders reach it through Scrapy's real
download path (and through Chromium for Playwright sources) once
:class:`tests.faults.middleware.FaultServerMiddleware` rewrites their requests.

Routing: every registered *token* (an account's handle or id, unique per fault x platform
cell) selects the fault for any URL containing it; exact *pages* (a login or captcha page a
redirect points to) come first; anything else (a prelude such as a key or cookie request) is
answered from a successful fixture recorded for the same host and path, or 404.

Faults beyond a status and a body: ``stall`` (holds the connection up to 10 s), ``reset``
(closes the socket with RST) and ``big`` (a 20 MB body). Every request is logged with its
token and time, so tests can count retries and measure backoff.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawler.replay import loopback_url, original_url

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

#: How long a ``stall`` holds the connection (the crawl's DOWNLOAD_TIMEOUT must be shorter).
STALL_SECONDS = 10.0
#: Size of the ``big`` answer.
BIG_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    """What the server sends: a status, headers and body, or a special ``action``."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    action: str = "respond"  # respond | stall | reset | big
    location: str | None = None  # a real URL to redirect to (kept on loopback)


@dataclass
class Hit:
    url: str  # the real URL asked for
    token: str | None
    at: float


@dataclass
class Routes:
    tokens: dict[str, Answer] = field(default_factory=dict)
    pages: dict[str, Answer] = field(default_factory=dict)  # exact real URL -> answer
    fallback: dict[tuple[str, str], Answer] = field(default_factory=dict)  # (host, path) -> answer


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        url = original_url(self.path)
        token, answer = self.server.route(url)
        self.server.log(Hit(url or self.path, token, time.monotonic()))
        if answer.action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.wfile, self.rfile = BytesIO(), BytesIO()  # nothing left for finish() to flush
            self.close_connection = True
            return
        if answer.action == "stall":
            self.server.stopping.wait(STALL_SECONDS)
            self.close_connection = True
            return
        try:
            if answer.action == "big":
                self._big()
                return
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            if answer.location and url:
                self.send_header("Location", loopback_url(self.server.base_url, urljoin(url, answer.location)))
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _big(self) -> None:
        chunk = b" " * 65536
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(BIG_BYTES + 2))
        self.end_headers()
        self.wfile.write(b"[")
        for _ in range(BIG_BYTES // len(chunk)):
            if self.server.stopping.is_set():
                break
            self.wfile.write(chunk)
        self.wfile.write(b"]")

    do_GET = do_POST = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, routes: Routes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = routes
        self.hits: list[Hit] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def log(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def route(self, url: str | None) -> tuple[str | None, Answer]:
        if url is None:
            return None, Answer(404, b"not a replay-style path")
        if url in self.routes.pages:
            return None, self.routes.pages[url]
        for token, answer in self.routes.tokens.items():
            if token in url:
                return token, answer
        parts = urlsplit(url)
        found = self.routes.fallback.get((parts.netloc, parts.path))
        return None, found or Answer(404, b"", (("Content-Type", "text/plain"),))


class FaultServer:
    """``with FaultServer(routes) as server:`` ... ``server.base_url``, ``server.hits``."""

    def __init__(self, routes: Routes | None = None) -> None:
        self.routes = routes or Routes()
        self._server = _Server(self.routes)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def hits(self) -> list[Hit]:
        return list(self._server.hits)

    def start(self) -> "FaultServer":
        self._thread = threading.Thread(target=self._server.serve_forever, name="wangzi-faults", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FaultServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- fixtures as answers


def fixture_cases(platform: str) -> list[tuple[str, dict[str, Any], Any, bytes]]:
    """(case name, meta, expected, payload) for every fixture of a platform."""
    cases = []
    folder = FIXTURES / platform
    if not folder.is_dir():
        return cases
    for case in sorted(p for p in folder.iterdir() if p.is_dir()):
        try:
            meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
            expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
            (payload,) = [p for p in case.iterdir() if p.name.startswith("response.")]
        except (OSError, ValueError):
            continue
        cases.append((case.name, meta, expected, payload.read_bytes()))
    return cases


def content_type(body: bytes) -> str:
    head = body.lstrip()[:1]
    if head in (b"{", b"["):
        return "application/json; charset=utf-8"
    return "text/html; charset=utf-8"


def fixture_answer(meta: dict[str, Any], payload: bytes, status: int | None = None) -> Answer:
    return Answer(status or meta.get("status") or 200, payload, (("Content-Type", content_type(payload)),))


def success_fallbacks(platforms: list[str]) -> dict[tuple[str, str], Answer]:
    """Successful fixtures by (host, path): answers for prelude requests no token names."""
    found: dict[tuple[str, str], Answer] = {}
    for platform in platforms:
        for _, meta, expected, payload in fixture_cases(platform):
            if isinstance(expected, dict) and "error" not in expected and meta.get("url"):
                parts = urlsplit(meta["url"])
                found.setdefault((parts.netloc, parts.path), fixture_answer(meta, payload))
    return found
