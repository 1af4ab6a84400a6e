"""Feature snapshots: storing them, re-ranking the newest, and reading the newest per candidate.

A candidate's *newest* feature snapshot is the one describing the latest time (the greatest
``as_of``) and, among rows describing the same time, the last computed (the highest id); with
a time bound, the same among the rows whose ``as_of`` is at or before it. So a backdated
``enrich --as-of`` (rows describing a past time) never displaces a row describing a later
time, however late it was computed. Every reader here takes the row from :func:`_newest_id`,
so the ranking, the export, the report and the HTTP service agree on which row that is; the
``candidate_features_latest`` view (migrations 0008_newest_features, 0010_reference_scores)
applies the same rule in plain SQL.

:func:`_newest_id` is a subquery correlated to the candidate: one seek on the
``(candidate_id, as_of)`` index per candidate, so reading the newest rows of a cohort is
linear in the cohort. (``id IN (SELECT max(id) ... GROUP BY candidate_id)`` joined to the
candidate table was planned by SQLite as a probe of the whole id list per candidate:
quadratic, 20 minutes and more for ``wangzi rank`` at 200,000 candidates.) Readers of a whole
cohort page through it by candidate id (:func:`iter_newest_rows`,
:func:`iter_latest_feature_snapshots`) or stream it (:func:`iter_ranked_rows`) instead of
holding every row at once.

A feature row's ranking is a row of ``featureranking`` (``storage/models.py``,
:class:`~storage.models.FeatureRanking`; migration 0024), written with the feature row and
replaced by every ranking that moves it; readers join it to the feature row.

Which columns a row has is the table's business (``storage/models.py``); which features
fill them is the enrichment stage's (``enrichment/schema.py``): the stage hands over rows
keyed by column name, and nothing here lists them again.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    func,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from storage.db import among_ids, insert_rows, update_rows
from storage.feature_inputs import Watermark
from storage.models import (
    Candidate,
    PostSnapshot,
    PressMention,
    ProfileSnapshot,
    RankingInput,
)
from storage.models import FeatureRanking as FR
from storage.models import FeatureSnapshot as FS

#: Candidates per page when a cohort is read in pages.
PAGE = 2000


class FeatureMarks(NamedTuple):
    """What a candidate's newest feature snapshot saw (its watermark), whether it was computed
    for a past time (a backdated ``enrich --as-of``: its time described is before the time it
    was computed), and its id."""

    seen: Watermark
    backdated: bool
    id: int = 0  # the feature snapshot's id


class NewestRow(NamedTuple):
    """A candidate's newest feature row as the ranking reads it."""

    id: int
    candidate_id: int
    features: dict[str, Any]
    reference: str | None
    ranked_at: datetime | None
    as_of: datetime | None  # None when read as marks only (iter_newest_rows)
    #: What the stored ranking was computed from (``enrichment.cohort_scores``; None: not known).
    ranking_digest: str | None
    #: The row's kept ranking inputs (``storage/ranking_inputs.py``), when asked for (``kept_under``).
    kept: str | None = None


def _newest_id(owner: Any = None, *, as_of: datetime | None = None) -> Any:
    """The id of the candidate's newest feature snapshot (with ``as_of``: among its rows whose
    ``as_of`` is at or before it), as a scalar subquery correlated to ``owner`` (a column
    holding the candidate id; default ``candidate.id``)."""
    newer = aliased(FS)
    query = select(newer.id).where(newer.candidate_id == (Candidate.id if owner is None else owner))
    if as_of is not None:
        query = query.where(newer.as_of <= as_of)
    return query.order_by(newer.as_of.desc(), newer.id.desc()).limit(1).scalar_subquery()


def _is_newest(as_of: datetime | None = None) -> ColumnElement[bool]:
    """``featuresnapshot.id`` is its candidate's newest (a query must join ``candidate``)."""
    return FS.id == _newest_id(as_of=as_of)


def latest_feature_snapshot(session: Session, candidate_id: int) -> FS | None:
    """The candidate's newest feature snapshot, None when it was never enriched."""
    return session.execute(select(FS).where(FS.id == _newest_id(candidate_id))).scalars().first()


