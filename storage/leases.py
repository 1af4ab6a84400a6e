"""Crawl leases: each account's refresh state and who is crawling it.

A :class:`~storage.models.Lease` row exists per (platform, subject): the subject is an account id for the
social platforms, a candidate id for ``press``. It remembers when each kind of data
(``profiles``, ``posts``, ``press``) was last refreshed and, while a crawl holds it, who
holds it and until when. Claiming is an optimistic compare-and-set on ``version``
(``UPDATE ... WHERE id = :id AND version = :seen``), which serialises correctly on SQLite
(one writer at a time) and on PostgreSQL (row locks, re-checked under READ COMMITTED):
of two overlapping ``crawl --due`` runs exactly one gets each account.

A lease whose holder died (SIGKILL, lost machine) expires; the next run settles it from
what the database holds: an account with a snapshot or a typed failure stored after the
lease was taken counts as done, anything else becomes due again. So a killed crawl
resumes without repeating or losing work.
"""

# No `from __future__ import annotations`: SQLModel needs real annotations.

import os
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from storage.models import FetchFailure, Lease, ProfileSnapshot, utcnow
from storage.db import insert_ignore

#: Failure kinds that say nothing about the account (the network or the server hiccuped):
#: the account is retried after ``transient_retry`` instead of waiting a whole interval.
TRANSIENT_FAILURES = frozenset({"network", "http_error"})

T = TypeVar("T")


# --------------------------------------------------------------------------- lease owners


def new_owner(token: str, process: bool = True) -> str:
    """An owner name that says who holds a lease: ``host:pid:token`` for a crawl in this
    process (a dead pid frees it at once), ``host:queue:token`` for jobs handed to Redis
    workers (only expiry or the workers free it)."""
    return f"{socket.gethostname()}:{os.getpid() if process else 'queue'}:{token}"[:200]


