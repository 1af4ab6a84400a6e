"""What the SSRF tests (tests/test_press_ssrf.py) put around a *live* press crawl.

* :class:`InternalServer`: a real HTTP server on loopback standing in for a service on the
  crawler's own machine (Redis on 127.0.0.1:6379, a metadata endpoint). It answers every
  request with an article naming the candidate, so a request that reaches it would become a
  confirmed mention; it logs every request, so a test can assert that none came.
* :class:`CannedAnswersMiddleware`: answers the feed and the public article hosts of a test
  from a JSON file (``WANGZI_TEST_CANNED``) without any network; every other request goes
  to the network as in production. It sits after the project's middlewares that decide
  whether a request may leave (priority in ``tests/ssrf_settings.py``).
* :class:`MappedResolver`: the project's own ``TWISTED_DNS_RESOLVER`` class, asked for the
  addresses of a fixed table of names (``WANGZI_TEST_HOSTS``: ``{"rebind.test": "127.0.0.1"}``)
  instead of the system's DNS: a public-looking name that resolves to loopback, as DNS
  rebinding or a hostile DNS record would make it.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.misc import load_object
from w3lib.url import canonicalize_url

import crawler.settings as project_settings

#: The resolver the project configures (Scrapy's own when it names none).
PROJECT_RESOLVER = getattr(project_settings, "TWISTED_DNS_RESOLVER", "scrapy.resolver.CachingThreadedResolver")

ARTICLE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Li Jiaqi returns to livestreaming</title>
</head><body><main><article><h1>Li Jiaqi returns to livestreaming</h1>
<p>Li Jiaqi, the livestreamer and influencer known as China's lipstick king, returned to Taobao Live.</p>
<p>{secret}</p><p>{filler}</p></article></main></body></html>"""
FILLER = " ".join(["The report continues with more detail on the background of the story."] * 6)


def article_page(secret: str = "") -> bytes:
    return ARTICLE.format(secret=secret, filler=FILLER).encode()


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    host: str


class _InternalHandler(BaseHTTPRequestHandler):
    server: "_InternalHTTPServer"
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        self.server.log(Hit(self.command, self.path, self.headers.get("Host", "")))
        if self.path.startswith("/robots.txt"):
            body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
        else:
            body, kind = article_page("internal secret: requirepass hunter2"), "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class _InternalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _InternalHandler)
        self.hits: list[Hit] = []
        self._lock = threading.Lock()

    def log(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)


class InternalServer:
    """``with InternalServer() as internal:`` ... ``internal.port``, ``internal.hits``."""

    def __init__(self) -> None:
        self._server = _InternalHTTPServer()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def hits(self) -> list[Hit]:
        return list(self._server.hits)

    def __enter__(self) -> "InternalServer":
        self._thread = threading.Thread(target=self._server.serve_forever, name="wangzi-internal", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def write_canned(path: Path, answers: dict[str, tuple[int, dict[str, str], bytes]]) -> Path:
    """``{url: (status, headers, body)}`` -> the JSON file ``WANGZI_TEST_CANNED`` names."""
    data = {canonicalize_url(url): {"status": status, "headers": headers, "body": body.decode("utf-8")}
            for url, (status, headers, body) in answers.items()}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


class CannedAnswersMiddleware:
    """Answer the test's feed and public article hosts; let everything else go out."""

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "CannedAnswersMiddleware":
        path = os.environ.get("WANGZI_TEST_CANNED")
        if not path:
            raise NotConfigured()
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def process_request(self, request: Request, spider: Spider | None = None) -> Response | None:
        found = self.answers.get(canonicalize_url(request.url))
        if found is None:
            return None
        return HtmlResponse(request.url, status=found["status"], headers=found["headers"],
                            body=found["body"].encode("utf-8"), request=request)


_Base: Any = load_object(PROJECT_RESOLVER)


class MappedResolver(_Base):  # type: ignore[misc, valid-type]
    """The project's resolver, with the names of ``WANGZI_TEST_HOSTS`` answered from a table."""

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        table = json.loads(os.environ.get("WANGZI_TEST_HOSTS") or "{}")
        return super().getHostByName(table.get(name.lower(), name), timeout)
