"""Retry rate limits and server errors after waiting: ``Retry-After`` or exponential backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.http import Response
from scrapy.settings import BaseSettings

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
    handed to the spider, whose parser records it as a typed failure.

    Built by ``RetryMiddleware.from_crawler``; switched off, like Scrapy's own, by
    ``RETRY_ENABLED = False`` (its ``__init__`` raises ``NotConfigured``)."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("WANGZI_BACKOFF_BASE")
        self.cap = settings.getfloat("WANGZI_BACKOFF_MAX")

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
