"""Weibo search on m.weibo.cn: users and posts (the ``100103type`` search containers).

How answers are read is in :mod:`spiders.pages.weibo_search`; what every search spider shares
in :mod:`spiders.search`. The optional login cookie is the profile spider's
(``WANGZI_WEIBO_COOKIE``), read once and never logged.
"""

from __future__ import annotations

from urllib.parse import quote

from records.leads import SearchQuery
from spiders.base import Source
from spiders.credentials import cookie_dict
from spiders.pages.weibo_search import PARSER_VERSION, PLATFORM, SEARCH_TYPES, parse, search_url
from spiders.search import SearchSpider
from spiders.weibo import WeiboSpider, configured_cookie


class WeiboSearchSpider(SearchSpider):
    """m.weibo.cn user and post search, one request at a time, as slowly as the profile spider."""

    name = "weibo_search"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["m.weibo.cn"]
    custom_settings = dict(WeiboSpider.custom_settings)

    _cookie: str | None | bool = False  # False: not read yet

    def login_cookie(self) -> str | None:
        if self._cookie is False:
            try:
                self._cookie = configured_cookie()
            except (OSError, ValueError) as exc:
                self.logger.error("WANGZI_WEIBO_COOKIE_FILE not used (%s: %s); searching without a login cookie",
                                  type(exc).__name__, getattr(exc, "strerror", None) or exc)
                self._cookie = None
        return self._cookie  # type: ignore[return-value]

    def search_source(self, query: SearchQuery, page: str | None) -> Source | None:
        containerid = quote(f"100103type={SEARCH_TYPES[query.kind]}&q={query.text}", safe="")
        cookie = self.login_cookie()
        return Source(
            url=search_url(query.kind, query.text, int(page or 1)),
            parser=parse,
            name=f"{self.name}.{query.kind}",
            headers={"Referer": f"https://m.weibo.cn/search?containerid={containerid}",
                     "X-Requested-With": "XMLHttpRequest", "MWeibo-Pwa": "1"},
            cookies=cookie_dict(cookie) if cookie else None,
        )
