"""The proxy pool: which proxy a request of a platform goes out through, and each proxy's
health per platform.

Per (proxy, platform) the pool keeps consecutive refusals (typed failures ``blocked``,
``captcha``, ``rate_limited``, a proxy's own 403/407/429, a connection it reset or refused),
and after ``threshold`` in a row *quarantines* the proxy for that platform: it is not chosen
for ``cooldown * 2**(n-1)`` seconds (n: its quarantines so far, capped by ``max_cooldown``).
An answer read through it (a profile, ``not_found`` ...) resets the count. Other platforms
keep using the proxy: a ban is per platform.

With a Redis client the quarantines are shared by every worker (``wangzi:proxy:<platform>``,
a hash of proxy name -> until, on Redis's clock), so a proxy one worker saw banned is left
alone by all. The request rate per proxy and platform is held by
:class:`crawler.middlewares.rate_limit.RateLimitMiddleware`.

Proxy URLs may hold credentials: the pool hands them only to Scrapy's ``meta["proxy"]``;
everything it logs, counts or stores names a proxy by :attr:`ProxyConfig.name`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from spiders.credentials import ProxyConfig

logger = logging.getLogger(__name__)


def quarantine_key(platform: str) -> str:
    return f"wangzi:proxy:{platform}"


@dataclass
class ProxyState:
    """One proxy's health on one platform."""

    refusals: int = 0  # consecutive
    quarantines: int = 0
    until: float = 0.0  # quarantined until (time.time())
    requests: int = 0
    answered: int = 0
    refused: int = 0
    last_failure: str | None = None
    last_failure_at: float | None = None
    last_ok_at: float | None = None
    changed: bool = field(default=True, repr=False)


class ProxyPool:
    """Chooses proxies (least used first among the healthy ones) and keeps their health."""

    def __init__(self, proxies: list[ProxyConfig], *, threshold: int, cooldown: float, max_cooldown: float,
                 redis: Any = None, clock: Callable[[], float] = time.time) -> None:
        self.proxies = {p.name: p for p in proxies}
        self.threshold = max(int(threshold), 1)
        self.cooldown = float(cooldown)
        self.max_cooldown = float(max_cooldown)
        self.redis = redis
        self.clock = clock
        self.states: dict[tuple[str, str], ProxyState] = {}
        self._shared: dict[str, dict[str, float]] = {}
        self._synced: dict[str, float] = {}

    def state(self, name: str, platform: str) -> ProxyState:
        return self.states.setdefault((name, platform), ProxyState())

    # ------------------------------------------------------------------ choosing

    def _shared_until(self, platform: str) -> dict[str, float]:
        if self.redis is None:
            return {}
        now = self.clock()
        if now - self._synced.get(platform, 0.0) >= 1.0:
            raw = self.redis.hgetall(quarantine_key(platform))
            self._shared[platform] = {k.decode() if isinstance(k, bytes) else k: float(v) for k, v in raw.items()}
            self._synced[platform] = now
        return self._shared.get(platform, {})

    def usable(self, name: str, platform: str) -> bool:
        now = self.clock()
        if self.state(name, platform).until > now:
            return False
        return self._shared_until(platform).get(name, 0.0) <= now

    def choose(self, platform: str, avoid: Collection[str] = ()) -> ProxyConfig | None:
        """The least-used healthy proxy for ``platform`` not in ``avoid``; None when none is."""
        candidates = [name for name in self.proxies if name not in avoid and self.usable(name, platform)]
        if not candidates:
            return None
        name = min(candidates, key=lambda n: self.state(n, platform).requests)
        self.state(name, platform).requests += 1
        return self.proxies[name]

    def next_release(self, platform: str) -> float | None:
        """When the first quarantined proxy of ``platform`` is usable again."""
        shared = self._shared_until(platform)
        times = [max(self.state(n, platform).until, shared.get(n, 0.0)) for n in self.proxies]
        future = [t for t in times if t > self.clock()]
        return min(future) if future else None

    # ------------------------------------------------------------------ verdicts

    def answered(self, name: str, platform: str) -> None:
        state = self.state(name, platform)
        state.answered += 1
        state.refusals = 0
        state.last_ok_at = self.clock()
        state.changed = True

    def refused(self, name: str, platform: str, kind: str) -> bool:
        """Count a refusal; True when it put the proxy in quarantine."""
        state = self.state(name, platform)
        now = self.clock()
        state.refused += 1
        state.refusals += 1
        state.last_failure, state.last_failure_at, state.changed = kind, now, True
        if state.refusals < self.threshold or state.until > now:
            return False
        state.quarantines += 1
        seconds = min(self.cooldown * 2 ** (state.quarantines - 1), self.max_cooldown)
        state.until = now + seconds
        state.refusals = 0
        if self.redis is not None:
            self.redis.hset(quarantine_key(platform), name, state.until)
            self.redis.expire(quarantine_key(platform), int(self.max_cooldown) + 60)
            self._synced.pop(platform, None)
        logger.warning("proxy %s quarantined for %s: %d refusals in a row (last: %s); not used for %s for %.0fs",
                       name, platform, self.threshold, kind, platform, seconds)
        return True

    def changed_states(self) -> list[tuple[str, str, ProxyState]]:
        """States changed since the last call (to persist them)."""
        out = [(name, platform, state) for (name, platform), state in self.states.items() if state.changed]
        for _, _, state in out:
            state.changed = False
        return out
