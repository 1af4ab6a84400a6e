"""Douyin: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.douyin`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations

from typing import Any

from records import AccountRef
from spiders.base import AccountSpider, Source
from spiders.pages.parsing import limit_posts
from spiders.pages.douyin import (
    PARSER_VERSION,
    PLATFORM,
    PROFILE_URL,
    SEC_UID,
    parse,
)


# --------------------------------------------------------------------------- spider


def _abort_unneeded_requests(request: Any) -> bool:
    return request.resource_type in {"image", "media", "font", "stylesheet", "texttrack", "manifest"}


class DouyinSpider(AccountSpider):
    """Profiles through Chromium: the page's RENDER_DATA is the source (the signed API is not
    called by us). Pages are closed by scrapy-playwright once their HTML is read."""

    name = "douyin"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["douyin.com"]
    custom_settings = {
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 5.0,
        "AUTOTHROTTLE_START_DELAY": 5.0,
        "PLAYWRIGHT_ABORT_REQUEST": _abort_unneeded_requests,
    }

    def sources(self, account: AccountRef) -> list[Source]:
        sec_uid = account.platform_user_id
        if not sec_uid or not SEC_UID.match(sec_uid):
            self.logger.warning("douyin account %r has no sec_uid; skipped", account.handle)
            return []
        limit = self.settings.getint("WANGZI_RECENT_POSTS", 20) if hasattr(self, "settings") else 20
        return [
            Source(
                url=PROFILE_URL.format(sec_uid=sec_uid),
                parser=limit_posts(parse, limit),
                name="douyin.profile_page",
                meta={
                    "playwright": True,
                    "playwright_include_page": False,
                    "playwright_context": "douyin",
                    "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded"},
                },
            )
        ]
