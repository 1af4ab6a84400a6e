"""Feature snapshots: storing them, re-ranking the newest, and reading the newest per candidate.

A candidate's *newest* feature snapshot is the one describing the latest time (the greatest
``as_of``) and, among rows describing the same time, the last computed (the highest id); with
a time bound, the same among the rows whose ``as_of`` is at or before it. So a backdated
``enrich --as-of`` (rows describing a past time) never displaces a row describing a later
time, however late it was computed. Every reader here takes the row from :func:`_newest_ids`,
so the ranking, the export, the report and the HTTP service agree on which row that is; the
``candidate_features_latest`` view (migration 0008_newest_features) applies the same rule in
plain SQL.

Which columns a row has is the table's business (``storage/models.py``); which features
fill them is the enrichment stage's (``enrichment/schema.py``): the stage hands over rows
keyed by column name, and nothing here lists them again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.sql import Select
from sqlmodel import Session

from storage.feature_inputs import Watermark
from storage.models import Candidate
from storage.models import FeatureSnapshot as FS


class FeatureMarks(NamedTuple):
    """What a candidate's newest feature snapshot saw (its watermark), the time it describes
    and when it was computed."""

    seen: Watermark
    as_of: datetime
    computed_at: datetime


def _newest_ids(as_of: datetime | None = None, candidate_id: int | None = None) -> Select[Any]:
    """The id of each candidate's newest feature snapshot: among its rows (with ``as_of``: those
    whose ``as_of`` is at or before it) the ones with the greatest ``as_of``, and of those the
    highest id. Two grouped scans over the (candidate_id, as_of) index."""
    times = select(FS.candidate_id, func.max(FS.as_of).label("as_of")).group_by(FS.candidate_id)
    if as_of is not None:
        times = times.where(FS.as_of <= as_of)
    if candidate_id is not None:
        times = times.where(FS.candidate_id == candidate_id)
    newest_time = times.subquery("newest_time")
    return (select(func.max(FS.id))
            .join(newest_time, and_(FS.candidate_id == newest_time.c.candidate_id, FS.as_of == newest_time.c.as_of))
            .group_by(FS.candidate_id))


def latest_feature_snapshot(session: Session, candidate_id: int) -> FS | None:
    """The candidate's newest feature snapshot, None when it was never enriched."""
    return session.execute(select(FS).where(FS.id.in_(_newest_ids(candidate_id=candidate_id)))).scalars().first()


def latest_feature_snapshots(session: Session, *, as_of: datetime | None = None) -> list[tuple[FS, str, bool]]:
    """Every candidate's newest feature snapshot (as of a time, if given) with the candidate's
    display name and whether it is active, by candidate id."""
    rows = session.execute(
        select(FS, Candidate.display_name, Candidate.active).join(Candidate, Candidate.id == FS.candidate_id)
        .where(FS.id.in_(_newest_ids(as_of))).order_by(FS.candidate_id)
    ).all()
    return [(snapshot, name, active) for snapshot, name, active in rows]


def top_feature_snapshots(session: Session, column: str, top: int) -> list[tuple[FS, str]]:
    """The newest feature snapshots of active candidates with the highest ``column`` (NULLs
    last, ties by candidate id), with each candidate's display name."""
    ranked = getattr(FS, column)
    rows = session.execute(
        select(FS, Candidate.display_name).join(Candidate, Candidate.id == FS.candidate_id)
        .where(FS.id.in_(_newest_ids()), Candidate.active == True)  # noqa: E712 - SQL expression
        .order_by(ranked.is_(None), ranked.desc(), FS.candidate_id).limit(top)
    ).all()
    return [(snapshot, name) for snapshot, name in rows]


def latest_features(session: Session, *, as_of: datetime | None = None) -> dict[int, tuple[int, dict[str, Any]]]:
    """Each candidate's newest feature snapshot (as of a time, if given) as (its id, a copy of
    its features).

    Plain values, not table objects: ranking rewrites these rows with one UPDATE, and
    objects loaded here would keep the old values in the session afterwards."""
    return {candidate_id: (snapshot_id, dict(features)) for snapshot_id, candidate_id, features in session.execute(
        select(FS.id, FS.candidate_id, FS.features).where(FS.id.in_(_newest_ids(as_of)))
    ).all()}


def latest_watermarks(session: Session, *, as_of: datetime | None = None) -> dict[int, FeatureMarks]:
    """The input ids each candidate's newest feature snapshot (as of a time, if given) saw,
    with the time it describes and when it was computed (what an incremental enrich compares
    new rows with)."""
    return {candidate_id: FeatureMarks(Watermark(snapshot, post_snapshot, press), described, computed)
            for candidate_id, snapshot, post_snapshot, press, described, computed in session.execute(
                select(FS.candidate_id, FS.max_snapshot_id, FS.max_post_snapshot_id, FS.max_press_id, FS.as_of,
                       FS.computed_at)
                .where(FS.id.in_(_newest_ids(as_of)))
            ).all()}


def insert_feature_snapshots(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert feature snapshots (dicts keyed by column name), 500 to a statement; returns how many."""
    for start in range(0, len(rows), 500):
        session.execute(insert(FS.__table__), [dict(row) for row in rows[start:start + 500]])
    session.flush()
    return len(rows)


def update_rankings(session: Session, rankings: Sequence[Mapping[str, Any]]) -> int:
    """Set the cohort-relative values of feature snapshots: each mapping holds a row's ``id``
    and the columns to set (every mapping the same columns). Returns how many rows."""
    if not rankings:
        return 0
    table = FS.__table__
    columns = [name for name in rankings[0] if name != "id"]
    # Bind names differ from column names: SQLAlchemy reserves a column's own name in UPDATE ... SET.
    statement = update(table).where(table.c.id == bindparam("_id")).values(
        **{name: bindparam(f"_{name}") for name in columns}
    )
    session.connection().execute(statement, [{f"_{key}": value for key, value in row.items()} for row in rankings])
    return len(rankings)