def iter_latest_feature_snapshots(session: Session, *, as_of: datetime | None = None,
                                  page: int = PAGE) -> Iterator[tuple[FS, str, bool]]:
    """Every candidate's newest feature snapshot (as of a time, if given) with the candidate's
    display name and whether it is active, by candidate id, read a page of candidates at a time."""
    after = 0
    while True:
        rows = session.execute(
            select(FS, Candidate.display_name, Candidate.active).select_from(Candidate)
            .join(FS, _is_newest(as_of)).where(Candidate.id > after).order_by(Candidate.id).limit(page)
        ).all()
        yield from ((snapshot, name, active) for snapshot, name, active in rows)
        if len(rows) < page:
            return
        after = rows[-1][0].candidate_id


def latest_feature_snapshots(session: Session, *, as_of: datetime | None = None) -> list[tuple[FS, str, bool]]:
    """Every candidate's newest feature snapshot (as of a time, if given) with the candidate's
    display name and whether it is active, by candidate id."""
    return list(iter_latest_feature_snapshots(session, as_of=as_of))


def _column(name: str) -> Any:
    """The column of a feature row or of its ranking (a query joining ``featureranking``) named ``name``."""
    return getattr(FR, name) if name in FR.__table__.c else getattr(FS, name)


def top_feature_snapshots(session: Session, column: str, top: int) -> list[tuple[FS, str]]:
    """The newest feature snapshots of active candidates with the highest ``column`` (NULLs
    last, ties by candidate id), with each candidate's display name."""
    ranked = _column(column)
    rows = session.execute(
        select(FS, Candidate.display_name).select_from(Candidate).join(FS, _is_newest())
        .outerjoin(FR, FR.snapshot_id == FS.id)
        .where(Candidate.active == True)  # noqa: E712 - SQL expression
        .order_by(ranked.is_(None), ranked.desc(), FS.candidate_id).limit(top)
    ).all()
    return [(snapshot, name) for snapshot, name in rows]


def iter_ranked_rows(session: Session, score: str, *, coverage: str | None = None, min_coverage: float | None = None,
                     tiers: Sequence[str] | None = None, offset: int = 0, limit: int | None = None,
                     batch: int = 500) -> Iterator[Any]:
    """The newest feature rows of active candidates by ``score`` (a column; highest first,
    NULLs last, ties by candidate id), with at least ``min_coverage`` in ``coverage`` and a
    tier among ``tiers`` when given, from the ``offset``-th on (at most ``limit``), streamed
    ``batch`` rows at a time. Each row has the ranking columns, ``features``,
    ``followers_total``, ``display_name`` and ``candidate_id`` as attributes."""
    ranked = _column(score)
    query = (select(FS.id, FS.candidate_id, Candidate.display_name, FS.as_of, FR.ranked_at, FR.tier, FR.reference,
                    FS.followers_total,
                    FR.leadership_index, FR.sales_driving_index, FR.influence_index, FR.composite_index,
                    FR.leadership_coverage, FR.sales_driving_coverage, FR.influence_coverage, FR.composite_coverage,
                    FR.leadership_score, FR.sales_driving_score, FR.influence_score, FR.composite_score,
                    FR.top_contributors, FS.features)
             .select_from(Candidate).join(FS, _is_newest()).outerjoin(FR, FR.snapshot_id == FS.id)
             .where(Candidate.active == True)  # noqa: E712 - SQL expression
             .order_by(ranked.is_(None), ranked.desc(), FS.candidate_id))
    if min_coverage is not None and coverage is not None:
        query = query.where(_column(coverage) >= min_coverage)
    if tiers:
        query = query.where(FR.tier.in_(list(tiers)))
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    yield from session.execute(query.execution_options(yield_per=batch))


def latest_features(session: Session, *, as_of: datetime | None = None) -> dict[int, tuple[int, dict[str, Any]]]:
    """Each candidate's newest feature snapshot (as of a time, if given) as (its id, a copy of
    its features). Holds every row at once: for a whole cohort, :func:`iter_newest_rows`."""
    return {row.candidate_id: (row.id, dict(row.features)) for row in iter_newest_rows(session, as_of=as_of)}


