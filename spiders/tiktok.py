"""TikTok: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.tiktok`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from records import CIRCUIT_DETAIL, AccountRef, Failure, FailureKind, ParseResult, Profile
from spiders.base import AccountSpider, Source
from spiders.pages.parsing import limit_posts
from spiders.pages.payload import clean_text
from spiders.pages.tiktok import PAGE_URL, PARSER_VERSION, PLATFORM, account_parser, item_list_url, profile_user

#: Failures that say nothing about what TikTok answered (the request never got a page).
_NO_ANSWER = frozenset({FailureKind.NETWORK, FailureKind.HTTP_ERROR})


def _page_verdict(outcomes: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The plain request and Chromium both failed on the profile page: one outcome naming both.

    Chromium's verdict wins when it got an answer from TikTok; when it got none (a download
    error, or the circuit breaker stopped it), the plain request's verdict stands."""
    plain, browser = outcomes[0], outcomes[-1]
    no_answer = browser[1].kind in _NO_ANSWER or browser[1].detail.startswith(CIRCUIT_DETAIL)
    kept = plain if no_answer else browser
    detail = f"plain request: {plain[1].detail}; Chromium: {browser[1].detail}"
    failure = Failure(kept[1].kind, detail[:300], kept[1].status)
    return (kept[0], failure, kept[2], kept[3])


class TikTokSpider(AccountSpider):
    """The profile page, plain first; through Playwright when the plain answer is a bot wall;
    then the account's recent videos from ``api/post/item_list``.

    The plain request is cheap and usually carries the rehydration JSON. When TikTok answers
    an empty page or a challenge instead (``blocked``), the chain's second source asks for the
    same page with ``meta={"playwright": True}`` so a real Chromium runs TikTok's scripts.

    Once a profile is read, its ``secUid`` names the item_list request (``WANGZI_RECENT_POSTS``
    videos, at most 35; none when the setting is 0, the account is private, shows 0 videos or
    the page already carried its videos). A walled item_list (an empty 200, the usual answer
    to an unsigned request) is stored as a ``blocked`` failure of that URL *and* the profile
    snapshot is stored as usual. The failure carries ``profile_read=True``, so the circuit
    breaker does not count it: an account whose profile was read is never a refused account.
    """

    name = "tiktok"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["tiktok.com"]
    refresh_requests = {"profiles": 1, "posts": 1}  # the page; item_list when the page carries no videos
    custom_settings = {
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 5.0,
        "AUTOTHROTTLE_START_DELAY": 5.0,
    }

    PROFILE_SOURCES = ("tiktok.profile_page", "tiktok.profile_page_browser")
    ITEM_LIST_SOURCE = "tiktok.item_list"

    def sources(self, account: AccountRef) -> list[Source]:
        if not account.handle:
            self.logger.warning("tiktok account %r has no username; skipped", account.platform_user_id)
            return []
        url = PAGE_URL.format(handle=account.handle.lower())
        parser = limit_posts(account_parser(account.handle.lower()), max(self.recent_posts, 0))
        return [
            Source(url=url, parser=parser, name="tiktok.profile_page"),
            Source(
                url=url,
                parser=parser,
                name="tiktok.profile_page_browser",
                meta={"playwright": True, "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded"}},
            ),
        ]

    def item_list_source(self, account: AccountRef, profile: Profile, payload: bytes | None) -> Source | None:
        """The item_list request for an account whose profile was just read, or None when
        there is nothing to ask (see the class docstring)."""
        limit = self.recent_posts
        user = profile_user(payload)
        sec_uid = clean_text(user.get("secUid"))
        if limit <= 0 or not sec_uid or user.get("privateAccount") is True or profile.posts == 0 or profile.recent_posts:
            return None
        handle = profile.handle or (account.handle or "").lower() or None
        return Source(
            url=item_list_url(sec_uid, limit),
            parser=limit_posts(account_parser(handle), limit),
            name=self.ITEM_LIST_SOURCE,
            facts=frozenset({"recent_posts"}),
            headers={"Accept": "application/json", "Referer": PAGE_URL.format(handle=handle)} if handle else {},
        )

    def next_sources(
        self, account: AccountRef, source: Source, result: ParseResult, payload: bytes | None, remaining: list[Source]
    ) -> list[Source]:
        """The browser is the fallback: only a bot wall (blocked, captcha or an unreadable page)
        sends the chain on to it. A profile ends the page sources and asks for the videos."""
        if source.name == self.ITEM_LIST_SOURCE:
            return []
        if isinstance(result, Failure) and result.detail.startswith(CIRCUIT_DETAIL):
            return []  # the breaker would refuse Chromium's request to the same platform too
        if isinstance(result, Profile):
            videos = self.item_list_source(account, result, payload)
            return [videos] if videos is not None else []
        blocked = isinstance(result, Failure) and result.kind in (FailureKind.BLOCKED, FailureKind.CAPTCHA, FailureKind.UNRECOGNIZED)
        if not blocked:
            return []
        return [s for s in super().next_sources(account, source, result, payload, remaining) if s.name != self.ITEM_LIST_SOURCE]

    def finish_account(self, account: AccountRef, results: list[tuple[Any, ...]]) -> Iterator[Any]:
        """A bot wall the browser got past is not a failure of the account; a wall both times
        is *one* failure (the storage keeps one row per URL and kind, and the circuit breaker
        counts refused accounts, not requests); a walled item_list is a failure of the videos
        only (see the class docstring)."""
        page_failures = [r for r in results if isinstance(r[1], Failure) and r[0].name in self.PROFILE_SOURCES]
        others = [r for r in results if r not in page_failures]
        if any(isinstance(r[1], Profile) for r in results):
            page_failures = []
        elif len(page_failures) > 1:
            page_failures = [_page_verdict(page_failures)]
        yield from super().finish_account(account, page_failures + others)
