"""HAR 1.2 recordings: write them, load them, and serve them on loopback.

Replay is how tests, ``wangzi demo`` and debugging run the *real* spiders offline: the
:class:`~crawler.middlewares.har_replay.ReplayMiddleware` rewrites each request to
``http://127.0.0.1:PORT/<scheme>/<host>/<path>?<query>`` and this module's
:class:`ReplayServer` answers it with the recorded response, so every byte still goes
through Scrapy's real download path (and through Chromium for Playwright requests).

Requests are matched on method, scheme, host, path and query, ignoring parameters that
change on every call (signatures and timestamps such as Bilibili's ``wts``/``w_rid`` or
Douyin's ``msToken``/``a_bogus``). A request with no recorded answer is a replay *miss*,
which the middleware turns into a ``network`` failure naming the URL.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from crawler import __version__

logger = logging.getLogger(__name__)

#: Query parameters that differ on every request and so never take part in matching.
VOLATILE_PARAMS = frozenset(
    {"wts", "w_rid", "msToken", "a_bogus", "X-Bogus", "_signature", "_", "dm_img_list", "dm_img_str",
     "dm_cover_img_str", "dm_img_inter", "web_location", "verifyFp", "fp", "callback", "key"}
)
#: Request/response headers whose values are secrets; redacted in recordings by default.
SECRET_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization", "set-cookie", "x-csrf-token",
                            "x-ig-www-claim", "x-goog-api-key", "x-api-key"})
#: Query parameters whose values are secrets (API keys, tokens); redacted in recordings.
SECRET_PARAMS = frozenset({"key", "access_token", "api_key", "apikey", "token", "auth_token", "ct0", "sessionid"})
REDACTED = "REDACTED"
#: Headers the server recomputes instead of replaying.
_HOP_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"})


class ReplayMiss(Exception):
    """The recording has no answer for this request (raised by the replay middleware)."""

    def __init__(self, method: str, url: str) -> None:
        super().__init__(f"replay miss: no recorded response for {method} {url}")
        self.method = method
        self.url = url


@dataclass
class Exchange:
    """One recorded request and its response."""

    url: str
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # response headers
    method: str = "GET"
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: bytes | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def __post_init__(self) -> None:
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8")
        if not any(k.lower() == "content-type" for k in self.headers):
            self.headers = {**self.headers, "Content-Type": _guess_type(self.body)}


def request_key(method: str, url: str) -> str:
    """What two requests must share to get the same recorded answer."""
    parts = urlsplit(url)
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in VOLATILE_PARAMS and k.lower() not in SECRET_PARAMS  # secrets are redacted in recordings
    )
    path = parts.path or "/"
    return f"{method.upper()} {parts.scheme.lower()}://{parts.netloc.lower()}{path}?{urlencode(query)}"


def redact_url(url: str) -> str:
    """The URL with secret query values replaced (for recordings and logs)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [(k, REDACTED if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def redact_body(body: bytes, secrets: Iterable[str] = ()) -> bytes:
    """``body`` with every secret value in it (``spiders.credentials.secret_values()``) replaced."""
    for value in secrets:
        raw = value.encode("utf-8")
        if raw and raw in body:
            body = body.replace(raw, REDACTED.encode("ascii"))
    return body


def redact_exchange(exchange: Exchange, secrets: Iterable[str] = ()) -> Exchange:
    """The exchange as Wangzi keeps it outside the crawl - in HAR recordings (``wangzi record``)
    and in the raw archive (``crawler/middlewares/archive.py``): secret headers and query
    parameters replaced, and the given secret values replaced in both bodies. The one rule for both."""
    secrets = list(secrets)
    return replace(
        exchange,
        url=redact_url(exchange.url),
        headers=redact_headers(exchange.headers),
        request_headers=redact_headers(exchange.request_headers),
        body=redact_body(exchange.body, secrets),
        request_body=redact_body(exchange.request_body, secrets) if exchange.request_body else exchange.request_body,
    )


# --------------------------------------------------------------------------- HAR files


def _guess_type(body: bytes) -> str:
    head = body.lstrip()[:1]
    if head in (b"{", b"["):
        return "application/json; charset=utf-8"
    if head == b"<":
        return "text/html; charset=utf-8"
    return "application/octet-stream"


def _content(body: bytes, mime: str) -> dict[str, Any]:
    try:
        return {"size": len(body), "mimeType": mime, "text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"size": len(body), "mimeType": mime, "text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}


def to_har(exchanges: list[Exchange], *, keep_secrets: bool = False) -> dict[str, Any]:
    """A HAR 1.2 document (secrets redacted unless ``keep_secrets``)."""
    entries = []
    for ex in exchanges:
        kept = ex if keep_secrets else redact_exchange(ex)
        req_headers, resp_headers, url = kept.request_headers, kept.headers, kept.url
        mime = next((v for k, v in ex.headers.items() if k.lower() == "content-type"), "application/octet-stream")
        request: dict[str, Any] = {
            "method": ex.method,
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": k, "value": v} for k, v in req_headers.items()],
            "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(ex.request_body or b""),
        }
        if ex.request_body:
            request["postData"] = {"mimeType": "application/octet-stream", "text": ex.request_body.decode("utf-8", "replace")}
        entries.append(
            {
                "startedDateTime": ex.started_at.isoformat(),
                "time": 0,
                "request": request,
                "response": {
                    "status": ex.status,
                    "statusText": "",
                    "httpVersion": "HTTP/1.1",
                    "headers": [{"name": k, "value": v} for k, v in resp_headers.items()],
                    "cookies": [],
                    "content": _content(ex.body, mime),
                    "redirectURL": next((v for k, v in ex.headers.items() if k.lower() == "location"), ""),
                    "headersSize": -1,
                    "bodySize": len(ex.body),
                },
                "cache": {},
                "timings": {"send": 0, "wait": 0, "receive": 0},
            }
        )
    return {"log": {"version": "1.2", "creator": {"name": "wangzi", "version": __version__}, "entries": entries}}


def write_har(path: str | Path, exchanges: list[Exchange], *, keep_secrets: bool = False) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_har(exchanges, keep_secrets=keep_secrets), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


class RecordingError(ValueError):
    """The file is not a HAR recording we can serve."""


def load_har(path: str | Path) -> list[Exchange]:
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = document["log"]["entries"]
    except FileNotFoundError:
        raise RecordingError(f"recording {path} does not exist") from None
    except OSError as exc:
        raise RecordingError(f"cannot read recording {path}: {exc.strerror or exc}") from None
    except RecursionError:
        raise RecordingError(f"{path} is not a HAR 1.2 file: its JSON is nested too deeply to read") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordingError(f"{path} is not a HAR 1.2 file ({type(exc).__name__}: {exc})") from None
    exchanges = []
    for number, entry in enumerate(entries):
        try:
            request, response = entry["request"], entry["response"]
            content = response.get("content", {})
            text = content.get("text", "")
            body = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode("utf-8")
            exchanges.append(
                Exchange(
                    url=request["url"],
                    method=request.get("method", "GET"),
                    status=int(response["status"]),
                    body=body,
                    headers={h["name"]: h["value"] for h in response.get("headers", [])},
                    request_headers={h["name"]: h["value"] for h in request.get("headers", [])},
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordingError(f"{path}: entry {number} is malformed ({type(exc).__name__}: {exc})") from None
    return exchanges


class Recording:
    """Recorded exchanges indexed for lookup. Repeated requests get the recorded answers in
    order; once those run out, the last one is served again."""

    def __init__(self, exchanges: list[Exchange]) -> None:
        self._by_key: dict[str, list[Exchange]] = defaultdict(list)
        for ex in exchanges:
            self._by_key[request_key(ex.method, ex.url)].append(ex)
        self._served: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path) -> "Recording":
        return cls(load_har(path))

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def has(self, method: str, url: str) -> bool:
        return request_key(method, url) in self._by_key

    def answer(self, method: str, url: str) -> Exchange | None:
        key = request_key(method, url)
        answers = self._by_key.get(key)
        if not answers:
            return None
        with self._lock:
            index = min(self._served[key], len(answers) - 1)
            self._served[key] += 1
        return answers[index]


# --------------------------------------------------------------------------- loopback server


def loopback_url(base: str, url: str) -> str:
    """``https://api.x.com/a?b=1`` -> ``http://127.0.0.1:PORT/https/api.x.com/a?b=1``."""
    parts = urlsplit(url)
    return urlunsplit(("http", urlsplit(base).netloc, f"/{parts.scheme}/{parts.netloc}{parts.path or '/'}", parts.query, ""))


#: A loopback replay URL (:func:`loopback_url`) inside a text: an exception's message names
#: the URL its request went to, which under replay is the loopback one.
_LOOPBACK_IN_TEXT = re.compile(r"http://127\.0\.0\.1:\d+/(https?)/(?=[^/\s])")


def real_urls_in(text: str) -> str:
    """``text`` with every loopback replay URL in it turned back into the real URL, so what a
    replayed crawl stores or prints names the platform's URL, never the replay server's."""
    return _LOOPBACK_IN_TEXT.sub(r"\1://", text)


def original_url(path: str) -> str | None:
    """Inverse of :func:`loopback_url` for the server's request path."""
    scheme, _, rest = path.lstrip("/").partition("/")
    if scheme not in {"http", "https"} or not rest:
        return None
    return f"{scheme}://{rest}"


def real_url(url: str, replay_url: str | None) -> str | None:
    """The real URL behind ``url`` when it points at the same replay server as ``replay_url``
    (a redirect followed on loopback, by Scrapy or by Chromium); None otherwise."""
    if not replay_url:
        return None
    parts = urlsplit(url)
    if parts.netloc != urlsplit(replay_url).netloc:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return original_url(path)


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        url = original_url(self.path)
        exchange = self.server.recording.answer(self.command, url) if url else None
        if exchange is None:
            body = f"replay miss: no recorded response for {self.command} {url or self.path}".encode()
            self.send_response(599, "Replay Miss")
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("X-Wangzi-Replay-Miss", "1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(exchange.status)
        for name, value in exchange.headers.items():
            lower = name.lower()
            if lower in _HOP_HEADERS:
                continue
            if lower == "location" and url:
                # Redirects stay on loopback (Chromium follows them itself); the middleware and
                # spiders map loopback URLs back to the real ones.
                value = loopback_url(self.server.base_url, urljoin(url, value))
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(exchange.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(exchange.body)

    do_GET = do_POST = do_HEAD = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("replay %s", format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog (5) overflows when a busy crawler opens many connections
    # at once; dropped SYNs are retried after 1, 3, 7 s... and a replayed crawl stalls.
    request_queue_size = 128
    recording: Recording

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class ReplayServer:
    """Serves a recording on ``127.0.0.1`` in a background thread (``with`` or start/stop)."""

    def __init__(self, recording: Recording, port: int = 0) -> None:
        self.recording = recording
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.recording = recording
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "ReplayServer":
        self._thread = threading.Thread(target=self._server.serve_forever, name="wangzi-replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "ReplayServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