def iter_newest_rows(
    session: Session,
    *,
    as_of: datetime | None = None,
    active_only: bool = False,
    extra_ids: Sequence[int] = (),
    candidate_ids: Sequence[int] | None = None,
    reference_not: str | None = None,
    marks_only: bool = False,
    kept_under: str | None = None,
    page: int = PAGE,
) -> Iterator[NewestRow]:
    """The newest feature row (as of a time, if given) of every candidate — only active ones
    (and ``extra_ids``) with ``active_only``, only ``candidate_ids`` when given, only rows not
    yet ranked against ``reference_not`` when given — a page of candidates at a time, by
    candidate id. With ``marks_only``, a row is its ids, reference and ranking digest: no
    document (``features`` empty; the ranking reads what it needs through
    :func:`picked_features` or keeps it) and no times (None: parsing 4,000 of them took a third
    of reading a cohort's rows). With ``kept_under``, each row comes with its ranking inputs
    kept under that key (``storage/ranking_inputs.py``; None when none is kept for the row as
    it is), read in the same query: a second query for 2,000 ids cost ~0.01 s."""
    conditions = []
    if reference_not is not None:
        conditions.append(or_(FR.reference.is_(None), FR.reference != reference_not, FR.ranked_at.is_(None)))
    if active_only and extra_ids:
        # The active candidates in one ordered scan, merged with the extra ones not active:
        # "active OR id IN (...)" made SQLite read and sort every later active candidate for
        # each page (0.17 s a page, 17 s for the 200,000 candidates `wangzi explain` read).
        asked = None if candidate_ids is None else set(candidate_ids)
        others = [cid for cid in extra_ids if asked is None or cid in asked]
        extra = _iter_newest(session, as_of, [*conditions, Candidate.active.isnot(True)], others, marks_only,
                             kept_under, page)
        active = _iter_newest(session, as_of, [*conditions, Candidate.active == True], candidate_ids,  # noqa: E712
                              marks_only, kept_under, page)
        yield from heapq.merge(active, extra, key=lambda row: row.candidate_id)
        return
    if active_only:
        conditions.append(Candidate.active == True)  # noqa: E712 - SQL expression
    yield from _iter_newest(session, as_of, conditions, candidate_ids, marks_only, kept_under, page)


def _iter_newest(session: Session, as_of: datetime | None, conditions: list[Any], candidate_ids: Sequence[int] | None,
                 marks_only: bool, kept_under: str | None, page: int) -> Iterator[NewestRow]:
    """:func:`iter_newest_rows` under SQL ``conditions``: of ``candidate_ids`` 900 at a time,
    else of every candidate a page at a time; by candidate id either way."""
    if candidate_ids is not None:
        wanted = sorted(set(candidate_ids))
        for start in range(0, len(wanted), 900):
            chunk = wanted[start:start + 900]
            yield from _newest_page(session, as_of, [*conditions, Candidate.id.in_(chunk)], after=0, page=None,
                                    marks_only=marks_only, kept_under=kept_under)
        return
    after = 0
    while True:
        rows = _newest_page(session, as_of, conditions, after=after, page=page, marks_only=marks_only,
                            kept_under=kept_under)
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].candidate_id


def _newest_page(session: Session, as_of: datetime | None, conditions: list[Any], *, after: int,
                 page: int | None, marks_only: bool = False, kept_under: str | None = None) -> list[NewestRow]:
    document, ranked_at, described = (null(), null(), null()) if marks_only else (FS.features, FR.ranked_at, FS.as_of)
    kept = RankingInput.inputs if kept_under is not None else null()
    query = (select(FS.id, FS.candidate_id, document, FR.reference, ranked_at, described, FR.ranking_digest, kept)
             .select_from(Candidate).join(FS, _is_newest(as_of)).outerjoin(FR, FR.snapshot_id == FS.id))
    if kept_under is not None:
        # (the view kept of the row as it is: the same computed_at, see storage/ranking_inputs.py)
        query = query.outerjoin(RankingInput, (RankingInput.snapshot_id == FS.id)
                                & (RankingInput.computed_at == FS.computed_at) & (RankingInput.names_key == kept_under))
    query = query.where(Candidate.id > after, *conditions).order_by(Candidate.id)
    if page is not None:
        query = query.limit(page)
    return [NewestRow(row[0], row[1], {} if marks_only else row[2], *row[3:]) for row in session.execute(query).all()]


