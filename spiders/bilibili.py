"""Bilibili: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.bilibili`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Request, Response
from twisted.python.failure import Failure as TwistedFailure

from records import AccountRef, ParseResult, Profile, profile_url
from spiders.base import HANDLED_STATUSES, AccountSpider, Source
from spiders.pages.bilibili import (
    ACC_INFO_URL,
    CARD_URL,
    NAV_URL,
    PARSER_VERSION,
    PLATFORM,
    RELATION_STAT_URL,
    parse,
    signed_url,
    wbi_keys_from_nav,
)


#: What each endpoint gives (spiders.base.FACT_KINDS). The card alone carries every daily
#: fact; relation/stat and the signed acc/info are its fallbacks.
CARD_FACTS = frozenset({"followers", "following", "posts", "likes", "display_name", "bio", "verified"})
RELATION_STAT_FACTS = frozenset({"followers", "following"})
ACC_INFO_FACTS = frozenset({"display_name", "bio", "verified"})


class BilibiliSpider(AccountSpider):
    """Per account: the user card; relation stat and WBI-signed space info only when the card
    gave no follower count (a refusal, an error, a changed answer).

    The card answer carries followers, following, videos, likes, name, bio and verification,
    so one request per account is the rule (plus nav once per crawl). The WBI keys come from
    ``x/web-interface/nav``, asked once before any account and kept for the whole crawl
    (Bilibili rotates them about daily). If nav fails, acc/info is left out of the fallbacks
    (a warning says so).
    """

    name = "bilibili"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["api.bilibili.com"]
    refresh_requests = {"profiles": 1}  # the card (nav once per crawl, not per account)
    custom_settings = {
        # api.bilibili.com answers -412/-799 to bursts from one IP: two at a time, ~1 s apart.
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 1.0,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        # Every callback yields one request or one item, except the nav prelude (all account
        # requests, which only need scheduling). Scrapy starts CONCURRENT_ITEMS asyncio tasks
        # per callback output (100 by default) to process it; with one element that is pure
        # overhead, measured at ~25% of crawl time (benchmarks/crawl_throughput.py).
        "CONCURRENT_ITEMS": 1,
    }

    wbi_keys: tuple[str, str] | None = None

    async def start(self) -> AsyncIterator[Any]:
        yield Request(
            NAV_URL,
            headers=self.site_headers(None),
            callback=self._on_nav,
            errback=self._on_nav_error,
            dont_filter=True,
            meta={"handle_httpstatus_list": HANDLED_STATUSES, "wangzi_source": "bilibili.nav"},
        )

    def _on_nav(self, response: Response) -> Iterator[Request]:
        self.wbi_keys = wbi_keys_from_nav(response.body)
        if self.wbi_keys is None:
            self.logger.warning(
                "bilibili nav (HTTP %s) gave no WBI keys: x/space/wbi/acc/info skipped (the card, and "
                "relation/stat when the card fails, are still asked)", response.status,
            )
        yield from self.account_requests()

    def _on_nav_error(self, failure: TwistedFailure) -> Iterator[Request]:
        self.logger.warning(
            "bilibili nav failed (%s): x/space/wbi/acc/info skipped (the card, and relation/stat when the "
            "card fails, are still asked)",
            failure.getErrorMessage()[:200],
        )
        yield from self.account_requests()

    @staticmethod
    def site_headers(mid: str | None) -> dict[str, str]:
        """Referer/Origin as the web pages send them (space pages for account calls)."""
        if mid is None:
            return {"Referer": "https://www.bilibili.com/", "Origin": "https://www.bilibili.com"}
        space = profile_url(AccountRef(platform=PLATFORM, platform_user_id=mid))
        return {"Referer": f"{space}/", "Origin": "https://space.bilibili.com"}

    def sources(self, account: AccountRef) -> list[Source]:
        mid = account.platform_user_id
        if not mid:
            self.logger.warning("bilibili account %r has no mid; skipped", account.handle)
            return []
        headers = self.site_headers(mid)
        chain = [
            Source(url=CARD_URL.format(mid=mid), parser=parse, name="bilibili.card", headers=headers, facts=CARD_FACTS),
            Source(url=RELATION_STAT_URL.format(mid=mid), parser=parse, name="bilibili.relation_stat", headers=headers,
                   facts=RELATION_STAT_FACTS),
        ]
        if self.wbi_keys is not None:
            img_key, sub_key = self.wbi_keys
            chain.append(Source(
                url=signed_url(ACC_INFO_URL, {"mid": mid}, img_key, sub_key),
                parser=parse, name="bilibili.acc_info", headers=headers, facts=ACC_INFO_FACTS,
            ))
        return chain

    def next_sources(
        self, account: AccountRef, source: Source, result: ParseResult, payload: bytes | None, remaining: list[Source]
    ) -> list[Source]:
        """The card answered with a follower count: its fallbacks are not asked."""
        if source.name == "bilibili.card" and isinstance(result, Profile) and result.followers is not None:
            return []
        return super().next_sources(account, source, result, payload, remaining)
