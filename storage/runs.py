"""Crawl runs and what each stored: starting and finishing a run, keeping it alive and
interrupting it when its process is gone, its snapshots and failures, and the runs of a time
window with their per-platform account outcomes.

A run records who runs it (``owner``, ``host:pid:token`` as leases do) and, while a crawl
beats (``crawler/runner.py``), when it was last seen alive (``heartbeat_at``). A run left
``running`` by a process that was killed (SIGKILL, OOM, a lost machine) is marked
``interrupted`` by :func:`interrupt_dead_runs`, which every command that looks at runs calls
first (``wangzi runs``, ``wangzi health``, the start of every crawl): at once when its process
on this host no longer exists, and when its heartbeat is older than :data:`RUN_STALE_AFTER`
wherever it ran.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from storage.leases import new_owner, owner_is_dead
from storage.models import Account, CrawlRun, FetchFailure, ProfileSnapshot, utcnow

#: How often a running crawl stamps its run's ``heartbeat_at``.
RUN_HEARTBEAT = timedelta(seconds=30)
#: A run whose heartbeat (or, for a run from before heartbeats, whose start) is older than this
#: is dead: ten beats missed.
RUN_STALE_AFTER = timedelta(minutes=5)


def run_owner() -> str:
    """``host:pid:token`` naming this process as a run's owner."""
    return new_owner(uuid.uuid4().hex[:12])


def start_run(session: Session, trigger: str, owner: str | None = None) -> CrawlRun:
    """A new ``running`` run owned by ``owner`` (default: this process)."""
    run = CrawlRun(trigger=trigger, owner=owner or run_owner())
    session.add(run)
    session.flush()
    return run


def beat_run(session: Session, run_id: int, now: datetime | None = None) -> bool:
    """Stamp a running run as alive now; False when it is no longer ``running``."""
    result = session.execute(
        update(CrawlRun).where(CrawlRun.id == run_id, CrawlRun.status == "running").values(heartbeat_at=now or utcnow())  # type: ignore[arg-type]
    )
    return (result.rowcount or 0) == 1


def is_dead(run: CrawlRun, now: datetime) -> bool:
    """A ``running`` run whose process is gone: a process of this host that no longer exists,
    or no heartbeat for :data:`RUN_STALE_AFTER` (a run that never beat and names no owner,
    from before runs had them, is judged by its start)."""
    if run.status != "running":
        return False
    if owner_is_dead(run.owner):
        return True
    last_seen = run.heartbeat_at or (run.started_at if run.owner is None else None)
    return last_seen is not None and last_seen + RUN_STALE_AFTER < now


def interrupt_dead_runs(session: Session, now: datetime | None = None) -> list[int]:
    """Mark every dead ``running`` run (see :func:`is_dead`) ``interrupted``, finished when it
    was last seen alive; returns their ids."""
    now = now or utcnow()
    found = []
    for run in session.exec(select(CrawlRun).where(CrawlRun.status == "running").order_by(CrawlRun.id)).all():
        if is_dead(run, now):
            run.status = "interrupted"
            run.finished_at = run.heartbeat_at or run.started_at
            session.add(run)
            found.append(run.id)
    return found  # type: ignore[return-value]


def finish_run(session: Session, run_id: int, status: str) -> None:
    run = session.get(CrawlRun, run_id)
    if run is not None:
        run.status = status
        run.finished_at = utcnow()
        session.add(run)


def get_run(session: Session, run_id: int) -> CrawlRun | None:
    return session.get(CrawlRun, run_id)


def merge_run_stats(session: Session, run_id: int, platform: str, stats: dict[str, Any]) -> None:
    """Set one platform's statistics in the run's ``stats``, keeping the other platforms'
    (every spider of a run closes on its own and adds its platform)."""
    run = session.get(CrawlRun, run_id)
    if run is not None:
        run.stats = {**(run.stats or {}), platform: stats}
        session.add(run)


def run_failures(session: Session, run_id: int) -> list[FetchFailure]:
    return list(session.exec(select(FetchFailure).where(FetchFailure.crawl_run_id == run_id).order_by(FetchFailure.id)).all())


def run_feed_failures(session: Session, run_id: int, candidate_id: int | None = None) -> list[FetchFailure]:
    """The press feed failures of one run (rows that name a candidate), oldest first."""
    statement = select(FetchFailure).where(
        FetchFailure.crawl_run_id == run_id,
        FetchFailure.candidate_id.is_not(None),  # type: ignore[union-attr]
    )
    if candidate_id is not None:
        statement = statement.where(FetchFailure.candidate_id == candidate_id)
    return list(session.exec(statement.order_by(FetchFailure.id)).all())


def run_snapshots(session: Session, run_id: int) -> list[tuple[Account, ProfileSnapshot]]:
    statement = (
        select(Account, ProfileSnapshot)
        .join(ProfileSnapshot, ProfileSnapshot.account_id == Account.id)
        .where(ProfileSnapshot.crawl_run_id == run_id)
        .order_by(ProfileSnapshot.id)
    )
    return list(session.exec(statement).all())


def recent_runs(session: Session, limit: int = 20, since: datetime | None = None) -> list[CrawlRun]:
    statement = select(CrawlRun)
    if since is not None:
        statement = statement.where(CrawlRun.started_at >= since)
    return list(session.exec(statement.order_by(CrawlRun.id.desc()).limit(limit)).all())  # type: ignore[union-attr]


def runs_between(session: Session, start: datetime, end: datetime) -> list[CrawlRun]:
    return list(
        session.exec(
            select(CrawlRun).where(CrawlRun.started_at >= start, CrawlRun.started_at < end).order_by(CrawlRun.id)
        ).all()
    )


def run_account_outcomes(session: Session, run_ids: Sequence[int]) -> dict[str, dict[str, int]]:
    """Per platform: accounts with a snapshot and accounts with only failures in these runs
    (press feed failures, which name a candidate instead of an account, are not outcomes).

    Read from the stored rows, so it holds for runs whose stats predate the ``accounts``
    counters too."""
    result: dict[str, dict[str, int]] = {}
    if not run_ids:
        return result
    ok: dict[str, set[int]] = {}
    for platform, account_id in session.execute(
        select(Account.platform, ProfileSnapshot.account_id)
        .join(Account, Account.id == ProfileSnapshot.account_id)
        .where(ProfileSnapshot.crawl_run_id.in_(list(run_ids)))  # type: ignore[union-attr]
        # What the crawl itself read: rows `wangzi reparse` added to the run later do not
        # change how the platform answered then.
        .where(ProfileSnapshot.reparse_of.is_(None))  # type: ignore[union-attr]
        .distinct()
    ):
        ok.setdefault(platform, set()).add(account_id)
    failed: dict[str, set[Any]] = {}
    for platform, account_id, failure_id in session.execute(
        select(FetchFailure.platform, FetchFailure.account_id, FetchFailure.id).where(
            FetchFailure.crawl_run_id.in_(list(run_ids)),  # type: ignore[union-attr]
            # Press feed failures name a candidate, not an account: not an account outcome.
            FetchFailure.candidate_id.is_(None),  # type: ignore[union-attr]
        )
    ):
        failed.setdefault(platform, set()).add(account_id if account_id is not None else f"failure:{failure_id}")
    for platform in set(ok) | set(failed):
        good = ok.get(platform, set())
        bad = failed.get(platform, set()) - good
        result[platform] = {"accounts_ok": len(good), "accounts_failed": len(bad)}
    return result
