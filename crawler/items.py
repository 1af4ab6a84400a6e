"""Typed records that parsers return and Scrapy items that spiders yield.

Parsers (pure functions in ``spiders/<platform>.py``) return one of the *records*
(:class:`Profile`, :class:`PostPage`, :class:`Failure`). Spiders wrap a record in an
*item* (:class:`ProfileItem`, :class:`PostsItem`, :class:`FailureItem`; the press spider's
:class:`FeedFailureItem` for a news feed that failed) together with its provenance, and
the pipelines validate and store items. Keeping the two apart is what lets ``wangzi parse``
and the fixture tests run a parser with no crawler at all.

Every count is ``int | None``: ``None`` means "not read", never zero.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Union


class FailureKind(str, enum.Enum):
    """Why a fetch produced no data. Stored as text in ``FetchFailure.kind``."""

    RATE_LIMITED = "rate_limited"
    BLOCKED = "blocked"
    CAPTCHA = "captcha"
    LOGIN_REQUIRED = "login_required"
    NOT_FOUND = "not_found"
    PRIVATE = "private"
    UNRECOGNIZED = "unrecognized"
    HTTP_ERROR = "http_error"
    NETWORK = "network"


@dataclass(frozen=True)
class Failure:
    """A typed answer of "no data": what happened and a short human detail."""

    kind: FailureKind
    detail: str = ""
    status: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"error": self.kind.value, "detail": self.detail, "status": self.status}


class ParseError(Exception):
    """Raised inside parsers for input they cannot read; turned into ``Failure`` at the edge."""

    def __init__(self, kind: FailureKind, detail: str, status: int | None = None) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.failure = Failure(kind, detail, status)


#: Count fields of a profile, in output order. ``approximate`` and ``lower_bound`` name these.
COUNT_FIELDS: tuple[str, ...] = ("followers", "following", "posts", "likes", "views")


@dataclass(frozen=True)
class Post:
    """One recent post, video or live stream. Counts are ``None`` when not shown."""

    platform: str
    post_id: str
    url: str | None = None
    published_at: datetime | None = None  # timezone-aware UTC
    text: str | None = None
    title: str | None = None  # videos and live streams
    kind: str = "post"  # post | video | live
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    approximate: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["published_at"] = _iso(self.published_at)
        data["approximate"] = list(self.approximate)
        return data


@dataclass(frozen=True)
class Profile:
    """What one platform says about one account at one moment."""

    platform: str
    platform_user_id: str | None = None
    handle: str | None = None  # without "@"
    display_name: str | None = None
    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    likes: int | None = None
    views: int | None = None
    verified: bool | None = None
    verified_reason: str | None = None
    bio: str | None = None
    ip_location: str | None = None  # place name, without the "IP属地：" prefix
    location: str | None = None  # self-declared location text, when the platform has one
    country: str | None = None  # ISO 3166-1 alpha-2
    joined_at: datetime | None = None  # when the account was created, as the platform states it (UTC)
    approximate: tuple[str, ...] = ()  # count fields read from rounded display text
    lower_bound: tuple[str, ...] = ()  # count fields that are lower bounds ("10万+")
    links: tuple[str, ...] = ()  # external links shown on the profile (bio links, websites)
    recent_posts: tuple[Post, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The object ``wangzi parse`` prints (documented in README)."""
        return {
            "platform": self.platform,
            "platform_user_id": self.platform_user_id,
            "handle": self.handle,
            "display_name": self.display_name,
            "followers": self.followers,
            "following": self.following,
            "posts": self.posts,
            "likes": self.likes,
            "views": self.views,
            "verified": self.verified,
            "verified_reason": self.verified_reason,
            "bio": self.bio,
            "ip_location": self.ip_location,
            "location": self.location,
            "country": self.country,
            "joined_at": _iso(self.joined_at),
            "approximate": list(self.approximate),
            "lower_bound": list(self.lower_bound),
            "links": list(self.links),
            "recent_posts": [p.to_json() for p in self.recent_posts],
        }


@dataclass(frozen=True)
class PostPage:
    """A page of posts with no profile numbers (e.g. Weibo's ``107603{uid}`` container)."""

    platform: str
    platform_user_id: str | None = None
    posts: tuple[Post, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "platform_user_id": self.platform_user_id,
            "posts": [p.to_json() for p in self.posts],
        }


#: What every platform parser returns.
ParseResult = Union[Profile, PostPage, Failure]


def merge_profiles(profiles: list[Profile]) -> Profile:
    """Combine what several endpoints said about one account into one profile.

    Earlier profiles win field by field (spiders list their most trusted source first);
    a value from a later source fills only what earlier ones left ``None``. The
    ``approximate`` and ``lower_bound`` flags follow the value that was kept.
    """
    if not profiles:
        raise ValueError("merge_profiles needs at least one profile")
    values: dict[str, Any] = {}
    approx: set[str] = set()
    lower: set[str] = set()
    links: list[str] = []
    posts: dict[str, Post] = {}
    scalar_fields = [
        f.name
        for f in dataclasses.fields(Profile)
        if f.name not in {"approximate", "lower_bound", "links", "recent_posts"}
    ]
    for profile in profiles:
        for name in scalar_fields:
            value = getattr(profile, name)
            if values.get(name) is None and value is not None:
                values[name] = value
                if name in profile.approximate:
                    approx.add(name)
                if name in profile.lower_bound:
                    lower.add(name)
        links.extend(link for link in profile.links if link not in links)
        for post in profile.recent_posts:
            posts.setdefault(post.post_id, post)
    return Profile(
        **values,
        approximate=tuple(sorted(approx)),
        lower_bound=tuple(sorted(lower)),
        links=tuple(links),
        recent_posts=tuple(posts.values()),
    )


# --------------------------------------------------------------------------- items


@dataclass
class Provenance:
    """Where a record came from: enough to find and re-parse the raw payload."""

    source_url: str
    parser: str  # e.g. "bilibili.card"
    parser_version: str
    payload_sha256: str
    captured_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    http_status: int | None = None

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
    #: stored like any failure, but the account was not refused (crawler/circuit.py).
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


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
