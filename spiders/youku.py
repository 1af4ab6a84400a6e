"""Youku: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.youku`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations

from records import AccountRef
from spiders.base import Source
from spiders.pages.youku import PARSER_VERSION, PLATFORM, PROFILE_URL, UID, parse
from spiders.playwright_spider import PlaywrightSpider


class YoukuSpider(PlaywrightSpider):
    """Creator pages through Chromium; the page is read after its scripts have drawn the numbers."""

    name = "youku"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["youku.com"]
    page_delay = 3.0
    # The numbers are drawn by scripts: wait until the page has loaded.
    wait_until = "load"

    def sources(self, account: AccountRef) -> list[Source]:
        uid = account.platform_user_id
        if not uid or not UID.match(uid):
            self.logger.warning("youku account %r has no uid; skipped", account.handle)
            return []
        return [self.page_source(PROFILE_URL.format(uid=uid), "youku.profile_page", parse)]
