"""Downloader middlewares: backoff on rate limits, replay from and recording to HAR files."""

from __future__ import annotations

import asyncio
import logging
import random
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from urllib.parse import urljoin, urlsplit

from crawler.replay import Exchange, Recording, ReplayMiss, ReplayServer, loopback_url, real_url, write_har

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) in seconds; None when absent/invalid."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, plus waiting before the retry: the server's ``Retry-After`` when it
    gives one, else exponential backoff with jitter (``WANGZI_BACKOFF_BASE`` doubling per
    attempt, capped at ``WANGZI_BACKOFF_MAX``). When retries run out the last response is
    handed to the spider, whose parser records it as a typed failure."""

    def __init__(self, settings: Any) -> None:  # type: ignore[override]
        super().__init__(settings)
        self.base = settings.getfloat("WANGZI_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("WANGZI_BACKOFF_MAX", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "BackoffRetryMiddleware":
        instance = cls(crawler.settings)
        instance.crawler = crawler
        return instance

    def delay_for(self, response: Response, attempt: int) -> float:
        server = retry_after_seconds(response.headers.get("Retry-After"))
        if server is not None:
            return min(server, self.cap)
        return min(self.base * (2 ** attempt) * (0.5 + random.random() / 2), self.cap)

    async def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        attempt = request.meta.get("retry_times", 0)
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=f"HTTP {response.status}",
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=self.priority_adjust,
        )
        if retry is None:
            return response
        delay = self.delay_for(response, attempt)
        if delay > 0:
            self.crawler.stats.inc_value("wangzi/backoff_seconds", int(delay))
            logger.info("HTTP %s from %s: retrying in %.1fs", response.status, request.url, delay)
            await asyncio.sleep(delay)
        return retry


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
    def from_crawler(cls, crawler: Crawler) -> "ReplayMiddleware":
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
    def from_crawler(cls, crawler: Crawler) -> "RecordMiddleware":
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
        from crawler.replay import RecordingError, load_har

        existing: list[Exchange] = []
        if self.path.exists():
            try:
                existing = load_har(self.path)
            except RecordingError:
                existing = []
        write_har(self.path, existing + self.exchanges, keep_secrets=self.keep_secrets)
        logger.info("recorded %d exchanges to %s", len(self.exchanges), self.path)
