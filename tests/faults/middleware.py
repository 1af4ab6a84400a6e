"""Test-only downloader middleware: send every request of a real crawl to the fault server.

Enabled by the ``WANGZI_FAULT_SERVER`` setting (the server's base URL) through
``SCRAPY_SETTINGS_MODULE=tests.faults.settings``. It rewrites requests exactly as the replay
middleware does (same loopback URL scheme, same ``wangzi_replay_url``/``wangzi_original_url``
meta, download slot named after the real host), so spiders map loopback URLs back to the real
ones and per-host politeness still applies; only the answers differ.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.middlewares.har_replay import ReplayMiddleware, name_real_urls
from crawler.replay import loopback_url, real_url


class FaultServerMiddleware:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "FaultServerMiddleware":
        base = crawler.settings.get("WANGZI_FAULT_SERVER")
        if not base:
            raise NotConfigured()
        return cls(base)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        return name_real_urls(request, response, self.base_url)

    def process_request(self, request: Request, spider: Spider | None = None) -> Request | None:
        if request.url == request.meta.get("wangzi_replay_url"):
            return None
        behind = real_url(request.url, self.base_url)
        if behind is not None:  # a redirect the fault server kept on loopback
            return ReplayMiddleware._rewritten(request, behind, request.url)
        return ReplayMiddleware._rewritten(request, request.url, loopback_url(self.base_url, request.url))
