"""Answers a parser did not recognise (``driftcapture``): kept by the drift capture spider
middleware (``crawler/spidermiddlewares/drift_capture.py``), listed by ``wangzi drift`` grouped
by platform and shape, and turned into test fixtures by ``wangzi fixtures add``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.db import insert_ignore
from storage.models import DriftCapture


@dataclass(frozen=True)
class DriftGroup:
    """The captures of one platform, parser and shape."""

    platform: str
    shape: str
    shape_summary: str
    parser: str
    parser_version: str
    captures: int
    first_seen: datetime
    last_seen: datetime
    newest_id: int


def add_drift_capture(session: Session, row: dict[str, Any]) -> int:
    """Keep one unrecognised answer; the same payload for the same parser version is kept once."""
    return insert_ignore(session, DriftCapture, [row])


def get_drift_capture(session: Session, capture_id: int) -> DriftCapture | None:
    return session.get(DriftCapture, capture_id)


def drift_groups(session: Session, platform: str | None = None) -> list[DriftGroup]:
    """Captures grouped by (platform, shape, parser, version), newest group first."""
    statement = select(
        DriftCapture.platform, DriftCapture.shape, func.max(DriftCapture.shape_summary), DriftCapture.parser,
        DriftCapture.parser_version, func.count(DriftCapture.id), func.min(DriftCapture.captured_at),
        func.max(DriftCapture.captured_at), func.max(DriftCapture.id),
    ).group_by(DriftCapture.platform, DriftCapture.shape, DriftCapture.parser, DriftCapture.parser_version)
    if platform is not None:
        statement = statement.where(DriftCapture.platform == platform)
    groups = [DriftGroup(*row) for row in session.execute(statement).all()]
    return sorted(groups, key=lambda g: (g.platform, -g.newest_id))


def drift_captures(session: Session, platform: str | None = None, shape: str | None = None) -> list[DriftCapture]:
    """Captures, newest first (without loading their payloads' groups)."""
    statement = select(DriftCapture)
    if platform is not None:
        statement = statement.where(DriftCapture.platform == platform)
    if shape is not None:
        statement = statement.where(DriftCapture.shape == shape)
    return list(session.exec(statement.order_by(col(DriftCapture.id).desc())).all())
