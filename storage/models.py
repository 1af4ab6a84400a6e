"""Every table: candidates, their accounts, append-only snapshots, posts, runs and failures,
press mentions, feature snapshots, crawl leases and lookup jobs. Queries live in the modules
named for what they read and write (``candidates``, ``snapshots``, ``runs``, ``leases`` ...).

Counts are nullable everywhere: NULL means "not read", and no code path writes 0 for a
number it did not see. Snapshots are append-only: rows are inserted, never updated,
and a unique key on (account, crawl run, payload hash) makes re-running or resuming a
run idempotent.
"""

# No `from __future__ import annotations`: SQLModel needs real annotations for relationships.

from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, UniqueConstraint, event, func, text
from sqlmodel import Field, Relationship, SQLModel

from storage.names import alias_search_keys, search_key


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_naive_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=None) if value.tzinfo else value


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Candidate(SQLModel, table=True):
    """A person the talent team is considering."""

    id: Optional[int] = Field(default=None, primary_key=True)
    display_name: str = Field(index=True, max_length=200)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notes: Optional[str] = None
    active: bool = Field(default=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # What the candidate is found by (storage.names.search_key: case- and Unicode-form-blind,
    # the same on SQLite and PostgreSQL), kept from display_name and aliases on every insert
    # and update (the listener below; migration 0011 filled existing rows). alias_keys holds
    # each alias's key between line feeds ("\nkey\n...").
    name_key: str = Field(default="", index=True)
    alias_keys: str = ""
    # Set while the candidate is merged into another one (migration 0017_curation): the
    # candidate that holds its accounts, mentions and history now (storage/curation.py). A merged
    # candidate is inactive and found by no name; undoing the merge clears it.
    # Not indexed: few candidates are merged, and an index on it would lure SQLite's planner
    # (no statistics) away from name_key for "name_key = ? AND merged_into_id IS NULL".
    merged_into_id: Optional[int] = None

    accounts: list["Account"] = Relationship(back_populates="candidate")


@event.listens_for(Candidate, "before_insert")
@event.listens_for(Candidate, "before_update")
def _keep_search_keys(_mapper: Any, _connection: Any, candidate: Candidate) -> None:
    """Every way a candidate is written (add_candidate, the service, a test's session.add)
    keeps its search keys."""
    candidate.name_key = search_key(candidate.display_name or "")
    candidate.alias_keys = alias_search_keys(candidate.aliases)


class Account(SQLModel, table=True):
    """One candidate's account on one platform."""

    __table_args__ = (
        UniqueConstraint("platform", "platform_user_id", name="uq_account_platform_user_id"),
        UniqueConstraint("platform", "handle", name="uq_account_platform_handle"),
        # Handles are found blind to case (storage.candidates.find_account): one index seek
        # per handle, also for a batch of imported rows (migration 0017_curation). The handle
        # alone: SQLite (without ANALYZE statistics) prefers the unique (platform, handle)
        # index - a scan of the platform's accounts - to any index that also starts with platform.
        Index("ix_account_lower_handle", func.lower(text("handle"))),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    candidate_id: Optional[int] = Field(default=None, foreign_key="candidate.id", index=True)
    platform: str = Field(index=True, max_length=32)
    handle: Optional[str] = Field(default=None, max_length=200)
    platform_user_id: Optional[str] = Field(default=None, max_length=200)
    # The platform's second id for the account (Douyin's numeric uid beside the sec_uid, TikTok's
    # secUid beside the numeric id), learnt from its profiles (migration 0013).
    other_user_id: Optional[str] = Field(default=None, max_length=200)
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
    # Who runs it, "host:pid:token" (migration 0009): a running run whose process is gone is
    # interrupted (storage/runs.py interrupt_dead_runs).
    owner: Optional[str] = Field(default=None, max_length=200)
    # Stamped every RUN_HEARTBEAT by a crawl that beats (crawler/runner.py); NULL for runs that
    # never beat, which only their process's disappearance on this host interrupts.
    heartbeat_at: Optional[datetime] = None


class ProfileSnapshot(SQLModel, table=True):
    """What a platform said about an account at one moment. Append-only."""

    __table_args__ = (
        # The parser version is part of the key (migration 0014): `wangzi reparse` appends, to the
        # run that captured an answer, what today's parser reads from it; the same answer read by
        # the same version is still stored once.
        UniqueConstraint("account_id", "crawl_run_id", "payload_sha256", "parser_version",
                         name="uq_snapshot_run_payload_version"),
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
    # Set on the rows `wangzi reparse` appends: the archived answer (archivecapture.id) today's
    # parser re-read (the first one a merged profile was read from); NULL for what a crawl read.
    reparse_of: Optional[int] = Field(default=None, foreign_key="archivecapture.id", index=True)


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


# --------------------------------------------------------------------------- press
# One row per (candidate, canonical article URL), found by the press spider. A row is written
# when a feed (Google News, GDELT) lists an article for one of the candidate's aliases.
# ``status`` says whether the article's own title or main text names the candidate
# (``confirmed``) or not (``unconfirmed``: kept as a lead, never counted). ``confidence``
# follows the rule in ``enrichment/press.py`` (docs/press.md). Idempotent across runs and
# sources: the unique key is (candidate_id, canonical_url); a later sighting fills fields still
# empty and may promote ``unconfirmed`` to ``confirmed``, never the reverse, and never changes
# ``first_seen_at``.

CONFIRMED = "confirmed"
UNCONFIRMED = "unconfirmed"


class PressMention(SQLModel, table=True):
    """An article that (maybe) names a candidate."""

    __table_args__ = (
        UniqueConstraint("candidate_id", "canonical_url", name="uq_pressmention_candidate_canonical_url"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    source: str = Field(max_length=32)  # google_news | gdelt (the first feed that listed it)
    url: str  # the URL the feed gave (a Google link when it could not be resolved)
    canonical_url: str = Field(max_length=2000)
    outlet_domain: Optional[str] = Field(default=None, max_length=255, index=True)
    outlet_name: Optional[str] = Field(default=None, max_length=255)
    country: Optional[str] = Field(default=None, max_length=2, index=True)  # ISO 3166-1 alpha-2
    language: Optional[str] = Field(default=None, max_length=8)  # ISO 639-1
    published_at: Optional[datetime] = Field(default=None, index=True)
    title: Optional[str] = None
    matched_alias: Optional[str] = Field(default=None, max_length=200)
    snippet: Optional[str] = None
    confidence: Optional[float] = None
    status: str = Field(default=UNCONFIRMED, max_length=16, index=True)  # confirmed | unconfirmed
    parser_version: Optional[str] = Field(default=None, max_length=16)
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)

    @property
    def overseas(self) -> Optional[bool]:
        """True when the outlet's country is known and is not mainland China."""
        return None if self.country is None else self.country != "CN"


# --------------------------------------------------------------------------- features
# One FeatureSnapshot row per candidate per enrich run that found new data for them.
# ``features`` holds every feature (``docs/features.md`` lists them, column by column); the most
# used ones are also real columns so SQL and the ``candidate_features_latest`` view can filter
# and sort on them. Feature values are never changed after insert, except the ``earliness_*``
# features, which compare a candidate's first brand mentions with the cohort's.
# The cohort-relative ranking of a row (indices, coverages, scores, tier, reference, top
# contributors, ``ranked_at``) is its FeatureRanking row, rewritten whenever an enrich run
# changes the cohort: kept apart so that a re-rank rewrites ~2 KB a row, not the ~8 KB of the
# feature row with its document (migration 0024).
# ``max_snapshot_id`` / ``max_post_snapshot_id`` / ``max_press_id`` are the newest source rows
# the features saw: ``wangzi enrich`` only recomputes candidates with newer rows.

#: Name of the SQL view holding the newest FeatureSnapshot of every candidate.
LATEST_VIEW = "candidate_features_latest"


class FeatureSnapshot(SQLModel, table=True):
    """A candidate's features and indices as computed at ``computed_at`` for time ``as_of``."""

    __table_args__ = (Index("ix_featuresnapshot_candidate_as_of", "candidate_id", "as_of"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    computed_at: datetime = Field(default_factory=utcnow)
    as_of: datetime
    schema_version: str = Field(max_length=16)
    features: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

    followers_total: Optional[int] = None
    followers_domestic: Optional[int] = None
    followers_overseas: Optional[int] = None
    overseas_share: Optional[float] = None
    growth_30d_rel: Optional[float] = None
    engagement_median: Optional[float] = None
    posts_per_week: Optional[float] = None
    foreign_language_share: Optional[float] = None
    brands_distinct: Optional[int] = None
    brand_countries_distinct: Optional[int] = None
    press_365d: Optional[int] = None
    growth_authenticity: Optional[float] = None
    # Lists the review desk filters on, as the JSON text of the list (migration 0020): the
    # growth flags, and the union of the IP and declared countries.
    growth_flags_text: Optional[str] = None
    countries_text: Optional[str] = None

    max_snapshot_id: Optional[int] = None
    max_post_snapshot_id: Optional[int] = None
    max_press_id: Optional[int] = None

    # The row's ranking (cohort-relative): its FeatureRanking row, read with it.
    ranking: Optional["FeatureRanking"] = Relationship(
        back_populates="snapshot",
        sa_relationship_kwargs={"uselist": False, "lazy": "joined", "cascade": "all, delete-orphan",
                                "passive_deletes": True})


class FeatureRanking(SQLModel, table=True):
    """A feature row's ranking: where its features put the candidate in the cohort, or against a
    frozen reference (``enrichment/cohort_scores.py``). One row per feature row, written with it
    (unranked, or ranked already when it has nothing to rank) and replaced by every ranking
    that moves it; deleted with it. The small columns come first and the contributors last, so
    that reading a row's marks (reference, digest) never reads its contributors' text."""

    snapshot_id: int = Field(sa_column=Column(Integer, ForeignKey("featuresnapshot.id", ondelete="CASCADE"),
                                              primary_key=True, autoincrement=False))
    ranked_at: Optional[datetime] = Field(default=None, index=True)  # max(): the desk's live-cohort mark, one seek
    # The reference the percentiles were taken against ("cohort" or "NAME@vN", migration 0010).
    reference: Optional[str] = Field(default=None, max_length=80)
    # What the ranking was computed from besides the row's own features (percentiles,
    # earliness, reference, weights, scoring code; migration 0023): unchanged, it is not redone.
    ranking_digest: Optional[str] = Field(default=None, max_length=32)
    tier: Optional[str] = Field(default=None, max_length=16)  # the candidate's follower tier

    leadership_index: Optional[float] = None
    sales_driving_index: Optional[float] = None
    influence_index: Optional[float] = None
    composite_index: Optional[float] = None
    leadership_coverage: Optional[float] = None
    sales_driving_coverage: Optional[float] = None
    influence_coverage: Optional[float] = None
    composite_coverage: Optional[float] = None
    # Coverage-aware scores (what the ranking sorts by), migration 0010.
    leadership_score: Optional[float] = None
    sales_driving_score: Optional[float] = None
    influence_score: Optional[float] = None
    composite_score: Optional[float] = None
    # {"leadership": [{"component": ..., "value": ..., "percentile": ..., "weight": ..., "points": ...}], ...}
    top_contributors: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

    snapshot: Optional[FeatureSnapshot] = Relationship(back_populates="ranking")


class FollowerSeries(SQLModel, table=True):
    """One account's daily follower series: per UTC day its last exact follower count, with
    that count's capture time and snapshot id (``storage/follower_series.py``, migration 0021).
    A cache of the append-only profile snapshots, kept up to date by enrich, that can always be
    rebuilt from them (delete the rows): the suspicious-growth detector reads 16,000 of these
    instead of millions of snapshots."""

    account_id: int = Field(foreign_key="account.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    # Folded in: every snapshot of the account with an id up to through_id that was captured
    # after complete_after_us (microseconds since 1970-01-01 UTC, as is newest_us).
    through_id: int = Field(sa_type=BigInteger)
    complete_after_us: int = Field(sa_type=BigInteger)
    newest_us: Optional[int] = Field(default=None, sa_type=BigInteger)  # the newest capture folded in
    # Little-endian int64, four rows of one column per day: days (date.toordinal()), counts,
    # capture times (microseconds), snapshot ids; ascending by day.
    series: bytes = Field(sa_type=LargeBinary)
    updated_at: datetime = Field(default_factory=utcnow)


class PostTextAnalysis(SQLModel, table=True):
    """What one post's text says (language, keyword groups, brands, foreign places,
    disclosures), as enrich's analysis made it (``storage/post_analyses.py``, migration 0022).
    A cache: a post's text is written once, and its analysis depends only on that text and on
    the analyser (dictionaries and code, named by ``analyser``), so enrich analyses each post
    once instead of 80,000 texts on every full run. Delete the rows to have them made again."""

    post_id: int = Field(foreign_key="post.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    analyser: str = Field(max_length=16)  # enrichment.features.content.analyser_fingerprint()
    text_digest: str = Field(max_length=16)  # enrichment.features.content.text_digest() of title and body
    analysis: str  # enrichment.features.content.encode_analysis(): compact JSON
    analysed_at: datetime = Field(default_factory=utcnow)


class RankingInput(SQLModel, table=True):
    """The features ranking reads of one feature row, in the ranking's compact form
    (``storage/ranking_inputs.py``, migration 0023), under ``names_key``: which features those
    are. A cache of the row's document, kept by the ranking (and rewritten with the document
    when its earliness changes); deleting the rows loses nothing. Deleted with its row."""

    snapshot_id: int = Field(sa_column=Column(Integer, ForeignKey("featuresnapshot.id", ondelete="CASCADE"),
                                              primary_key=True, autoincrement=False))
    computed_at: datetime  # the feature row's: a kept view is used only for the row it was made of
    names_key: str = Field(max_length=16)  # enrichment.ranking_inputs.names_key()
    inputs: str  # compact JSON


class FeatureReference(SQLModel, table=True):
    """A frozen reference: the cohort's distribution of every index component (per tier group
    where ranked within tiers), the tier edges, and each brand's first mentions, as
    ``wangzi reference freeze`` stored them. Indices computed against it do not move when
    other candidates join. Versions count up per name from 1."""

    __table_args__ = (UniqueConstraint("name", "version", name="uq_featurereference_name_version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    version: int
    created_at: datetime = Field(default_factory=utcnow)
    as_of: Optional[datetime] = None  # the newest time the frozen feature rows describe
    cohort_size: int = 0
    weights_source: Optional[str] = Field(default=None, max_length=500)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# --------------------------------------------------------------------------- operations
# A Lease row exists per (platform, subject): the subject is an account id for the social
# platforms, a candidate id for ``press``. It remembers when each kind of data (``profiles``,
# ``posts``, ``press``) was last refreshed and, while a crawl holds it, who holds it and until
# when (storage/leases.py claims and settles them).

class Lease(SQLModel, table=True):
    """Refresh state of one account (or, for press, one candidate) and who is crawling it."""

    __table_args__ = (UniqueConstraint("platform", "subject_id", name="uq_lease_platform_subject"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32, index=True)
    subject_id: int = Field(index=True)  # account.id; candidate.id for platform "press"
    owner: Optional[str] = Field(default=None, max_length=200, index=True)  # "host:pid:token" while held
    run_id: Optional[int] = Field(default=None, foreign_key="crawlrun.id")
    acquired_at: Optional[datetime] = None
    expires_at: Optional[datetime] = None
    version: int = 0
    kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # kinds being refreshed
    # {"profiles": "2026-11-25T07:00:00+00:00", "posts": ...}: when each kind was last refreshed
    refreshed: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    not_before: Optional[datetime] = None  # after a transient failure: not due before this
    last_outcome: Optional[str] = Field(default=None, max_length=32)  # snapshot | <failure kind> | nothing


class CandidateMerge(SQLModel, table=True):
    """A person's decision that two candidates are one: ``source`` was merged into ``target``
    (migration 0017_curation; storage/curation.py). ``moved`` names every row that moved, by
    table and id, so undoing the merge moves exactly those rows back; rows the target already
    had an equal of (the same article, the same outcome period) stayed with the source and are
    not listed. Never deleted: an undone merge keeps its row with ``undone_at`` set."""

    id: Optional[int] = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="candidate.id", index=True)
    target_id: int = Field(foreign_key="candidate.id", index=True)
    merged_at: datetime = Field(default_factory=utcnow)
    merged_by: Optional[str] = Field(default=None, max_length=200)
    note: Optional[str] = None
    # {"account": [3, 4], "pressmention": [...], ...}: the rows that moved to the target
    moved: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The source's name and aliases the target gained as aliases, and whether the source was active
    added_aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source_was_active: bool = True
    undone_at: Optional[datetime] = None
    undone_by: Optional[str] = Field(default=None, max_length=200)
    # {"account": [...]}: rows that no longer belonged to the target when the merge was undone
    # (moved on since, by a person), left where they were
    left: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class LookupJob(SQLModel, table=True):
    """An on-demand lookup requested over HTTP (``POST /lookups``)."""

    id: str = Field(primary_key=True, max_length=36)
    status: str = Field(default="queued", max_length=16, index=True)  # queued | running | finished | failed
    candidate_id: Optional[int] = Field(default=None, foreign_key="candidate.id", index=True)
    platforms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    run_id: Optional[int] = Field(default=None, foreign_key="crawlrun.id")
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: Optional[str] = None


# --------------------------------------------------------------------------- outcomes
# What the marketplace measured for a candidate over a period (its affiliate or order data),
# imported by ``wangzi outcomes import`` (storage/outcomes.py) and read by ``wangzi evaluate``
# (enrichment/calibration.py), which checks the indices against them. One row per (candidate,
# period): a later import of the same period replaces the values it gives and keeps the others.


class Outcome(SQLModel, table=True):
    """A candidate's measured outcomes over one period; NULL = in no imported file."""

    __table_args__ = (UniqueConstraint("candidate_id", "period", name="uq_outcome_candidate_period"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    # Canonical text (storage.outcomes.parse_period): 2026, 2026-Q3, 2026-10, 2026-W41,
    # 2026-10-05 or 2026-10-01/2026-10-31; period_end is inclusive.
    period: str = Field(max_length=32)
    period_start: date
    period_end: date
    orders: Optional[int] = None
    gmv: Optional[float] = None
    clicks: Optional[int] = None
    conversions: Optional[int] = None
    source: Optional[str] = Field(default=None, max_length=200)  # the file of the last import that touched it
    imported_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- raw archive, drift, probes
# Issue 16 items 4-6. Every answer a crawl receives is kept in WARC files
# (crawler/middlewares/archive.py, crawler/warc.py); ``archivecapture`` indexes them by the
# payload hash snapshots carry, so ``wangzi reparse`` can run today's parsers over them.
# ``driftcapture`` keeps answers a parser did not recognise (``wangzi drift``, ``wangzi fixtures
# add``); ``proberesult`` is what each ``wangzi health --probe`` found per platform.


class ArchiveCapture(SQLModel, table=True):
    """One archived answer: what it answered, and where its WARC record is."""

    __table_args__ = (Index("ix_archivecapture_run_platform", "crawl_run_id", "platform"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    crawl_run_id: Optional[int] = Field(default=None, foreign_key="crawlrun.id")
    captured_at: datetime = Field(default_factory=utcnow, index=True)
    platform: str = Field(max_length=32, index=True)  # the spider: a platform, or "press"
    # The request's place in an account's chain (spiders.base.Source.name, "bilibili.card") and
    # the account it was for; NULL for requests outside a chain (Bilibili's nav, robots.txt, press).
    source: Optional[str] = Field(default=None, max_length=200)
    account_id: Optional[int] = Field(default=None, foreign_key="account.id")
    handle: Optional[str] = Field(default=None, max_length=200)
    platform_user_id: Optional[str] = Field(default=None, max_length=200)
    method: str = Field(default="GET", max_length=16)
    url: str  # the real URL (also under replay), secret parameters redacted
    http_status: int
    content_type: Optional[str] = Field(default=None, max_length=200)
    size: int  # bytes of the payload as the parser saw it
    # sha256 of that payload before redaction: the hash the snapshots read from it carry.
    payload_sha256: str = Field(max_length=64, index=True)
    warc_file: str = Field(max_length=500)  # relative to WANGZI_ARCHIVE_DIR
    warc_offset: int = Field(sa_type=BigInteger)
    warc_length: int = Field(sa_type=BigInteger)
    warc_record_id: str = Field(max_length=80)
    expired_at: Optional[datetime] = None  # its file was deleted (WANGZI_ARCHIVE_DAYS)


class DriftCapture(SQLModel, table=True):
    """An answer a parser called ``unrecognized``, kept (up to WANGZI_DRIFT_MAX_BYTES) to become a
    test fixture. One row per (platform, payload, parser version)."""

    __table_args__ = (
        UniqueConstraint("platform", "payload_sha256", "parser_version", name="uq_driftcapture_payload"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    crawl_run_id: Optional[int] = Field(default=None, foreign_key="crawlrun.id")
    captured_at: datetime = Field(default_factory=utcnow, index=True)
    platform: str = Field(max_length=32, index=True)
    parser: str = Field(max_length=200)  # the source: "bilibili.card"
    parser_version: str = Field(max_length=32)
    url: str
    http_status: Optional[int] = None
    content_type: Optional[str] = Field(default=None, max_length=200)
    detail: str = ""  # the failure's detail
    shape: str = Field(max_length=64, index=True)  # spiders.pages.fingerprint: "json:1a2b3c4d5e6f"
    shape_summary: str = ""  # what the shape is, for a person ("json {code, data{...}, message}")
    payload_sha256: str = Field(max_length=64)
    size: int  # bytes received
    truncated: bool = False  # payload holds only the first WANGZI_DRIFT_MAX_BYTES
    payload: bytes = Field(sa_type=LargeBinary)


class ProbeResult(SQLModel, table=True):
    """What one ``wangzi health --probe`` found on one platform: ok, drift, blocked or wrong-absence."""

    id: Optional[int] = Field(default=None, primary_key=True)
    crawl_run_id: Optional[int] = Field(default=None, foreign_key="crawlrun.id")
    probed_at: datetime = Field(default_factory=utcnow, index=True)
    platform: str = Field(max_length=32, index=True)
    status: str = Field(max_length=16)  # ok | drift | blocked | wrong-absence
    detail: str = ""
    parser: Optional[str] = Field(default=None, max_length=200)
    parser_version: Optional[str] = Field(default=None, max_length=32)


class IdentityState(SQLModel, table=True):
    """The last known health of one identity on one platform (issue 17): a proxy
    (``kind`` = ``proxy``) or a logged-in session (``session``), named as configured (never its
    URL, cookie or token). Written by the crawler's proxy and session pools as states change;
    read by ``wangzi proxies list``, ``wangzi sessions list`` and ``wangzi health``."""

    __table_args__ = (UniqueConstraint("kind", "name", "platform", name="uq_identitystate_kind_name_platform"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # proxy | session
    name: str = Field(max_length=200)
    platform: str = Field(max_length=32, index=True)
    status: str = Field(max_length=16)  # ok | quarantined | locked | expired
    until: Optional[datetime] = None  # quarantined / locked until
    endpoint: Optional[str] = Field(default=None, max_length=200)  # a session's locked endpoint
    requests: int = 0
    refused: int = 0
    quarantines: int = 0
    last_failure: Optional[str] = Field(default=None, max_length=32)  # a failure kind
    last_failure_at: Optional[datetime] = None
    last_ok_at: Optional[datetime] = None
    rate: Optional[float] = None  # configured requests/s (proxies) for display
    updated_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- shortlists
# Issue 18 item 4: the review desk's named lists. ``shortlistevent`` is the history, append-only
# (every change of a candidate's status or note on a list is a new row, never updated);
# ``shortlistmember`` is each candidate's current state on a list, written in the same
# transaction as the event that set it, so the cohort table filters by status with one join.
# Queries in storage/shortlists.py.

#: A candidate's statuses on a shortlist, in the order a review goes.
SHORTLIST_STATUSES = ("new", "shortlisted", "contacted", "approved", "rejected")


class Shortlist(SQLModel, table=True):
    """A named list of candidates (``spring-beauty``, ``京东 Q3``)."""

    __table_args__ = (UniqueConstraint("name", name="uq_shortlist_name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    description: Optional[str] = None
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class ShortlistMember(SQLModel, table=True):
    """A candidate's current status on a shortlist and the change that set it."""

    __table_args__ = (
        UniqueConstraint("shortlist_id", "candidate_id", name="uq_shortlistmember_list_candidate"),
        Index("ix_shortlistmember_candidate_list", "candidate_id", "shortlist_id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    shortlist_id: int = Field(foreign_key="shortlist.id")
    candidate_id: int = Field(foreign_key="candidate.id")
    status: str = Field(max_length=16)  # one of SHORTLIST_STATUSES
    note: Optional[str] = None  # the newest note given
    changed_by: str = Field(max_length=200)
    changed_at: datetime = Field(default_factory=utcnow)
    event_id: Optional[int] = None  # the shortlistevent that set this state


class ShortlistEvent(SQLModel, table=True):
    """One change on a shortlist, append-only: who set which status (and note) when."""

    __table_args__ = (Index("ix_shortlistevent_list_candidate", "shortlist_id", "candidate_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    shortlist_id: int = Field(foreign_key="shortlist.id")
    candidate_id: int = Field(foreign_key="candidate.id")
    status: str = Field(max_length=16)
    note: Optional[str] = None
    actor: str = Field(max_length=200)  # the name given at the desk's login, or the API caller's
    at: datetime = Field(default_factory=utcnow, index=True)


# --------------------------------------------------------------------------- discovery (issue 19)
# Accounts discovery found that nobody registered yet (``wangzi discover``, docs/discovery.md):
# one ``lead`` row per platform account, found by a search answer or a known creator's profile,
# with what the answer showed of it and a quick pre-score; ``leadsighting`` keeps every way it
# was seen (source, seed, query, post, hop), so a lead found by several sources is one row with
# several sightings. Queries in storage/leads.py.

LEAD_NEW = "new"
LEAD_PROMOTED = "promoted"
LEAD_REJECTED = "rejected"


class Lead(SQLModel, table=True):
    """A platform account discovery proposes as a candidate; reviewed once (promoted or rejected)."""

    __table_args__ = (
        UniqueConstraint("platform", "platform_user_id", name="uq_lead_platform_user_id"),
        UniqueConstraint("platform", "handle_key", name="uq_lead_platform_handle"),
        Index("ix_lead_status_score", "status", "score"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32, index=True)
    platform_user_id: Optional[str] = Field(default=None, max_length=200)
    handle: Optional[str] = Field(default=None, max_length=200)
    handle_key: Optional[str] = Field(default=None, max_length=200)  # the handle in lower case
    display_name: Optional[str] = None
    bio: Optional[str] = None
    # What the answers showed the account wrote (post titles and descriptions), newest first,
    # at most storage.leads.MAX_TEXT characters: what lookalikes and brand reading use.
    texts: str = ""
    followers: Optional[int] = Field(default=None, sa_type=BigInteger)
    followers_approximate: bool = False
    verified: Optional[bool] = None
    ip_location: Optional[str] = Field(default=None, max_length=200)
    country: Optional[str] = Field(default=None, max_length=2)
    brands: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    score: float = 0.0  # enrichment.leads.pre_score of what the answers showed
    # How it was first found (every later way is a LeadSighting).
    seed_kind: str = Field(max_length=16)
    seed: str = Field(max_length=200)
    source: str = Field(max_length=64)  # "bilibili_search.users", "graph.link", "graph.mention" ...
    query: Optional[str] = Field(default=None, max_length=200)
    source_url: Optional[str] = None
    post_url: Optional[str] = None
    hop: int = 0
    via_account: Optional[str] = Field(default=None, max_length=250)  # "weibo:1669879400"
    first_run_id: Optional[int] = Field(default=None, foreign_key="crawlrun.id")
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow, index=True)
    sightings: int = 1
    status: str = Field(default=LEAD_NEW, max_length=16)  # new | promoted | rejected
    status_by: Optional[str] = Field(default=None, max_length=200)
    status_at: Optional[datetime] = None
    reason: Optional[str] = None  # why it was rejected
    candidate_id: Optional[int] = Field(default=None, foreign_key="candidate.id", index=True)  # when promoted


class LeadSighting(SQLModel, table=True):
    """One way a lead was seen: by which source, for which seed and query, through which post,
    at which hop, in which run. One row per (lead, run, source, query)."""

    __table_args__ = (UniqueConstraint("lead_id", "crawl_run_id", "source", "query_key", name="uq_leadsighting"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    crawl_run_id: Optional[int] = Field(default=None, foreign_key="crawlrun.id", index=True)
    source: str = Field(max_length=64)
    seed_kind: str = Field(max_length=16)
    seed: str = Field(max_length=200)
    query: Optional[str] = Field(default=None, max_length=200)
    query_key: str = Field(default="", max_length=200)  # the query, "" for none (part of the unique key)
    post_url: Optional[str] = None
    hop: int = 0
    via_account: Optional[str] = Field(default=None, max_length=250)
    seen_at: datetime = Field(default_factory=utcnow)
