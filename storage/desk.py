"""What the review desk reads (``crawler/desk``): the cohort table - every candidate with their
newest feature row, filtered, sorted and paged in SQL - and the rows a candidate page shows
beside the report's (recent posts with their newest counts, recent failures, live lookup
progress).

Cost at scale (the table page is asked for on every click): one pass over the candidates,
each joined to its newest feature row by the ``(candidate_id, as_of)`` index
(:func:`storage.features._newest_id`, as every reader of the newest row), filters and the sort
evaluated per candidate (the sort key once, as a column of the result), ``LIMIT``/``OFFSET``
for the page and the pager's count as a window over the same pass: linear in the cohort,
never quadratic. Every filter is on a real column of ``featuresnapshot`` (the growth flags and
the countries are JSON text in their own columns, migration 0020): reading a value out of the
feature document parses the whole document per row (about 0.1 s per pass over 10,000
candidates on SQLite, 0.24 s on PostgreSQL's ``json``). Only the sort by followers on one
platform still reads the document, once per row the filters leave (the sort key is a column of
the result); the page's rows' whole feature documents are read afterwards by id. A
candidate's freshness (their newest snapshot) is the newest of their accounts' newest
snapshots, each one seek on the ``(account_id, captured_at)`` index.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from storage.features import _newest_id
from storage.models import (
    Account,
    Candidate,
    FetchFailure,
    Post,
    PostSnapshot,
    ProfileSnapshot,
    ShortlistMember,
)
from storage.models import FeatureRanking as FR
from storage.models import FeatureSnapshot as FS
from storage.names import search_key

#: Platforms the table shows followers of (the feature names ``followers_<platform>``); given by
#: the caller's list so storage does not name platforms of its own.
SCORES = ("composite", "leadership", "sales_driving", "influence")
#: Growth flags that mean suspicious growth (``insufficient_history`` is no verdict).
SUSPICIOUS_FLAGS = ("spike", "step_jump", "round_jump", "regular_increments", "growth_without_engagement", "sudden_drop")
#: What the ``flags`` filter takes: a verdict or a suspicious flag.
FLAG_FILTERS = ("suspicious", "clean", "unjudged", *SUSPICIOUS_FLAGS)
#: Sort keys of the table besides ``followers_<platform>``.
SORT_KEYS = ("composite", "composite_index", "leadership", "sales_driving", "influence", "coverage", "name",
             "followers_total", "overseas_share", "press", "freshness", "id")


@dataclass(frozen=True)
class CohortQuery:
    """One view of the cohort table: filters, sort and page (what the desk's URL holds)."""

    text: str = ""
    platforms: tuple[str, ...] = ()  # has an account on any of them
    countries: tuple[str, ...] = ()  # ISO alpha-2: an IP location or a declared place there
    tiers: tuple[str, ...] = ()
    ranges: tuple[tuple[str, float | None, float | None], ...] = ()  # (index name, min, max) on the raw index, 0..100
    min_coverage: float | None = None  # composite coverage, 0..1
    flags: tuple[str, ...] = ()  # "suspicious", "clean", "unjudged" or a flag name
    shortlist_id: int | None = None
    statuses: tuple[str, ...] = ()  # with shortlist_id: only these statuses on it
    active: bool | None = True  # None: active and inactive
    enriched_only: bool = False
    sort: str = "composite"
    descending: bool = True
    offset: int = 0
    limit: int = 50


class CohortRow(NamedTuple):
    candidate_id: int
    display_name: str
    aliases: list[str]
    active: bool
    feature_id: int | None
    as_of: datetime | None
    tier: str | None
    composite_index: float | None
    composite_score: float | None
    composite_coverage: float | None
    leadership_index: float | None
    leadership_score: float | None
    sales_driving_index: float | None
    sales_driving_score: float | None
    influence_index: float | None
    influence_score: float | None
    overseas_share: float | None
    followers_total: int | None
    press_365d: int | None
    newest_snapshot_at: datetime | None = None
    shortlist_status: str | None = None
    features: dict[str, Any] = {}  # noqa: RUF012 - NamedTuple default, replaced per row


@dataclass
class CohortPage:
    total: int
    rows: list[CohortRow] = field(default_factory=list)


_ROW_COLUMNS = (Candidate.id, Candidate.display_name, Candidate.aliases, Candidate.active, FS.id, FS.as_of, FR.tier,
                FR.composite_index, FR.composite_score, FR.composite_coverage, FR.leadership_index, FR.leadership_score,
                FR.sales_driving_index, FR.sales_driving_score, FR.influence_index, FR.influence_score,
                FS.overseas_share, FS.followers_total, FS.press_365d)


def _json_number(name: str) -> Any:
    return FS.features[name].as_float()


def newest_snapshot_time() -> Any:
    """A candidate's newest profile snapshot time, correlated to ``candidate.id``: for each
    account one ``max`` seek on the ``(account_id, captured_at)`` index."""
    per_account = (select(func.max(ProfileSnapshot.captured_at)).where(ProfileSnapshot.account_id == Account.id)
                   .correlate(Account).scalar_subquery())
    return (select(func.max(per_account)).select_from(Account).where(Account.candidate_id == Candidate.id)
            .correlate(Candidate).scalar_subquery())


def _sort_expression(sort: str) -> Any:
    if sort.startswith("followers_") and sort != "followers_total":
        return _json_number(sort)
    return {
        "composite": FR.composite_score, "composite_index": FR.composite_index, "leadership": FR.leadership_score,
        "sales_driving": FR.sales_driving_score, "influence": FR.influence_score, "coverage": FR.composite_coverage,
        "name": Candidate.name_key, "followers_total": FS.followers_total, "overseas_share": FS.overseas_share,
        "press": FS.press_365d, "freshness": newest_snapshot_time(), "id": Candidate.id,
    }[sort]


def _country_test(countries: Sequence[str]) -> Any:
    # countries_text: the JSON list of the IP and declared countries (a real column, migration 0020).
    return or_(*(FS.countries_text.contains(f'"{country}"', autoescape=True) for country in countries))  # type: ignore[union-attr]


def _flag_test(wanted_flags: Sequence[str]) -> Any:
    # growth_flags_text: the JSON list of the growth flags (a real column, migration 0020).
    flags = FS.growth_flags_text
    suspicious = or_(*(flags.contains(f'"{flag}"') for flag in SUSPICIOUS_FLAGS))  # type: ignore[union-attr]
    wanted = []
    for flag in wanted_flags:
        if flag == "suspicious":
            wanted.append(suspicious)
        elif flag == "clean":
            wanted.append(and_(FS.growth_authenticity.is_not(None), flags.is_not(None), ~suspicious))  # type: ignore[union-attr]
        elif flag == "unjudged":
            wanted.append(flags.contains('"insufficient_history"'))  # type: ignore[union-attr]
        elif flag in SUSPICIOUS_FLAGS:
            wanted.append(flags.contains(f'"{flag}"'))  # type: ignore[union-attr]
    return or_(*wanted)


def _conditions(query: CohortQuery) -> list[Any]:
    """The view's filters, every one on a real column (the cheapest first)."""
    conditions: list[Any] = []
    if query.active is not None:
        conditions.append(Candidate.active == query.active)
    if query.enriched_only:
        conditions.append(FS.id.is_not(None))
    key = search_key(query.text) if query.text else ""
    if key:
        conditions.append(or_(Candidate.name_key.contains(key, autoescape=True),
                              Candidate.alias_keys.contains(key, autoescape=True)))
    if query.platforms:
        conditions.append(exists().where(Account.candidate_id == Candidate.id,
                                         Account.platform.in_(list(query.platforms))))  # type: ignore[attr-defined]
    if query.tiers:
        conditions.append(FR.tier.in_(list(query.tiers)))  # type: ignore[union-attr]
    for name, low, high in query.ranges:
        column = getattr(FR, f"{name}_index")
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column <= high)
    if query.min_coverage is not None:
        conditions.append(FR.composite_coverage >= query.min_coverage)
    if query.countries:
        conditions.append(_country_test(query.countries))
    flags = [flag for flag in query.flags if flag in FLAG_FILTERS]
    if flags:
        conditions.append(_flag_test(flags))
    return conditions


