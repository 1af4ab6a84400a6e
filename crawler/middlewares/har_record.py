"""Save every exchange of a live crawl as HAR 1.2 (``wangzi record``)."""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.replay import Exchange, RecordingError, load_har, write_har

logger = logging.getLogger(__name__)


class RecordMiddleware:
    """Save every exchange of a live crawl as HAR 1.2 (``wangzi record``).

    Enabled by ``WANGZI_RECORD`` (a path). ``Cookie``, ``Authorization`` and
    ``Set-Cookie`` values and secret query parameters are redacted unless
    ``WANGZI_RECORD_SECRETS`` is true.
    """

    def __init__(self, path: Path, keep_secrets: bool) -> None:
        self.path = path
        self.keep_secrets = keep_secrets
        self.exchanges: list[Exchange] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordMiddleware:
        path = crawler.settings.get("WANGZI_RECORD")
        if not path:
            raise NotConfigured()
        middleware = cls(Path(path), crawler.settings.getbool("WANGZI_RECORD_SECRETS"))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        self.exchanges.append(
            Exchange(
                url=request.meta.get("wangzi_original_url", request.url),
                method=request.method,
                status=response.status,
                body=response.body,
                headers={k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()},
                request_headers={k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in request.headers.items()},
                request_body=request.body or None,
            )
        )
        return response

    def spider_closed(self, spider: Spider) -> None:
        # Several spiders in one process append to the same file: merge with what is there.
        existing: list[Exchange] = []
        if self.path.exists():
            try:
                existing = load_har(self.path)
            except RecordingError:
                existing = []
        write_har(self.path, existing + self.exchanges, keep_secrets=self.keep_secrets)
        logger.info("recorded %d exchanges to %s", len(self.exchanges), self.path)
