"""Xiaohongshu search in Chromium: the search page, whose own scripts sign the search calls.

How the page is read is in :mod:`spiders.pages.xiaohongshu_search`; what every search spider
shares in :mod:`spiders.search`. One page visit per query gives both its notes (whose authors
are hits) and its users: the page script (``SNAPSHOT_SCRIPT``) opens the user tab and copies
both result lists into the page. Politeness and aborted resources are the browser spiders'
(:mod:`spiders.playwright_spider`): one page at a time, ``XiaohongshuSpider.page_delay``
seconds apart. The optional login cookie is the profile spider's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from scrapy_playwright.page import PageMethod

from records.leads import SearchQuery
from spiders.base import Source
from spiders.credentials import cookie_dict
from spiders.pages.xiaohongshu_search import PARSER_VERSION, PLATFORM, SNAPSHOT_SCRIPT, parse, search_page_url
from spiders.playwright_spider import abort_unneeded_requests
from spiders.search import SearchSpider
from spiders.xiaohongshu import XiaohongshuSpider, configured_cookie


class XiaohongshuSearchSpider(SearchSpider):
    """The search page per query, rendered by Chromium; notes and users from one visit."""

    name = "xiaohongshu_search"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["xiaohongshu.com"]
    page_delay: ClassVar[float] = XiaohongshuSpider.page_delay
    custom_settings: ClassVar[dict[str, Any]] = {
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": page_delay,
        "AUTOTHROTTLE_START_DELAY": page_delay,
        "PLAYWRIGHT_ABORT_REQUEST": abort_unneeded_requests,
    }

    _cookie: str | None | bool = False

    def login_cookie(self) -> str | None:
        if self._cookie is False:
            try:
                self._cookie = configured_cookie()
            except (OSError, ValueError) as exc:
                self.logger.error("WANGZI_XIAOHONGSHU_COOKIE_FILE not used (%s: %s); searching without a login cookie",
                                  type(exc).__name__, getattr(exc, "strerror", None) or exc)
                self._cookie = None
        return self._cookie  # type: ignore[return-value]

    def search_source(self, query: SearchQuery, page: str | None) -> Source | None:
        if page is not None:  # the page shows one screen of results: there is no next page to ask
            return None
        cookie = self.login_cookie()
        return Source(
            url=search_page_url(query.text),
            parser=parse,
            name=f"{self.name}.page",
            cookies=cookie_dict(cookie) if cookie else None,
            meta={
                "playwright": True,
                "playwright_include_page": False,
                "playwright_context": self.name,
                "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded"},
                "playwright_page_methods": [PageMethod("evaluate", SNAPSHOT_SCRIPT)],
            },
        )

    def enqueue(self, query: SearchQuery) -> None:
        """A users and a posts query of the same text are one page visit."""
        if query.kind == "users" and ("posts", query.text.casefold()) in self._asked:
            return
        if query.kind == "posts" and ("users", query.text.casefold()) in self._asked:
            return
        super().enqueue(query)
