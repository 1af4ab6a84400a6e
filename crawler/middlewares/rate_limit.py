"""Hold every request to its rates: the platform's, shared by every distributed worker through
Redis, and the rate of the proxy it goes out through on that platform."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.distributed.connection import redis_client
from crawler.distributed.token_bucket import LocalTokenBucket, TokenBucket, proxy_rate_key
from spiders.credentials import configured_proxies


class RateLimitMiddleware:
    """Downloader middleware: every request waits for its token buckets.

    * the platform's (``WANGZI_RATE_LIMITS``: platform -> requests per second, ``"*"`` for the
      others, 0 or a missing entry: no limit), in Redis, when ``WANGZI_REDIS_URL`` is set
      (workers): shared by every worker;
    * the proxy's on that platform (``WANGZI_PROXY_RATES``, same shape) for a request the proxy
      middleware sent through a proxy (``meta["wangzi_proxy_name"]``): in Redis when workers
      share one, else in this process. Each proxy is one identity held to its polite rate, so
      more proxies mean more requests per second, never a faster rate per address.

    ``WANGZI_RATE_BURST`` is every bucket's size. Off when there is neither Redis nor a proxy.
    It runs after the replay rewrite (960), so each request that reaches the network (or
    loopback) counts once."""

    def __init__(self, crawler: Crawler, client: Any, limits: dict[str, float], proxy_rates: dict[str, float],
                 burst: float) -> None:
        self.crawler = crawler
        self.limits = limits
        self.proxy_rates = proxy_rates
        self.bucket = TokenBucket(client, burst) if client is not None else None
        self.local = LocalTokenBucket(burst)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RateLimitMiddleware:
        settings = crawler.settings
        url = settings.get("WANGZI_REDIS_URL")
        if not url and not configured_proxies():
            raise NotConfigured  # no Redis, no proxy (no message: Scrapy would log a warning)
        limits = {str(k): float(v) for k, v in settings.getdict("WANGZI_RATE_LIMITS").items()} if url else {}
        proxy_rates = {str(k): float(v) for k, v in settings.getdict("WANGZI_PROXY_RATES").items()}
        return cls(crawler, redis_client(url) if url else None, limits, proxy_rates, settings.getfloat("WANGZI_RATE_BURST"))

    def rate_for(self, platform: str) -> float:
        return self.limits.get(platform, self.limits.get("*", 0.0))

    def proxy_rate_for(self, platform: str) -> float:
        return self.proxy_rates.get(platform, self.proxy_rates.get("*", 0.0))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        spider = self.crawler.spider
        platform = getattr(spider, "platform", None) or getattr(spider, "name", "unknown")
        wait = 0.0
        rate = self.rate_for(platform)
        if rate > 0 and self.bucket is not None:
            wait = self.bucket.take(platform, rate)
        if wait > 0:
            self.crawler.stats.inc_value("wangzi/rate_limit_wait_ms", int(wait * 1000))
            await asyncio.sleep(wait)
        proxy = request.meta.get("wangzi_proxy_name")
        proxy_rate = self.proxy_rate_for(platform)
        if proxy and proxy_rate > 0:
            key = proxy_rate_key(platform, proxy)
            if self.bucket is not None:
                proxy_wait = self.bucket.take(key, proxy_rate)
                if proxy_wait > 0:
                    await asyncio.sleep(proxy_wait)
            else:
                proxy_wait = await self.local.acquire(key, proxy_rate)
            self.crawler.stats.inc_value("wangzi/rate_limit_wait_ms", int(proxy_wait * 1000))
        return None


#: The name this middleware had before proxies (issue 7): settings that name it keep working.
RedisRateLimitMiddleware = RateLimitMiddleware
