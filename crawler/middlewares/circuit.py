"""A per-platform circuit breaker: stop asking a platform that keeps refusing us.

After ``WANGZI_CIRCUIT_THRESHOLD`` accounts in a row ended in a *refusal* (a typed failure
whose kind is in ``WANGZI_CIRCUIT_KINDS``: rate_limited, blocked, captcha by default) the
platform's circuit *opens*: for ``WANGZI_CIRCUIT_COOLDOWN`` seconds its requests are not
sent; each fails at once with :class:`CircuitOpen`, which the spider stores as a ``blocked``
failure with detail "circuit open ..." (so the accounts are retried on a later run instead of
hammering a platform that is banning us). After the cool-down the circuit is *half-open*:
requests go out again, and one more refusal re-opens it; a profile read closes it.

Every platform runs its own spider, so the other platforms of the same crawl carry on.
The breaker reads the parsers' typed verdicts (items leaving the pipelines), never raw
statuses, so a platform's own block codes (Bilibili -412, Weibo 432, Xiaohongshu 461, ...)
count exactly like HTTP 429. A failure of an account whose profile was still read in the
same chain (``FailureItem.profile_read``: e.g. TikTok's walled video list) is not a refusal.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

from records import CIRCUIT_DETAIL, Failure, FailureItem, FailureKind, ProfileItem

logger = logging.getLogger(__name__)


class CircuitOpen(IgnoreRequest):
    """The platform's circuit is open; carries the typed failure the spider stores."""

    def __init__(self, platform: str, seconds_left: float, refusals: int) -> None:
        detail = (f"{CIRCUIT_DETAIL}: {platform} refused {refusals} accounts in a row; "
                  f"not asking again for {seconds_left:.0f}s")
        super().__init__(detail)
        self.wangzi_failure = Failure(FailureKind.BLOCKED, detail)


@dataclass
class _State:
    refusals: int = 0  # consecutive accounts that ended refused
    open_until: float | None = None


class CircuitBreakerMiddleware:
    """Downloader middleware; also listens to ``item_scraped`` for the parsers' verdicts."""

    def __init__(self, crawler: Crawler, threshold: int, cooldown: float, kinds: set[str]) -> None:
        self.crawler = crawler
        self.threshold = threshold
        self.cooldown = cooldown
        self.kinds = kinds
        self.states: dict[str, _State] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CircuitBreakerMiddleware:
        settings = crawler.settings
        if not settings.getbool("WANGZI_CIRCUIT_ENABLED"):
            raise NotConfigured()
        threshold = settings.getint("WANGZI_CIRCUIT_THRESHOLD")
        if threshold <= 0:
            raise NotConfigured()
        kinds = {str(k).strip() for k in settings.getlist("WANGZI_CIRCUIT_KINDS")}
        middleware = cls(crawler, threshold, settings.getfloat("WANGZI_CIRCUIT_COOLDOWN"), kinds)
        crawler.signals.connect(middleware.item_scraped, signal=signals.item_scraped)
        return middleware

    def _platform(self, spider: Spider | None) -> str:
        spider = spider or self.crawler.spider
        return getattr(spider, "platform", None) or getattr(spider, "name", "unknown")

    # ------------------------------------------------------------------ requests

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        platform = self._platform(spider)
        state = self.states.get(platform)
        if state is None or state.open_until is None:
            return None
        left = state.open_until - time.monotonic()
        if left > 0:
            self.crawler.stats.inc_value("wangzi/circuit/refused_requests")
            raise CircuitOpen(platform, left, state.refusals)
        # Half-open: let requests through; the next refusal re-opens at once.
        state.open_until = None
        state.refusals = self.threshold - 1
        logger.info("%s circuit half-open: trying again", platform)
        return None

    # ------------------------------------------------------------------ verdicts

    def item_scraped(self, item: Any, response: Any = None, spider: Spider | None = None) -> None:
        platform = self._platform(spider)
        state = self.states.setdefault(platform, _State())
        if isinstance(item, ProfileItem):
            if state.refusals or state.open_until:
                logger.info("%s circuit closed: a profile was read", platform)
            state.refusals, state.open_until = 0, None
            return
        if not isinstance(item, FailureItem) or item.failure.detail.startswith(CIRCUIT_DETAIL):
            return
        if item.profile_read:  # only part of the account failed (e.g. its videos): not a refusal
            return
        if item.failure.kind.value not in self.kinds:
            return
        state.refusals += 1
        if state.refusals >= self.threshold and state.open_until is None:
            state.open_until = time.monotonic() + self.cooldown
            self.crawler.stats.inc_value("wangzi/circuit/opened")
            logger.warning("%s circuit open: %d refusals in a row (last: %s); pausing %s for %.0fs",
                           platform, state.refusals, item.failure.kind.value, platform, self.cooldown)