def _base(query: CohortQuery, columns: Sequence[Any]) -> Any:
    # Each candidate's newest row id as a column of a derived table, then a primary-key join:
    # an outer join ON the correlated subquery itself is planned by PostgreSQL as a nested loop
    # over every feature row per candidate (quadratic).
    newest = select(Candidate.id.label("cid"), _newest_id().label("fid")).subquery("newest")
    statement = (select(*columns).select_from(Candidate).join(newest, newest.c.cid == Candidate.id)
                 .outerjoin(FS, FS.id == newest.c.fid).outerjoin(FR, FR.snapshot_id == FS.id))
    if query.shortlist_id is not None:
        member = and_(ShortlistMember.candidate_id == Candidate.id, ShortlistMember.shortlist_id == query.shortlist_id)
        statement = statement.join(ShortlistMember, member)
        if query.statuses:
            statement = statement.where(ShortlistMember.status.in_(list(query.statuses)))  # type: ignore[attr-defined]
    return statement.where(*_conditions(query))


def _sorted(query: CohortQuery, columns: Sequence[Any]) -> Any:
    """The view's rows with ``columns`` and, last, the sort key, ordered by it (no value last,
    ties by candidate id). The key is a column of the result so that the database computes it
    once per row: written into ``ORDER BY key IS NULL, key`` it is computed twice (for a
    followers sort, the feature document parsed twice; for freshness, the accounts' newest
    snapshots looked up twice)."""
    key = _sort_expression(query.sort).label("sort_key")
    direction = key.desc() if query.descending else key.asc()
    return _base(query, [*columns, key]).order_by(direction.nulls_last(), Candidate.id)


