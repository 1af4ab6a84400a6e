"""Synthetic history: invented earlier snapshots that ``wangzi demo`` adds so its charts,
growth and growth-authenticity features have a past to show (issue 18 item 9). Never for real
data: nothing but the demo writes them.

They are marked twice, so no export or ranking can take them for what a platform said:

* they belong to a crawl run whose ``trigger`` is ``synthetic`` (:data:`SYNTHETIC_TRIGGER`),
  finished when written, with ``stats`` saying what it is;
* each snapshot's ``parser`` is ``synthetic.backfill`` (:data:`SYNTHETIC_PARSER`), its
  ``parser_version`` ``synthetic`` and its ``source_url`` ``synthetic:backfill``.

A candidate whose features read any of them is found by :func:`synthetic_candidates`; the
enrichment stage stores ``synthetic_history: true`` in their feature rows, which exports,
``wangzi rank``, ``GET /ranking`` and ``GET /candidates/{id}/features`` carry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import exists, select
from sqlmodel import Session

from storage.db import insert_ignore
from storage.models import Account, CrawlRun, ProfileSnapshot, utcnow

#: ``crawlrun.trigger`` of the run synthetic snapshots belong to.
SYNTHETIC_TRIGGER = "synthetic"
#: ``profilesnapshot.parser`` (and, as ``synthetic``, ``parser_version``) of a synthetic snapshot.
SYNTHETIC_PARSER = "synthetic.backfill"
SYNTHETIC_URL = "synthetic:backfill"


class SyntheticPoint(NamedTuple):
    """One invented follower count of an account at a time."""

    account_id: int
    captured_at: datetime
    followers: int


def add_synthetic_history(session: Session, points: Sequence[SyntheticPoint], *, note: str) -> int | None:
    """Store ``points`` as snapshots of one new run with trigger ``synthetic`` (``note`` says
    what made them, in the run's stats); returns the run id, None for no points. Idempotent per
    point within the run (the snapshot key)."""
    if not points:
        return None
    now = utcnow()
    run = CrawlRun(trigger=SYNTHETIC_TRIGGER, status="finished", started_at=now, finished_at=now,
                   stats={"synthetic": {"snapshots": len(points), "note": note}})
    session.add(run)
    session.flush()
    rows = [{
        "account_id": p.account_id, "crawl_run_id": run.id, "captured_at": p.captured_at, "followers": p.followers,
        "approximate": [], "lower_bound": [], "source_url": SYNTHETIC_URL, "parser": SYNTHETIC_PARSER,
        "parser_version": "synthetic",
        "payload_sha256": hashlib.sha256(f"{p.account_id}:{p.captured_at.isoformat()}:{p.followers}".encode()).hexdigest(),
    } for p in points]
    for start in range(0, len(rows), 500):
        insert_ignore(session, ProfileSnapshot, rows[start:start + 500])
    return run.id


def synthetic_accounts(session: Session, account_ids: Iterable[int]) -> set[int]:
    """The accounts among these that have synthetic snapshots."""
    ids = list(account_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 900):
        found.update(session.execute(
            select(ProfileSnapshot.account_id).distinct().join(CrawlRun, CrawlRun.id == ProfileSnapshot.crawl_run_id)
            .where(CrawlRun.trigger == SYNTHETIC_TRIGGER, ProfileSnapshot.account_id.in_(ids[start:start + 900]))
        ).scalars())
    return found


def synthetic_candidates(session: Session, candidate_ids: Iterable[int]) -> set[int]:
    """The candidates among these with an account that has synthetic snapshots. One look at the
    runs first: a database without synthetic runs (every real one) pays nothing more."""
    if not session.execute(select(exists().where(CrawlRun.trigger == SYNTHETIC_TRIGGER))).scalar():
        return set()
    ids = list(candidate_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 900):
        found.update(session.execute(
            select(Account.candidate_id).distinct().join(ProfileSnapshot, ProfileSnapshot.account_id == Account.id)
            .join(CrawlRun, CrawlRun.id == ProfileSnapshot.crawl_run_id)
            .where(CrawlRun.trigger == SYNTHETIC_TRIGGER, Account.candidate_id.in_(ids[start:start + 900]))  # type: ignore[union-attr]
        ).scalars())
    return found
