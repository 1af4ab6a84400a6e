"""Core tables: candidates, their accounts, append-only snapshots, posts, runs and failures.

Counts are nullable everywhere: NULL means "not read", and no code path writes 0 for a
number it did not see. Snapshots are append-only: rows are inserted, never updated,
and a unique key on (account, crawl run, payload hash) makes re-running or resuming a
run idempotent.
"""

# No `from __future__ import annotations`: SQLModel needs real annotations for relationships.

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Candidate(SQLModel, table=True):
    """A person the talent team is considering."""

    id: Optional[int] = Field(default=None, primary_key=True)
    display_name: str = Field(index=True, max_length=200)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notes: Optional[str] = None
    active: bool = Field(default=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    accounts: list["Account"] = Relationship(back_populates="candidate")


class Account(SQLModel, table=True):
    """One candidate's account on one platform."""

    __table_args__ = (
        UniqueConstraint("platform", "platform_user_id", name="uq_account_platform_user_id"),
        UniqueConstraint("platform", "handle", name="uq_account_platform_handle"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    candidate_id: Optional[int] = Field(default=None, foreign_key="candidate.id", index=True)
    platform: str = Field(index=True, max_length=32)
    handle: Optional[str] = Field(default=None, max_length=200)
    platform_user_id: Optional[str] = Field(default=None, max_length=200)
    profile_url: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)

    candidate: Optional[Candidate] = Relationship(back_populates="accounts")


class CrawlRun(SQLModel, table=True):
    """One crawl: what started it, when, how it ended, per-platform counts."""

    id: Optional[int] = Field(default=None, primary_key=True)
    trigger: str = Field(max_length=16)  # scheduled | lookup | demo | manual
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: Optional[datetime] = None
    status: str = Field(default="running", max_length=16)  # running | finished | failed | interrupted
    # {"bilibili": {"requests": 10, "snapshots": 8, "posts": 0, "failures": {"blocked": 2}}}
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ProfileSnapshot(SQLModel, table=True):
    """What a platform said about an account at one moment. Append-only."""

    __table_args__ = (
        UniqueConstraint("account_id", "crawl_run_id", "payload_sha256", name="uq_snapshot_run_payload"),
        # "newest snapshot of this account at or before T" is one index seek (enrichment growth
        # windows); created by migration 0003_features.
        Index("ix_profilesnapshot_account_captured", "account_id", "captured_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    crawl_run_id: Optional[int] = Field(default=None, foreign_key="crawlrun.id", index=True)
    captured_at: datetime = Field(default_factory=utcnow, index=True)
    display_name: Optional[str] = None
    followers: Optional[int] = None
    following: Optional[int] = None
    posts: Optional[int] = None
    likes: Optional[int] = None
    views: Optional[int] = None
    verified: Optional[bool] = None
    verified_reason: Optional[str] = None
    bio: Optional[str] = None
    ip_location: Optional[str] = None
    location: Optional[str] = None
    country: Optional[str] = Field(default=None, max_length=2)
    joined_at: Optional[datetime] = None  # when the account was created, as the platform states it
    approximate: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    lower_bound: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source_url: str
    parser: str = Field(max_length=200)
    parser_version: str = Field(max_length=32)
    payload_sha256: str = Field(max_length=64)


class Post(SQLModel, table=True):
    """A recent post, video or live stream. One row per (platform, post id); counts move
    to :class:`PostSnapshot` so their history is kept."""

    __table_args__ = (UniqueConstraint("platform", "post_id", name="uq_post_platform_post_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    platform: str = Field(max_length=32)
    post_id: str = Field(max_length=200)
    kind: str = Field(default="post", max_length=16)
    url: Optional[str] = None
    published_at: Optional[datetime] = Field(default=None, index=True)
    title: Optional[str] = None
    text: Optional[str] = None
    first_seen_at: datetime = Field(default_factory=utcnow)


class PostSnapshot(SQLModel, table=True):
    """A post's counts as seen by one crawl run."""

    __table_args__ = (UniqueConstraint("post_id", "crawl_run_id", name="uq_postsnapshot_run"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    crawl_run_id: Optional[int] = Field(default=None, foreign_key="crawlrun.id")
    captured_at: datetime = Field(default_factory=utcnow)
    likes: Optional[int] = None
    comments: Optional[int] = None
    shares: Optional[int] = None
    views: Optional[int] = None
    approximate: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class AccountLink(SQLModel, table=True):
    """An external link shown on an account's profile (bio link, website, other socials)."""

    __table_args__ = (UniqueConstraint("account_id", "url", name="uq_accountlink_url"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    url: str
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)


class FetchFailure(SQLModel, table=True):
    """A typed failure: why a fetch produced no data.

    A platform failure names its account (``account_id``); a press feed failure (Google News
    or GDELT search, ``platform`` = the source) names the candidate whose aliases were
    searched (``candidate_id``, migration 0006) and no account.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    crawl_run_id: Optional[int] = Field(default=None, foreign_key="crawlrun.id", index=True)
    account_id: Optional[int] = Field(default=None, foreign_key="account.id", index=True)
    candidate_id: Optional[int] = Field(default=None, foreign_key="candidate.id", index=True)
    platform: str = Field(max_length=32, index=True)
    kind: str = Field(max_length=32, index=True)
    url: str
    http_status: Optional[int] = None
    detail: str = ""
    occurred_at: datetime = Field(default_factory=utcnow, index=True)