def cohort_page(session: Session, query: CohortQuery) -> CohortPage:
    """One page of the cohort table and how many candidates the filters leave: both from one
    pass over the cohort (the count as a window over every row the filters leave); a page past
    the end, which has no row to carry it, counts in a second query."""
    status = [ShortlistMember.status] if query.shortlist_id is not None else []
    statement = _sorted(query, [*_ROW_COLUMNS, *status, func.count().over()]).offset(query.offset).limit(query.limit)
    found = session.execute(statement).all()
    total = found[0][-2] if found else session.execute(_base(query, [func.count()])).scalar_one()
    ids = [row[0] for row in found]
    documents = _feature_documents(session, [row[4] for row in found if row[4] is not None])
    newest = newest_snapshot_times(session, ids)
    rows = []
    for row in found:
        values = list(row[:len(_ROW_COLUMNS)])
        values[2] = list(values[2] or [])
        rows.append(CohortRow(*values, newest_snapshot_at=newest.get(row[0]),
                              shortlist_status=row[len(_ROW_COLUMNS)] if status else None,
                              features=documents.get(row[4], {}) if row[4] is not None else {}))
    return CohortPage(total=total, rows=rows)


def iter_cohort(session: Session, query: CohortQuery, batch: int = 500) -> Iterator[CohortRow]:
    """Every row of the view (no paging), in its order, streamed ``batch`` at a time: the export."""
    status = [ShortlistMember.status] if query.shortlist_id is not None else []
    statement = _sorted(query, [*_ROW_COLUMNS, *status, FS.features, newest_snapshot_time()])
    width = len(_ROW_COLUMNS)
    for row in session.execute(statement.execution_options(yield_per=batch)):
        values = list(row[:width])
        values[2] = list(values[2] or [])
        extra = row[width:-1]
        yield CohortRow(*values, newest_snapshot_at=extra[-1], shortlist_status=extra[0] if status else None,
                        features=dict(extra[-2] or {}))


