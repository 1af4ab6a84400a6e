"""YouTube: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.youtube`;
this module reads the Data API key (:func:`api_key`), builds the requests and hands the
responses to those parsers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from records import AccountRef, ParseResult, Profile
from spiders.base import PROFILE_FACTS, AccountSpider, Source
from spiders.credentials import get_secret
from spiders.pages.youtube import (
    ABOUT_URL,
    API_URL,
    CHANNEL_ID,
    CHANNEL_URL,
    CONSENT_COOKIES,
    DEFAULT_CLIENT_VERSION,
    HANDLE_URL,
    LEGACY_URL,
    PARSER_VERSION,
    PLATFORM,
    RSS_URL,
    about_continuation,
    about_request_body,
    parse,
    parse_about_panel,
    prefer_exact_counts,
)


#: The about panel's facts (country, links, joined date, total views): weekly (``details``).
#: Total views come only from it on the page path, so they are weekly there too.
ABOUT_FACTS = frozenset({"country", "links", "joined_at"})
POSTS_FACTS = frozenset({"recent_posts"})


def api_key() -> str | None:
    """``YOUTUBE_API_KEY`` from the environment or ``WANGZI_SECRETS_FILE``."""
    return (get_secret("YOUTUBE_API_KEY") or "").strip() or None


class YouTubeSpider(AccountSpider):
    """Data API (with a key), the channel page, its about panel, then the RSS feed of recent videos."""

    name = "youtube"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["youtube.com", "googleapis.com"]
    refresh_requests = {"profiles": 1, "details": 1, "posts": 1}  # channel page; about panel; RSS
    custom_settings = {
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 2.0,
        "AUTOTHROTTLE_START_DELAY": 2.0,
    }

    def sources(self, account: AccountRef) -> list[Source]:
        chain: list[Source] = []
        key = api_key()
        channel_id = account.platform_user_id
        handle = account.handle
        if key and (channel_id or (handle and "/" not in handle)):
            query = ("id", channel_id) if channel_id else ("forHandle", f"@{handle}")
            # The key travels in Google's X-Goog-Api-Key header, never in the URL: URLs are
            # stored with every snapshot and failure, headers are not.
            chain.append(
                Source(
                    url=API_URL.format(key=query[0], value=quote(query[1])),
                    parser=parse,
                    name="youtube.data_api",
                    headers={"X-Goog-Api-Key": key, "Accept": "application/json"},
                    facts=PROFILE_FACTS,
                )
            )
        if channel_id:
            page = CHANNEL_URL.format(channel_id=channel_id)
        elif handle and "/" in handle:
            kind, name = handle.split("/", 1)
            page = LEGACY_URL.format(kind=kind, name=name)
        elif handle:
            page = HANDLE_URL.format(handle=handle)
        else:
            return []
        chain.append(Source(url=page, parser=parse, name="youtube.channel_page", cookies=dict(CONSENT_COOKIES),
                            facts=PROFILE_FACTS))
        if channel_id:
            chain.append(self._rss_source(channel_id))
        return chain

    @staticmethod
    def _rss_source(channel_id: str) -> Source:
        return Source(url=RSS_URL.format(channel_id=channel_id), parser=parse, name="youtube.rss", cookies=dict(CONSENT_COOKIES),
                      facts=POSTS_FACTS)

    @staticmethod
    def _about_source(token: str, client_version: str | None) -> Source:
        return Source(
            url=ABOUT_URL,
            parser=parse_about_panel,
            name="youtube.about_panel",
            method="POST",
            body=about_request_body(token, client_version),
            headers={
                "Content-Type": "application/json",
                "X-YouTube-Client-Name": "1",  # WEB
                "X-YouTube-Client-Version": client_version or DEFAULT_CLIENT_VERSION,
            },
            cookies=dict(CONSENT_COOKIES),
            facts=ABOUT_FACTS,
        )

    def next_sources(
        self, account: AccountRef, source: Source, result: ParseResult, payload: bytes | None, remaining: list[Source]
    ) -> list[Source]:
        """After the channel page, its about panel (country, links, total views) comes next;
        once a profile names the channel id, the RSS feed is the chain's last step.

        A page without the panel's token asks nothing more (no failure: there is nothing to
        ask). Whatever the about panel answers never ends the chain: the page already showed
        the channel exists, and the page's profile is kept either way.
        """
        if source.name == "youtube.about_panel":
            remaining = list(remaining)
        else:
            remaining = super().next_sources(account, source, result, payload, remaining)
        if (
            source.name == "youtube.channel_page"
            and isinstance(result, Profile)
            and payload
            and not any(s.name == "youtube.about_panel" for s in remaining)
        ):
            found = about_continuation(payload)
            if found is not None:
                remaining = [self._about_source(*found), *remaining]
        if isinstance(result, Profile) and result.platform_user_id and not any(s.name == "youtube.rss" for s in remaining):
            if source.name != "youtube.rss" and CHANNEL_ID.match(result.platform_user_id):
                remaining = [*remaining, self._rss_source(result.platform_user_id)]
        return remaining

    def finish_account(self, account: AccountRef, results: list[tuple[Any, ...]]) -> Iterator[Any]:
        """As the base class, but an exact count beats a rounded one of an earlier source
        (:func:`prefer_exact_counts`): the about panel's "3,412 videos" over the header's "3.4K"."""
        profiles = prefer_exact_counts([r[1] for r in results if isinstance(r[1], Profile)])
        replaced = iter(profiles)
        results = [(r[0], next(replaced), *r[2:]) if isinstance(r[1], Profile) else r for r in results]
        yield from super().finish_account(account, results)
