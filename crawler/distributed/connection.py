"""The Redis client of the job queue and the shared rate limit."""

from __future__ import annotations

from typing import Any

from scrapy_redis.connection import get_redis


def redis_client(url: str) -> Any:
    """A client the way scrapy-redis makes one (``REDIS_URL``), checked with a ping, so an
    unreachable Redis fails at once with a clear message."""
    client = get_redis(url=url)
    client.ping()
    return client
