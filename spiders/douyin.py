"""Douyin: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.douyin`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations

from records import AccountRef
from spiders.base import Source
from spiders.pages.douyin import PARSER_VERSION, PLATFORM, PROFILE_URL, SEC_UID, parse
from spiders.playwright_spider import PlaywrightSpider


class DouyinSpider(PlaywrightSpider):
    """Profiles through Chromium: the page's RENDER_DATA is the source (the signed API is not
    called by us)."""

    name = "douyin"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["douyin.com"]

    def sources(self, account: AccountRef) -> list[Source]:
        sec_uid = account.platform_user_id
        if not sec_uid or not SEC_UID.match(sec_uid):
            self.logger.warning("douyin account %r has no sec_uid; skipped", account.handle)
            return []
        return [self.page_source(PROFILE_URL.format(sec_uid=sec_uid), "douyin.profile_page", parse)]