def owner_is_dead(owner: str | None) -> bool:
    """True when the owner is a process on this host that no longer exists."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def is_stale(lease: Lease, now: datetime) -> bool:
    """A held lease whose holder is gone: expired, or a dead process on this host."""
    if lease.owner is None:
        return False
    return lease.expires_at is None or lease.expires_at <= now or owner_is_dead(lease.owner)


# --------------------------------------------------------------------------- leases


def ensure_leases(session: Session, platform: str, subject_ids: Iterable[int]) -> None:
    """Make sure a lease row exists for every subject (idempotent, concurrency-safe)."""
    rows = [{"platform": platform, "subject_id": s, "version": 0, "kinds": [], "refreshed": {}} for s in subject_ids]
    for start in range(0, len(rows), 500):
        insert_ignore(session, Lease, rows[start : start + 500])


def leases(session: Session, platform: str, subject_ids: Sequence[int] | None = None) -> list[Lease]:
    statement = select(Lease).where(Lease.platform == platform)
    if subject_ids is not None:
        ids = list(subject_ids)
        found: list[Lease] = []
        for start in range(0, len(ids), 500):
            found += session.exec(statement.where(Lease.subject_id.in_(ids[start : start + 500]))).all()  # type: ignore[attr-defined]
        return sorted(found, key=lambda lease: lease.id or 0)
    return list(session.exec(statement.order_by(Lease.id)).all())


def claim(
    session: Session, lease: Lease, *, owner: str, kinds: Sequence[str], run_id: int | None, ttl: timedelta, now: datetime
) -> bool:
    """Take a lease if nobody changed it since it was read (compare-and-set on ``version``)."""
    result = session.execute(
        update(Lease)
        .where(Lease.id == lease.id, Lease.version == lease.version)  # type: ignore[arg-type]
        .values(
            owner=owner, run_id=run_id, acquired_at=now, expires_at=now + ttl,
            version=lease.version + 1, kinds=list(kinds),
        )
    )
    return (result.rowcount or 0) == 1


def renew(session: Session, owner: str, ttl: timedelta, now: datetime | None = None) -> int:
    """Push back the expiry of every lease the owner holds (the crawl is still alive)."""
    now = now or utcnow()
    result = session.execute(update(Lease).where(Lease.owner == owner).values(expires_at=now + ttl))  # type: ignore[arg-type]
    return result.rowcount or 0


def outcomes_since(session: Session, account_ids: Sequence[int], since: datetime) -> dict[int, str]:
    """What was stored for each account since a moment: ``snapshot`` or the failure kind.

    A snapshot wins over failures; among failures a final one (not transient) wins."""
    found: dict[int, str] = {}
    ids = list(account_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for (account_id,) in session.execute(
            select(ProfileSnapshot.account_id)
            .where(ProfileSnapshot.account_id.in_(chunk), ProfileSnapshot.captured_at >= since)  # type: ignore[attr-defined]
            .distinct()
        ):
            found[account_id] = "snapshot"
        for account_id, kind in session.execute(
            select(FetchFailure.account_id, FetchFailure.kind).where(
                FetchFailure.account_id.in_(chunk), FetchFailure.occurred_at >= since  # type: ignore[union-attr]
            )
        ):
            current = found.get(account_id)
            if current == "snapshot" or (current is not None and current not in TRANSIENT_FAILURES):
                continue
            found[account_id] = kind
    return found


def settle(
    session: Session, held: Sequence[Lease], *, outcomes: dict[int, str], transient_retry: timedelta, now: datetime
) -> dict[str, int]:
    """Release leases: record the refresh of each lease whose subject has an outcome, leave the
    rest due. Only leases still at the version that was read are touched."""
    counts = {"done": 0, "retry_later": 0, "released": 0}
    for lease in held:
        outcome = outcomes.get(lease.subject_id)
        values: dict[str, Any] = {"owner": None, "expires_at": None, "run_id": None, "kinds": [], "version": lease.version + 1}
        if outcome is None:
            values["last_outcome"] = "nothing"
            counts["released"] += 1
        elif outcome in TRANSIENT_FAILURES:
            values.update(last_outcome=outcome, not_before=now + transient_retry)
            counts["retry_later"] += 1
        else:
            stamp = (lease.acquired_at or now).isoformat()
            values.update(
                last_outcome=outcome, not_before=None,
                refreshed={**(lease.refreshed or {}), **{kind: stamp for kind in lease.kinds or []}},
            )
            counts["done"] += 1
        session.execute(
            update(Lease).where(Lease.id == lease.id, Lease.version == lease.version).values(**values)  # type: ignore[arg-type]
        )
    return counts


def settle_accounts(
    session: Session, held: Sequence[Lease], *, transient_retry: timedelta, now: datetime | None = None
) -> dict[str, int]:
    """Settle held leases from what the database holds for their accounts since each was taken."""
    now = now or utcnow()
    outcomes: dict[int, str] = {}
    by_since: dict[datetime, list[int]] = {}
    for lease in held:
        if lease.platform == "press":
            continue
        by_since.setdefault(lease.acquired_at or now, []).append(lease.subject_id)
    for since, ids in by_since.items():
        outcomes.update(outcomes_since(session, ids, since))
    return settle(session, held, outcomes=outcomes, transient_retry=transient_retry, now=now)


def held_by(session: Session, owner: str) -> list[Lease]:
    return list(session.exec(select(Lease).where(Lease.owner == owner).order_by(Lease.id)).all())


def stale_leases(session: Session, now: datetime) -> list[Lease]:
    """Held leases whose holder is gone (expired, or a dead process on this host)."""
    held = session.exec(select(Lease).where(Lease.owner.is_not(None)).order_by(Lease.id)).all()  # type: ignore[union-attr]
    return [lease for lease in held if is_stale(lease, now)]


def mark_done(session: Session, platform: str, subject_id: int, owner: str, outcome: str, transient_retry: timedelta) -> bool:
    """Settle one lease the caller holds with a known outcome (distributed workers)."""
    lease = session.exec(select(Lease).where(Lease.platform == platform, Lease.subject_id == subject_id)).first()
    if lease is None or lease.owner != owner:
        return False
    settle(session, [lease], outcomes={subject_id: outcome}, transient_retry=transient_retry, now=utcnow())
    return True


def assign_run(session: Session, owner: str, run_id: int) -> None:
    """Record which run crawls the leases an owner holds."""
    session.execute(update(Lease).where(Lease.owner == owner).values(run_id=run_id))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- write races


def with_retries(work: Callable[[], T], attempts: int = 5) -> T:
    """Run a unit of work again when it lost a write race on SQLite ("database is locked"):
    overlapping crawls and workers claim and settle leases in the same file at once."""
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")
