"""Youku: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.youku`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations



from records import AccountRef
from spiders.base import AccountSpider, Source
from spiders.pages.parsing import limit_posts
from spiders.pages.youku import (
    PARSER_VERSION,
    PLATFORM,
    PROFILE_URL,
    UID,
    abort_unneeded_requests,
    parse,
)


# --------------------------------------------------------------------------- spider


class YoukuSpider(AccountSpider):
    """Creator pages through Chromium; the page is read after its scripts have drawn the numbers."""

    name = "youku"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["youku.com"]
    custom_settings = {
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 3.0,
        "AUTOTHROTTLE_START_DELAY": 3.0,
        "PLAYWRIGHT_ABORT_REQUEST": abort_unneeded_requests,
    }

    def sources(self, account: AccountRef) -> list[Source]:
        uid = account.platform_user_id
        if not uid or not UID.match(uid):
            self.logger.warning("youku account %r has no uid; skipped", account.handle)
            return []
        limit = self.settings.getint("WANGZI_RECENT_POSTS", 20) if hasattr(self, "settings") else 20
        return [
            Source(
                url=PROFILE_URL.format(uid=uid),
                parser=limit_posts(parse, limit),
                name="youku.profile_page",
                meta={
                    "playwright": True,
                    "playwright_include_page": False,
                    "playwright_context": "youku",
                    # The numbers are drawn by scripts: wait until the network is quiet.
                    "playwright_page_goto_kwargs": {"wait_until": "load"},
                },
            )
        ]