def picked_features(session: Session, snapshot_ids: Sequence[int], names: Sequence[str]) -> dict[int, dict[str, Any]]:
    """The named features (those it has) of each of these feature snapshots, by id.

    On SQLite the database picks them out of the documents (``json_extract``): decoding whole
    6 KB documents in Python took three times as long as its parse and the ~1 KB left to
    decode. A batch holding a document it cannot parse (Python's json writes NaN, which is not
    JSON) is read whole and picked in Python instead."""
    names = list(names)
    ids = sorted(set(snapshot_ids))
    if not ids or not names:
        return {fid: {} for fid in ids}
    out: dict[int, dict[str, Any]] = {}
    if session.get_bind().dialect.name == "sqlite":
        # (Two paths at least: with one, json_extract answers the value instead of an array.)
        paths = [f'$."{name}"' for name in (names * 2)[:max(2, len(names))]]
        try:
            for fid, values in session.execute(select(FS.id, func.json_extract(FS.features, *paths))
                                               .where(among_ids(session, FS.id, ids))):
                out[fid] = {name: value for name, value in zip(names, json.loads(values)) if value is not None}
            return out
        except OperationalError:
            out = {}
    for start in range(0, len(ids), 1000):
        for fid, document in session.execute(select(FS.id, FS.features).where(among_ids(session, FS.id, ids[start:start + 1000]))):
            out[fid] = _picked(document, names)
    return out


def _picked(document: Mapping[str, Any] | None, names: Sequence[str]) -> dict[str, Any]:
    """The named features a document has (a JSON null counts as absent, as json_extract has it)."""
    document = document or {}
    return {name: document[name] for name in names if document.get(name) is not None}


def latest_watermarks(session: Session, *, as_of: datetime | None = None) -> dict[int, FeatureMarks]:
    """The input ids each candidate's newest feature snapshot (as of a time, if given) saw, and
    whether it was backdated (what an incremental enrich compares new rows with). The two
    times are compared by the database: reading them as datetimes was half of this read
    (4,000 conversions for 2,000 candidates, on every incremental enrich)."""
    return {candidate_id: FeatureMarks(Watermark(snapshot, post_snapshot, press), bool(backdated), snapshot_id)
            for snapshot_id, candidate_id, snapshot, post_snapshot, press, backdated in session.execute(
                select(FS.id, FS.candidate_id, FS.max_snapshot_id, FS.max_post_snapshot_id, FS.max_press_id,
                       FS.as_of < FS.computed_at)
                .select_from(Candidate).join(FS, _is_newest(as_of))
            ).all()}


#: The tables whose ids watermarks hold.
INPUT_TABLES = (ProfileSnapshot, PostSnapshot, PressMention)


def input_id_bounds(session: Session) -> Watermark | None:
    """The highest profile snapshot, post snapshot and press mention ids stored (primary-key
    lookups): what an incremental enrich has checked every candidate up to. None when a lower
    id may still be committed: on PostgreSQL, while another transaction is writing to one of
    these tables (a crawl's transaction can take an id, and a later one commit a higher id
    before it does). SQLite has one writer at a time, so its ids commit in order."""
    bound = Watermark(*(session.execute(select(func.max(table.id))).scalar() for table in INPUT_TABLES))
    if session.get_bind().dialect.name == "postgresql" and _writers_in_flight(session):
        return None
    return bound


def _writers_in_flight(session: Session) -> bool:
    """Whether another PostgreSQL transaction holds a write lock on an input table. Checked
    after the highest ids were read: a transaction holding an id at most those still holds its
    lock here, and one that committed meanwhile is visible to every later statement (read
    committed), so with no lock every row up to the bound is seen by what enrich reads next."""
    tables = [table.__tablename__ for table in INPUT_TABLES]  # type: ignore[attr-defined]
    return bool(session.execute(
        text("SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND pid <> pg_backend_pid()"
             " AND mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')"
             " AND relation = ANY(CAST(:tables AS regclass[]))"),
        {"tables": tables},
    ).scalar())


def advance_watermarks(session: Session, marks: Mapping[int, Watermark], bound: Watermark) -> int:
    """Raise the watermarks of these feature snapshots (id -> current watermark) to ``bound``
    where they are lower: their candidates were checked and have no newer input rows up to it,
    so the next incremental enrich need not read those rows again. Returns how many rows moved."""
    kinds = [(column, kind, top) for column, kind in ((FS.max_snapshot_id, "snapshot"),
                                                      (FS.max_post_snapshot_id, "post_snapshot"), (FS.max_press_id, "press"))
             if (top := getattr(bound, kind)) is not None]
    moved = sorted(fid for fid, mark in marks.items() if any((getattr(mark, kind) or 0) < top for _, kind, top in kinds))
    if moved:
        # One statement for every row and column (each column keeps a higher mark it has).
        greatest = func.max if session.get_bind().dialect.name == "sqlite" else func.greatest
        session.execute(update(FS).where(among_ids(session, FS.id, moved)).values(
            {column: greatest(func.coalesce(column, 0), top) for column, _, top in kinds}))
    return len(moved)