def _feature_documents(session: Session, feature_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not feature_ids:
        return {}
    return {fid: dict(doc or {}) for fid, doc in session.execute(
        select(FS.id, FS.features).where(FS.id.in_(list(feature_ids)))).all()}  # type: ignore[union-attr]


def newest_snapshot_times(session: Session, candidate_ids: Sequence[int]) -> dict[int, datetime]:
    """Each candidate's newest profile snapshot time (those with one)."""
    if not candidate_ids:
        return {}
    rows = session.execute(select(Candidate.id, newest_snapshot_time())
                           .where(Candidate.id.in_(list(candidate_ids)))).all()  # type: ignore[union-attr]
    return {cid: when for cid, when in rows if when is not None}


def tiers_in_use(session: Session) -> list[str]:
    """The tiers the newest feature rows hold (for the table's filter)."""
    return sorted(t for t in session.execute(select(FR.tier).where(FR.tier.is_not(None)).distinct()).scalars().all())


# --------------------------------------------------------------------------- one candidate


class PostRow(NamedTuple):
    platform: str
    post_id: str
    url: str | None
    published_at: datetime | None
    title: str | None
    text: str | None
    likes: int | None
    comments: int | None
    shares: int | None
    views: int | None


def recent_posts(session: Session, candidate_id: int, limit: int = 12) -> list[PostRow]:
    """The candidate's newest posts over every account (newest published first), each with the
    counts of its newest post snapshot."""
    newest = aliased(PostSnapshot)
    newest_id = (select(newest.id).where(newest.post_id == Post.id).order_by(newest.id.desc()).limit(1)
                 .correlate(Post).scalar_subquery())
    rows = session.execute(
        select(Post.platform, Post.post_id, Post.url, Post.published_at, Post.title, Post.text,
               PostSnapshot.likes, PostSnapshot.comments, PostSnapshot.shares, PostSnapshot.views)
        .join(Account, Account.id == Post.account_id)
        .outerjoin(PostSnapshot, PostSnapshot.id == newest_id)
        .where(Account.candidate_id == candidate_id)
        .order_by(Post.published_at.is_(None), Post.published_at.desc(), Post.id.desc()).limit(limit)
    ).all()
    return [PostRow(*row) for row in rows]


class FailureRow(NamedTuple):
    platform: str
    kind: str
    url: str
    http_status: int | None
    detail: str
    occurred_at: datetime


def recent_failures(session: Session, candidate_id: int, limit: int = 20) -> list[FailureRow]:
    """The candidate's newest fetch failures: of their accounts and of their press searches."""
    accounts = select(Account.id).where(Account.candidate_id == candidate_id)
    rows = session.execute(
        select(FetchFailure.platform, FetchFailure.kind, FetchFailure.url, FetchFailure.http_status, FetchFailure.detail,
               FetchFailure.occurred_at)
        .where(or_(FetchFailure.account_id.in_(accounts), FetchFailure.candidate_id == candidate_id))  # type: ignore[union-attr]
        .order_by(FetchFailure.occurred_at.desc(), FetchFailure.id.desc()).limit(limit)
    ).all()
    return [FailureRow(*row) for row in rows]


def lookup_progress(session: Session, candidate_id: int, since: datetime) -> dict[str, dict[str, Any]]:
    """What a running lookup of the candidate stored so far, per platform: profile snapshots
    and failures since ``since`` (the failure kinds in the order they came)."""
    progress: dict[str, dict[str, Any]] = {}
    for platform, count in session.execute(
        select(Account.platform, func.count()).join(ProfileSnapshot, ProfileSnapshot.account_id == Account.id)
        .where(Account.candidate_id == candidate_id, ProfileSnapshot.captured_at >= since).group_by(Account.platform)
    ).all():
        progress.setdefault(platform, {"snapshots": 0, "failures": []})["snapshots"] = count
    accounts = select(Account.id).where(Account.candidate_id == candidate_id)
    for platform, kind in session.execute(
        select(FetchFailure.platform, FetchFailure.kind)
        .where(or_(FetchFailure.account_id.in_(accounts), FetchFailure.candidate_id == candidate_id),  # type: ignore[union-attr]
               FetchFailure.occurred_at >= since).order_by(FetchFailure.id)
    ).all():
        progress.setdefault(platform, {"snapshots": 0, "failures": []})["failures"].append(kind)
    return progress


def feature_rows_mark(session: Session) -> tuple[Any, ...]:
    """What changes whenever the live cohort's reference would: the newest feature row id, the
    latest ranking time, and how many candidates are active (three aggregate reads, the first
    two one index seek each: never a read of every feature row stored)."""
    # Two scalar subqueries, each one seek (the primary key, the ranked_at index): both maxima
    # in one SELECT are read by SQLite in one scan of an index.
    newest, ranked = session.execute(select(select(func.max(FS.id)).scalar_subquery(),
                                            select(func.max(FR.ranked_at)).scalar_subquery())).one()
    active = session.execute(select(func.count()).select_from(Candidate).where(Candidate.active == True)).scalar_one()  # noqa: E712
    return newest, ranked, active
