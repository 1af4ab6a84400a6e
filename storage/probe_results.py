"""What ``wangzi health --probe`` found per platform (``proberesult``), and which platforms a
scheduled crawl skips because their last probe said drift (``crawler/schedule.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import ProbeResult

#: The status that keeps a platform out of scheduled crawls until a probe says otherwise.
DRIFT = "drift"


def add_probe_results(session: Session, rows: Sequence[dict[str, Any]]) -> list[ProbeResult]:
    results = [ProbeResult(**row) for row in rows]
    for result in results:
        session.add(result)
    session.flush()
    return results


def latest_probe_results(session: Session) -> dict[str, ProbeResult]:
    """Each probed platform's newest result."""
    newest = select(ProbeResult.platform, func.max(ProbeResult.id).label("id")).group_by(ProbeResult.platform).subquery()
    rows = session.exec(select(ProbeResult).join(newest, newest.c.id == ProbeResult.id)).all()
    return {row.platform: row for row in sorted(rows, key=lambda r: r.platform)}


def drifted_platforms(session: Session) -> dict[str, ProbeResult]:
    """The platforms whose newest probe said drift, with that result."""
    return {platform: row for platform, row in latest_probe_results(session).items() if row.status == DRIFT}
