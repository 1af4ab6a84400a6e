"""Bilibili search: users and videos (``x/web-interface/wbi/search/type``), WBI-signed.

How answers are read is in :mod:`spiders.pages.bilibili_search`; what every search spider
shares (order, budget, walls, hops) in :mod:`spiders.search`. Like the profile spider, this
one asks ``x/web-interface/nav`` once for the WBI keys (a request of the budget); without
keys no search is asked (each would be refused) and the nav failure is stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

from scrapy.http import Request, Response
from twisted.python.failure import Failure as TwistedFailure

from records import Failure, FailureKind
from records.leads import SearchFailureItem, SearchQuery
from spiders.base import HANDLED_STATUSES, Source, failure_from_exception
from spiders.bilibili import BilibiliSpider
from spiders.pages.bilibili import NAV_URL, wbi_keys_from_nav
from spiders.pages.bilibili import parse as parse_profile_answer
from spiders.pages.bilibili_search import PARSER_VERSION, PLATFORM, buvid3, parse, search_url
from spiders.search import SearchSpider


class BilibiliSearchSpider(SearchSpider):
    """Bilibili user and video search, one request at a time, after nav (WBI keys)."""

    name = "bilibili_search"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["api.bilibili.com"]
    custom_settings = dict(BilibiliSpider.custom_settings)

    wbi_keys: tuple[str, str] | None = None
    _buvid3: str | None = None

    async def start(self) -> AsyncIterator[Any]:
        if not self.spend():
            return
        yield Request(NAV_URL, headers=BilibiliSpider.site_headers(None), callback=self._on_nav, errback=self._on_nav_error,
                      dont_filter=True, meta={"handle_httpstatus_list": HANDLED_STATUSES, "wangzi_source": "bilibili.nav"})

    def _on_nav(self, response: Response) -> Iterator[Any]:
        self.wbi_keys = wbi_keys_from_nav(response.body)
        if self.wbi_keys is None:
            answered = parse_profile_answer(response.body, NAV_URL, response.status)
            failure = answered if isinstance(answered, Failure) and answered.kind is not FailureKind.LOGIN_REQUIRED else Failure(
                FailureKind.UNRECOGNIZED, "nav gave no WBI keys: searches not asked (they need the signature)", response.status)
            yield SearchFailureItem(source=self.name, url=NAV_URL, failure=failure)
            return
        request = self.next_request()
        if request is not None:
            yield request

    def _on_nav_error(self, failure: TwistedFailure) -> Iterator[Any]:
        yield SearchFailureItem(source=self.name, url=NAV_URL, failure=failure_from_exception(failure))

    def search_source(self, query: SearchQuery, page: str | None) -> Source | None:
        if self.wbi_keys is None:
            return None
        if self._buvid3 is None:
            self._buvid3 = buvid3()
        img_key, sub_key = self.wbi_keys
        return Source(
            url=search_url(query.kind, query.text, int(page or 1), img_key, sub_key),
            parser=parse,
            name=f"{self.name}.{query.kind}",
            headers={"Referer": f"https://search.bilibili.com/all?keyword={quote(query.text, safe='')}",
                     "Origin": "https://search.bilibili.com"},
            cookies={"buvid3": self._buvid3},
        )
