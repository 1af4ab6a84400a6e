"""Taobao Live: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.taobao_live`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations

from records import AccountRef
from spiders.base import Source
from spiders.pages.taobao_live import ANCHOR_ID, PARSER_VERSION, PLATFORM, PROFILE_URL, parse
from spiders.playwright_spider import PlaywrightSpider


class TaobaoLiveSpider(PlaywrightSpider):
    """Anchor pages through Chromium; read after the page's scripts have drawn the numbers."""

    name = "taobao_live"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["taobao.com"]
    # Taobao's anti-bot (slider "punish" page) reacts to bursts: one page at a time, slowly.
    page_delay = 5.0
    wait_until = "load"

    def sources(self, account: AccountRef) -> list[Source]:
        anchor = account.platform_user_id
        if not anchor or not ANCHOR_ID.match(anchor):
            self.logger.warning("taobao_live account %r has no anchor id; skipped", account.handle)
            return []
        return [self.page_source(PROFILE_URL.format(anchor_id=anchor), "taobao_live.anchor_page", parse)]
