"""The features ranking reads of each feature row, kept by the ranking (table ``rankinginput``,
migration 0023).

Ranked against the live cohort, every row's percentiles depend on every other row's values, so
every ``enrich`` reads the ranking's ~40 features of every newest row. Picked out of 2,000
documents of ~6 KB that took ~0.2 s, a third of an incremental enrich. A feature row's
document never changes after insert except for the earliness the ranking itself rewrites, so
the ranking keeps what it reads of a row here, in its own compact text form
(:mod:`enrichment.ranking_inputs`), under ``names_key``: which features those are (they follow
the weights). It writes a row again whenever it rewrites that row's earliness.

This module stores and reads the strings. The rows are a cache: deleting them loses nothing
(the next ranking reads the documents again); a row goes with its feature row (``ON DELETE
CASCADE``). A migration that rewrites feature documents deletes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlmodel import Session

from storage.db import among_ids, upsert
from storage.models import RankingInput


def kept_inputs(session: Session, snapshot_ids: Sequence[int], names_key: str) -> dict[int, str]:
    """Feature snapshot id -> its kept inputs, for those of these rows kept under ``names_key``."""
    if not snapshot_ids:
        return {}
    return dict(session.execute(
        select(RankingInput.snapshot_id, RankingInput.inputs)
        .where(among_ids(session, RankingInput.snapshot_id, sorted(set(snapshot_ids))), RankingInput.names_key == names_key)
    ).all())


def keep_inputs(session: Session, inputs: Mapping[int, str], names_key: str) -> int:
    """Store each feature snapshot's inputs under ``names_key``, replacing what it had. Returns
    how many were written."""
    return upsert(session, RankingInput, [{"snapshot_id": fid, "names_key": names_key, "inputs": text}
                                          for fid, text in inputs.items()], key="snapshot_id")
