"""Frozen references: the cohort's distribution of every index component, stored under a name
and a version by ``wangzi reference freeze`` so that indices computed against it do not move
when other candidates join (``enrichment.indices.Reference`` says what the payload holds).

Versions count up per name from 1; the newest reference (the highest id) is what ``enrich``
ranks against unless told otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import FeatureReference


class ReferenceSummary(NamedTuple):
    """A stored reference without its payload (what ``wangzi reference list`` shows)."""

    id: int
    name: str
    version: int
    created_at: datetime
    as_of: datetime | None
    cohort_size: int
    weights_source: str | None


def store_reference(session: Session, name: str, payload: dict[str, Any], *, cohort_size: int,
                    as_of: datetime | None, weights_source: str | None) -> FeatureReference:
    """Store a new version of the named reference (1 for a new name); returns the row."""
    newest = session.execute(select(func.max(FeatureReference.version)).where(FeatureReference.name == name)).scalar()
    row = FeatureReference(name=name, version=(newest or 0) + 1, as_of=as_of, cohort_size=cohort_size,
                           weights_source=weights_source, payload=payload)
    session.add(row)
    session.flush()
    return row


def find_reference(session: Session, name: str | None = None, version: int | None = None) -> FeatureReference | None:
    """The reference of that name and version; the newest version of the name without a
    version; the newest reference of all without a name. None when there is none."""
    query = select(FeatureReference)
    if name is not None:
        query = query.where(FeatureReference.name == name)
    if version is not None:
        query = query.where(FeatureReference.version == version)
    return session.execute(query.order_by(FeatureReference.id.desc()).limit(1)).scalars().first()


def list_references(session: Session) -> list[ReferenceSummary]:
    """Every stored reference, oldest first, without the payloads."""
    return [ReferenceSummary(*row) for row in session.execute(
        select(FeatureReference.id, FeatureReference.name, FeatureReference.version, FeatureReference.created_at,
               FeatureReference.as_of, FeatureReference.cohort_size, FeatureReference.weights_source)
        .order_by(FeatureReference.id)
    ).all()]
