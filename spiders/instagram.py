"""Instagram: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.instagram`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations

from records import AccountRef, ParseResult, Profile
from spiders.base import AccountSpider, Source
from spiders.pages.instagram import API_URL, PAGE_URL, PARSER_VERSION, PLATFORM, WEB_APP_ID, parse


# --------------------------------------------------------------------------- spider


class InstagramSpider(AccountSpider):
    """``web_profile_info`` first; the profile page only when the API gave no counts."""

    name = "instagram"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["instagram.com"]
    custom_settings = {
        # Instagram answers 401 "Please wait a few minutes" to bursts from one IP.
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 6.0,
        "AUTOTHROTTLE_START_DELAY": 6.0,
        # A 429 asks to wait minutes; retrying it seconds later (the project default
        # retries 429 twice) is refused again, so it goes straight to the page fallback.
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408],
    }

    def sources(self, account: AccountRef) -> list[Source]:
        if not account.handle:
            self.logger.warning("instagram account %r has no username; skipped", account.platform_user_id)
            return []
        handle = account.handle.lower()
        return [
            Source(
                url=API_URL.format(handle=handle),
                parser=parse,
                name="instagram.web_profile_info",
                headers={"x-ig-app-id": WEB_APP_ID, "Accept": "application/json"},
            ),
            Source(url=PAGE_URL.format(handle=handle), parser=parse, name="instagram.profile_page"),
        ]

    def next_sources(
        self, account: AccountRef, source: Source, result: ParseResult, payload: bytes | None, remaining: list[Source]
    ) -> list[Source]:
        """The page is a fallback: once a source gave the follower count, the chain ends."""
        if isinstance(result, Profile) and result.followers is not None:
            return []
        return super().next_sources(account, source, result, payload, remaining)
