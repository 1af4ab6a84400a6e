"""Taobao Live: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.taobao_live`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations



from records import AccountRef
from spiders.base import AccountSpider, Source
from spiders.pages.parsing import limit_posts
from spiders.youku import (
    abort_unneeded_requests,
)
from spiders.pages.taobao_live import (
    ANCHOR_ID,
    PARSER_VERSION,
    PLATFORM,
    PROFILE_URL,
    parse,
)


class TaobaoLiveSpider(AccountSpider):
    """Anchor pages through Chromium; read after the page's scripts have drawn the numbers."""

    name = "taobao_live"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["taobao.com"]
    custom_settings = {
        # Taobao's anti-bot (slider "punish" page) reacts to bursts: one page at a time, slowly.
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 5.0,
        "AUTOTHROTTLE_START_DELAY": 5.0,
        "PLAYWRIGHT_ABORT_REQUEST": abort_unneeded_requests,
    }

    def sources(self, account: AccountRef) -> list[Source]:
        anchor = account.platform_user_id
        if not anchor or not ANCHOR_ID.match(anchor):
            self.logger.warning("taobao_live account %r has no anchor id; skipped", account.handle)
            return []
        limit = self.settings.getint("WANGZI_RECENT_POSTS", 20) if hasattr(self, "settings") else 20
        return [
            Source(
                url=PROFILE_URL.format(anchor_id=anchor),
                parser=limit_posts(parse, limit),
                name="taobao_live.anchor_page",
                meta={
                    "playwright": True,
                    "playwright_include_page": False,
                    "playwright_context": "taobao_live",
                    "playwright_page_goto_kwargs": {"wait_until": "load"},
                },
            )
        ]
