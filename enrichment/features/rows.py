"""The plain rows every feature is computed from, and the few rules all families read them by.

The rows are what the enrichment stage (:mod:`enrichment.stage`) loads from storage, and what
the known-answer tests build by hand: nothing in :mod:`enrichment.features` needs a database.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from records import PLATFORMS as PLATFORM_TABLE

#: Every platform, in the order of records' platform table: the order of per-platform columns.
PLATFORMS: tuple[str, ...] = tuple(PLATFORM_TABLE)
#: Posts published within this many days before ``as_of`` are "recent".
RECENT_DAYS = 180


@dataclass(frozen=True)
class SnapshotRow:
    """One profile snapshot of one account (the fields features read)."""

    account_id: int
    platform: str
    captured_at: datetime
    followers: int | None = None
    approximate: tuple[str, ...] = ()
    lower_bound: tuple[str, ...] = ()
    ip_location: str | None = None
    location: str | None = None
    country: str | None = None
    id: int | None = None

    @property
    def rounded(self) -> bool:
        """The follower count was rounded display text (1.2万) or a lower bound (10万+)."""
        return "followers" in self.approximate or "followers" in self.lower_bound


class FollowerCount(NamedTuple):
    """One follower count of one account: the suspicious-growth detector reads every one of
    the last months (:mod:`enrichment.features.authenticity`), so it is a plain tuple."""

    account_id: int
    captured_at: datetime
    followers: int
    rounded: bool = False  # rounded display text (1.2万) or a lower bound (10万+)


class DailyFollowers(NamedTuple):
    """One account's daily follower series as the suspicious-growth detector reads it: the UTC
    days (``date.toordinal()``, ascending) with an exact count, and each day's last count
    (numpy int64 arrays: a full enrich judges months of days for every account)."""

    days: Any
    followers: Any


@dataclass(frozen=True)
class PostRow:
    """A post with its newest counts at or before ``as_of``."""

    account_id: int
    platform: str
    published_at: datetime | None
    text: str | None = None
    title: str | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    first_seen_at: datetime | None = None
    url: str | None = None
    post_id: str = ""
    id: int | None = None  # the stored post's row id (its kept text analysis is keyed by it)

    # Derived once at construction: every feature reads them, some several times.
    when: datetime | None = field(init=False, compare=False, repr=False)
    content: str = field(init=False, compare=False, repr=False)
    engagement: int | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Publication time; the first time we saw the post when the platform gave none.
        when = self.published_at or self.first_seen_at
        object.__setattr__(self, "when", utc(when) if when is not None else None)
        object.__setattr__(self, "content", "\n".join(part for part in (self.title, self.text) if part))
        # likes + comments + shares over the counts the platform showed; None if it showed none.
        counts = [c for c in (self.likes, self.comments, self.shares) if c is not None]
        object.__setattr__(self, "engagement", sum(counts) if counts else None)


@dataclass(frozen=True)
class PressRow:
    """An overseas press mention (from ``storage.models.PressMention``)."""

    published_at: datetime | None
    canonical_url: str | None = None
    outlet_domain: str | None = None
    country: str | None = None
    language: str | None = None
    confidence: float | None = None
    status: str = "confirmed"
    title: str | None = None


@dataclass
class CandidateInput:
    """Everything the features of one candidate are computed from.

    ``press`` is None when no press search ran for this candidate: press features are then
    NULL, not 0.
    """

    candidate_id: int
    snapshots: list[SnapshotRow] = field(default_factory=list)
    posts: list[PostRow] = field(default_factory=list)
    press: list[PressRow] | None = None
    accounts: dict[int, str] = field(default_factory=dict)  # account id -> platform
    #: Every follower count of the accounts over the detection window (``authenticity.DETECTION_DAYS``
    #: before as_of), for the suspicious-growth detector; None when not loaded: it then reads ``snapshots``.
    follower_history: list[FollowerCount] | None = None
    #: The same counts already reduced to each account's daily series (what the enrichment stage
    #: loads: ``authenticity.daily_series``); when set, ``follower_history`` is not read.
    follower_daily: dict[int, DailyFollowers] | None = None
    #: The detector's verdicts on these series, when already made for many candidates at once
    #: (``authenticity.assess_many``, account id -> verdict): then not made again.
    growth_verdicts: dict[int, Any] | None = None


# --------------------------------------------------------------------------- rules shared by the families


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC time (naive times are UTC, as the database stores them)."""
    if value.tzinfo is timezone.utc:  # what the database layer returns: the common, fast case
        return value
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def in_days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400.0


def median(values: Iterable[float | int | None]) -> float | None:
    """The median of the values that are known; None when none is."""
    present = [v for v in values if v is not None]
    return float(statistics.median(present)) if present else None


def share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def snapshots_by_account(snapshots: Iterable[SnapshotRow], as_of: datetime) -> dict[int, list[SnapshotRow]]:
    """Each account's snapshots at or before ``as_of``, oldest first."""
    grouped: dict[int, list[SnapshotRow]] = defaultdict(list)
    for row in snapshots:
        if utc(row.captured_at) <= as_of:
            grouped[row.account_id].append(row)
    for rows in grouped.values():
        rows.sort(key=lambda r: (utc(r.captured_at), r.id or 0))
    return grouped


def posts_by_account(posts: Iterable[PostRow]) -> dict[int, list[PostRow]]:
    """The posts of each account, in the order given (only accounts with a post)."""
    grouped: dict[int, list[PostRow]] = defaultdict(list)
    for post in posts:
        grouped[post.account_id].append(post)
    return grouped


def recent_posts(posts: Iterable[PostRow], as_of: datetime, days: int = RECENT_DAYS) -> list[PostRow]:
    """Posts published in the ``days`` before ``as_of``."""
    start = as_of - timedelta(days=days)
    return [p for p in posts if p.when is not None and start < utc(p.when) <= as_of]
