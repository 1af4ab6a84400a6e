"""The features ranking reads of each feature row, kept by the ranking (table ``rankinginput``,
migration 0023).

Ranked against the live cohort, every row's percentiles depend on every other row's values, so
every ``enrich`` reads the ranking's ~40 features of every newest row. Picked out of 2,000
documents of ~6 KB that took ~0.2 s, a third of an incremental enrich. A feature row's
document never changes after insert except for the earliness the ranking itself rewrites, so
the ranking keeps what it reads of a row here, in its own compact text form
(:mod:`enrichment.ranking_inputs`), under ``names_key``: which features those are (they follow
the weights). It writes a row again whenever it rewrites that row's earliness.

This module stores the strings; the ranking reads them with the newest rows
(``storage.features.iter_newest_rows(kept_under=...)``), a row's only when it was kept from
the row as it is (the same ``computed_at``: an id SQLite gave again to a new row, after rows
were deleted without their foreign keys enforced, does not find the old row's view). The rows are a cache: deleting them loses nothing
(the next ranking reads the documents again); a row goes with its feature row (``ON DELETE
CASCADE``). A migration that rewrites feature documents deletes them.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlmodel import Session

from storage.db import among_ids, upsert
from storage.models import FeatureSnapshot as FS
from storage.models import RankingInput


def keep_inputs(session: Session, inputs: Mapping[int, str], names_key: str) -> int:
    """Store each feature snapshot's inputs under ``names_key`` with the row's ``computed_at``,
    replacing what it had. Returns how many were written."""
    if not inputs:
        return 0
    computed = dict(session.execute(select(FS.id, FS.computed_at).where(among_ids(session, FS.id, sorted(inputs)))).all())
    return upsert(session, RankingInput, [{"snapshot_id": fid, "computed_at": computed[fid], "names_key": names_key,
                                           "inputs": text} for fid, text in inputs.items() if fid in computed],
                  key="snapshot_id")
