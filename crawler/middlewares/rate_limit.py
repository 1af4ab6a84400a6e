"""Hold every request to its platform's rate, shared by every distributed worker through Redis."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.distributed.connection import redis_client
from crawler.distributed.token_bucket import TokenBucket


class RedisRateLimitMiddleware:
    """Downloader middleware: every request waits for its platform's shared token bucket.

    ``WANGZI_RATE_LIMITS`` maps platform -> requests per second (``"*"`` for the others; 0 or
    a missing entry means no limit); ``WANGZI_RATE_BURST`` is the bucket size. Enabled when
    ``WANGZI_REDIS_URL`` is set (workers); the limit is then shared by every worker."""

    def __init__(self, crawler: Crawler, client: Any, limits: dict[str, float], burst: float) -> None:
        self.crawler = crawler
        self.limits = limits
        self.bucket = TokenBucket(client, burst)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisRateLimitMiddleware:
        url = crawler.settings.get("WANGZI_REDIS_URL")
        if not url:
            raise NotConfigured  # WANGZI_REDIS_URL not set (no message: Scrapy would log a warning)
        limits = {str(k): float(v) for k, v in crawler.settings.getdict("WANGZI_RATE_LIMITS").items()}
        return cls(crawler, redis_client(url), limits, crawler.settings.getfloat("WANGZI_RATE_BURST"))

    def rate_for(self, platform: str) -> float:
        return self.limits.get(platform, self.limits.get("*", 0.0))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        spider = self.crawler.spider
        platform = getattr(spider, "platform", None) or getattr(spider, "name", "unknown")
        rate = self.rate_for(platform)
        if rate <= 0:
            return None
        wait = self.bucket.take(platform, rate)
        if wait > 0:
            self.crawler.stats.inc_value("wangzi/rate_limit_wait_ms", int(wait * 1000))
            await asyncio.sleep(wait)
        return None
