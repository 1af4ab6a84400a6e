"""The shared rate limits: token buckets in Redis, on Redis's clock, so every worker on every
machine draws from the same bucket; one per platform (``WANGZI_RATE_LIMITS``) and one per
proxy and platform (``WANGZI_PROXY_RATES``, key ``<platform>:proxy:<name>``).
:class:`LocalTokenBucket` is the same bucket in one process, for crawls without Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


def rate_key(platform: str) -> str:
    return f"wangzi:rate:{platform}"


#: Token bucket with reservations: take one token (the balance may go negative) and return
#: how long the caller must wait for it, in seconds, as a string (Lua numbers are truncated
#: to integers when returned). ARGV: rate per second, burst. Counts grants per second of
#: their send time under KEYS[2]:<second> for measuring the real rate across workers.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + (now - ts) * rate) - 1
local wait = 0
if tokens < 0 then wait = -tokens / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 60)
local second = KEYS[2] .. ':' .. math.floor(now + wait)
redis.call('INCR', second)
redis.call('EXPIRE', second, 86400)
return tostring(wait)
"""


class TokenBucket:
    """``take`` reserves the next request slot of a platform and says how many seconds to
    wait for it (Redis's clock, so every machine agrees). ``burst``: requests that may leave
    at once after a quiet period (``WANGZI_RATE_BURST``)."""

    def __init__(self, client: Any, burst: float) -> None:
        self.client = client
        self.burst = max(float(burst), 1.0)
        self._take = client.register_script(_TAKE)

    def take(self, platform: str, rate: float) -> float:
        if rate <= 0:
            return 0.0
        return float(self._take(keys=[rate_key(platform), rate_key(platform) + ":sent"], args=[rate, self.burst]))


class LocalTokenBucket:
    """A token bucket within one process (``time.monotonic``), for proxies' rates when no Redis
    is configured. Unlike the Redis bucket it does not hand out reservations: waiters queue on
    a lock per key (first come, first served) and each takes its token when it leaves, so a
    request that was held up (the event loop busy writing to the database) never goes out
    together with the ones queued behind it: the sends themselves are spaced."""

    def __init__(self, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = max(float(burst), 1.0)
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self.locks: dict[str, asyncio.Lock] = {}
        self.sent: dict[str, int] = {}

    async def acquire(self, key: str, rate: float) -> float:
        """Wait for a token of ``key`` at ``rate`` per second; returns the seconds waited."""
        if rate <= 0:
            return 0.0
        waited = 0.0
        async with self.locks.setdefault(key, asyncio.Lock()):
            while True:
                now = self.clock()
                tokens, at = self.buckets.get(key, (self.burst, now))
                tokens = min(self.burst, tokens + (now - at) * rate)
                if tokens >= 1:
                    self.buckets[key] = (tokens - 1, now)
                    self.sent[key] = self.sent.get(key, 0) + 1
                    return waited
                self.buckets[key] = (tokens, now)
                pause = (1 - tokens) / rate
                waited += pause
                await asyncio.sleep(pause)


def proxy_rate_key(platform: str, proxy: str) -> str:
    """The bucket of one proxy on one platform (``wangzi:rate:<platform>:proxy:<name>``)."""
    return f"{platform}:proxy:{proxy}"


def measured_rate(client: Any, platform: str, start: float, end: float) -> tuple[int, float]:
    """Requests granted by the shared limiter for sends in whole seconds [start, end)
    and their rate per second."""
    seconds = list(range(int(start), int(end)))
    if not seconds:
        return 0, 0.0
    values = client.mget([f"{rate_key(platform)}:sent:{s}" for s in seconds])
    total = sum(int(v) for v in values if v is not None)
    return total, total / len(seconds)


def busiest_second(client: Any, platform: str, start: float, end: float) -> int:
    seconds = list(range(int(start), int(end) + 1))
    values = client.mget([f"{rate_key(platform)}:sent:{s}" for s in seconds]) if seconds else []
    return max((int(v) for v in values if v is not None), default=0)
