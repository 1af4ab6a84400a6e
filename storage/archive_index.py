"""The raw archive's index: one ``archivecapture`` row per answer kept in a WARC file.

Written by the archive middleware (``crawler/middlewares/archive.py``) as a crawl receives
answers, read by ``wangzi reparse`` (``crawler/cli/reparse.py``), and marked expired when
retention (``WANGZI_ARCHIVE_DAYS``) deletes a file. The WARC files themselves are read and
written by ``crawler/warc.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage.models import ArchiveCapture, ProfileSnapshot, utcnow


def add_captures(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Index archived answers (dicts of :class:`ArchiveCapture` fields); returns rows added."""
    for row in rows:
        session.add(ArchiveCapture(**row))
    session.flush()
    return len(rows)


def get_capture(session: Session, capture_id: int) -> ArchiveCapture | None:
    return session.get(ArchiveCapture, capture_id)


def captures_to_reparse(
    session: Session, platforms: Iterable[str], since: datetime | None = None
) -> list[ArchiveCapture]:
    """The kept answers of account chains on these platforms (captured at or after ``since``),
    grouped by run and in the order they were received."""
    statement = select(ArchiveCapture).where(
        col(ArchiveCapture.platform).in_(list(platforms)),
        col(ArchiveCapture.source).is_not(None),
        col(ArchiveCapture.expired_at).is_(None),
        (col(ArchiveCapture.account_id).is_not(None)) | (col(ArchiveCapture.handle).is_not(None))
        | (col(ArchiveCapture.platform_user_id).is_not(None)),
    )
    if since is not None:
        statement = statement.where(ArchiveCapture.captured_at >= since)
    return list(session.exec(statement.order_by(col(ArchiveCapture.crawl_run_id), col(ArchiveCapture.id))).all())


def crawled_snapshot_exists(session: Session, account_id: int, run_id: int | None) -> bool:
    """Whether the crawl of ``run_id`` itself stored a snapshot of the account (not a reparse)."""
    return session.exec(
        select(ProfileSnapshot.id).where(
            ProfileSnapshot.account_id == account_id,
            ProfileSnapshot.crawl_run_id == run_id,
            col(ProfileSnapshot.reparse_of).is_(None),
        ).limit(1)
    ).first() is not None


def expire_files(session: Session, warc_files: Iterable[str], now: datetime | None = None) -> int:
    """Mark the captures of deleted WARC files (paths relative to the archive folder) expired;
    their rows stay, as the provenance that reparsed snapshots point to."""
    files = list(warc_files)
    if not files:
        return 0
    result = session.execute(
        update(ArchiveCapture)
        .where(col(ArchiveCapture.warc_file).in_(files), col(ArchiveCapture.expired_at).is_(None))
        .values(expired_at=now or utcnow())
    )
    return result.rowcount or 0


def capture_totals(session: Session, run_ids: Sequence[int] | None = None) -> tuple[int, int]:
    """(answers, payload bytes) indexed, for these runs or all."""
    statement = select(func.count(ArchiveCapture.id), func.coalesce(func.sum(ArchiveCapture.size), 0))
    if run_ids is not None:
        statement = statement.where(col(ArchiveCapture.crawl_run_id).in_(list(run_ids)))
    count, size = session.execute(statement).one()
    return int(count), int(size)
