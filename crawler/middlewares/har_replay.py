"""Serve every request from a HAR recording through the loopback replay server."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.replay import Recording, ReplayMiss, ReplayServer, loopback_url, real_url

logger = logging.getLogger(__name__)


def name_real_urls(request: Request, response: Response, base_url: str) -> Response:
    """Name, in the request's meta, the real URLs behind an answer from a loopback server:
    the page's own (``wangzi_real_url``, also after redirects Chromium followed itself) and a
    redirect's target (``wangzi_real_location``). Spiders read these two keys and so never
    need to know about the replay server."""
    request.meta["wangzi_real_url"] = real_url(response.url, base_url) or request.meta.get(
        "wangzi_original_url", response.url
    )
    location = response.headers.get("Location")
    if location:
        target = urljoin(response.url, location.decode("latin-1"))
        request.meta["wangzi_real_location"] = real_url(target, base_url) or target
    return response


class ReplayMiddleware:
    """Serve every request from a HAR recording through a loopback server.

    Enabled by ``WANGZI_REPLAY`` (a path). The request is rewritten to the loopback
    server (keeping its download slot named after the real host, so per-host politeness
    still applies), and the real URL is kept in ``meta["wangzi_original_url"]`` for the
    parsers and provenance. A request with no recorded answer raises :class:`ReplayMiss`,
    which the spider records as a ``network`` failure naming the URL.
    """

    def __init__(self, recording: Recording, stats: Any = None) -> None:
        self.recording = recording
        self.stats = stats
        self.server = ReplayServer(recording).start()
        logger.info("replaying %d recorded exchanges from %s", len(recording), self.server.base_url)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplayMiddleware:
        path = crawler.settings.get("WANGZI_REPLAY")
        if not path:
            raise NotConfigured()  # no argument: Scrapy then logs nothing
        middleware = cls(Recording.load(path), crawler.stats)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_closed(self, spider: Spider) -> None:
        self.server.stop()

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        return name_real_urls(request, response, self.server.base_url)

    def process_request(self, request: Request, spider: Spider | None = None) -> Request | None:
        if request.url == request.meta.get("wangzi_replay_url"):
            return None  # already rewritten (redirects copy meta, so compare the URL itself)
        behind = real_url(request.url, self.server.base_url)
        if behind is not None:  # a redirect the replay server kept on loopback
            if not self.recording.has(request.method, behind):  # the server would answer 599: say so, typed
                raise ReplayMiss(request.method, behind)
            return self._rewritten(request, behind, request.url)
        if not self.recording.has(request.method, request.url):
            raise ReplayMiss(request.method, request.url)
        if self.stats is not None:
            self.stats.inc_value("wangzi/replay/rewritten")
        return self._rewritten(request, request.url, loopback_url(self.server.base_url, request.url))

    @staticmethod
    def _rewritten(request: Request, original: str, replay_url: str) -> Request:
        meta = {
            **request.meta,
            "wangzi_replay_url": replay_url,
            "wangzi_original_url": original,
            "download_slot": request.meta.get("download_slot") or urlsplit(original).netloc,
            # The rewritten request goes through the middlewares again; robots.txt was already
            # checked for the real URL (its robots.txt replayed too), never ask the loopback host.
            "dont_obey_robotstxt": True,
        }
        return request.replace(url=replay_url, meta=meta)