def forget_watermarks(session: Session, candidate_ids: Sequence[int]) -> int:
    """Clear what these candidates' feature rows saw (``max_snapshot_id``,
    ``max_post_snapshot_id``, ``max_press_id``), so the next incremental enrich recomputes
    them: after a merge or its undoing, rows older than their watermarks belong to them."""
    ids = list(candidate_ids)
    if not ids:
        return 0
    return session.execute(update(FS).where(FS.candidate_id.in_(ids))
                           .values(max_snapshot_id=None, max_post_snapshot_id=None, max_press_id=None)
                           .execution_options(synchronize_session=False)).rowcount


def feature_documents(session: Session, snapshot_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The ``features`` of these feature snapshots, by snapshot id."""
    out: dict[int, dict[str, Any]] = {}
    ids = list(snapshot_ids)
    for start in range(0, len(ids), 900):
        out.update(session.execute(select(FS.id, FS.features).where(FS.id.in_(ids[start:start + 900]))).all())
    return out


def insert_feature_snapshots(session: Session, rows: Sequence[Mapping[str, Any]], rankings: Sequence[Mapping[str, Any]],
                             *, json_text: Sequence[str] = (), ranking_json_text: Sequence[str] = ()) -> int:
    """Insert feature snapshots (dicts keyed by column name, every one the same columns, one
    per candidate, every one the same ``computed_at``) and each one's ranking (``rankings``,
    in the same order: the columns of ``featureranking`` but the snapshot id); returns how
    many rows. The JSON columns named in ``json_text`` (``ranking_json_text``) are given as
    their JSON text, written as it is (enrich encodes the one document 200,000 imported
    candidates without data share once, not once per row): :func:`storage.db.insert_rows`."""
    if not rows:
        return 0
    computed = {row["computed_at"] for row in rows}
    if len(computed) != 1 or len({row["candidate_id"] for row in rows}) != len(rows):
        raise ValueError("feature rows inserted together are one per candidate, computed at one time")
    before = session.execute(select(func.max(FS.id))).scalar() or 0
    inserted = insert_rows(session, FS.__table__, rows, json_text=json_text, page=500)
    # The new rows' ids: above every id stored before, computed at this time (on PostgreSQL a
    # concurrent enrich's rows may take ids in between; they were computed at another time).
    ids = dict(session.execute(select(FS.candidate_id, FS.id).where(FS.id > before, FS.computed_at == computed.pop())).all())
    # (replace_on: a ranking left by a row deleted without its foreign keys enforced, whose id
    # SQLite gave again, is replaced)
    insert_rows(session, FR.__table__, [{"snapshot_id": ids[row["candidate_id"]], **ranking}
                                        for row, ranking in zip(rows, rankings)],
                json_text=ranking_json_text, page=500, replace_on="snapshot_id")
    session.flush()
    return inserted


def update_rankings(session: Session, rankings: Sequence[Mapping[str, Any]], *, json_text: Sequence[str] = ()) -> int:
    """Write the rankings of feature snapshots: each mapping holds a row's ``snapshot_id`` and
    every other column of ``featureranking`` (every mapping the same columns), written through
    the driver (:func:`storage.db.insert_rows`), replacing the row's ranking. The JSON columns
    named in ``json_text`` are given as their JSON text, written as it is (the ranking writes
    its top contributors as text). Returns how many rows."""
    return insert_rows(session, FR.__table__, rankings, json_text=json_text, replace_on="snapshot_id")


def update_feature_documents(session: Session, documents: Mapping[int, Mapping[str, Any]]) -> int:
    """Replace the ``features`` of these feature snapshots (id -> document): what the ranking
    does when a row's earliness moves. Returns how many rows."""
    return update_rows(session, FS.__table__, [{"id": fid, "features": document} for fid, document in documents.items()])
