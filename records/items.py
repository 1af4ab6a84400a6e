"""Items: a record together with the account it is about and where it came from.

Spiders wrap a parser's record in an item (:class:`ProfileItem`, :class:`PostsItem`,
:class:`FailureItem`; the press spider's :class:`FeedFailureItem` and
:class:`PressMentionItem`), and the item pipelines validate and store them. Keeping items
apart from records is what lets ``wangzi parse`` and the fixture tests run a parser with no
crawler at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

from records.failures import Failure
from records.profiles import Post, Profile

@dataclass
class Provenance:
    """Where a record came from: enough to find and re-parse the raw payload."""

    source_url: str
    parser: str  # e.g. "bilibili.card"
    parser_version: str
    payload_sha256: str
    captured_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    http_status: int | None = None
    #: Set by ``wangzi reparse``: the archived answer (``archivecapture`` id) this record was
    #: re-read from by today's parser; None for what a crawl read.
    reparse_of: int | None = None

    @classmethod
    def of(
        cls, url: str, parser: str, parser_version: str, payload: bytes, status: int | None = None
    ) -> "Provenance":
        return cls(
            source_url=url,
            parser=parser,
            parser_version=parser_version,
            payload_sha256=hashlib.sha256(payload).hexdigest(),
            http_status=status,
        )


@dataclass
class AccountRef:
    """The account a request was made for, as the spider knew it."""

    platform: str
    handle: str | None = None
    platform_user_id: str | None = None
    account_id: int | None = None  # storage.Account.id when crawled from the database


@dataclass
class ProfileItem:
    account: AccountRef
    profile: Profile
    provenance: Provenance


@dataclass
class PostsItem:
    account: AccountRef
    posts: tuple[Post, ...]
    provenance: Provenance


@dataclass
class FailureItem:
    account: AccountRef
    failure: Failure
    url: str
    occurred_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    #: The account's profile was still read in the same chain (only e.g. its posts failed):
    #: stored like any failure, but the account was not refused (crawler/middlewares/circuit.py).
    profile_read: bool = False


#: The press feeds a :class:`FeedFailureItem` can name (``FetchFailure.platform``).
FEED_SOURCES: tuple[str, ...] = ("google_news", "gdelt")


@dataclass
class FeedFailureItem:
    """A press feed search (Google News RSS, GDELT) that gave a typed failure instead of a list.

    Not a :class:`FailureItem`: it names the candidate whose aliases were searched, not an
    account, so the circuit breaker (which counts refused *accounts*) and the account
    statistics leave it alone. Stored as a ``FetchFailure`` with ``platform`` = ``source``,
    ``candidate_id`` set and no account (``storage.writer.write_feed_failure``).
    """

    candidate_id: int
    source: str  # one of FEED_SOURCES
    url: str
    failure: Failure
    occurred_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass
class PressMentionItem:
    """One article for one candidate, confirmed or not (stored as ``storage.models.PressMention``)."""

    candidate_id: int
    source: str
    url: str
    canonical_url: str
    status: str  # confirmed | unconfirmed
    outlet_domain: str | None = None
    outlet_name: str | None = None
    country: str | None = None
    language: str | None = None
    published_at: datetime | None = None
    title: str | None = None
    matched_alias: str | None = None
    snippet: str | None = None
    confidence: float | None = None
    parser_version: str | None = None  # the press parsers' version (spiders.pages.press_search.PARSER_VERSION)
    detail: str | None = None  # why it stayed unconfirmed (not stored)
    page_read: bool = False  # canonical_url is the article page's own (not stored)
