"""storage.db.insert_rows writes what SQLAlchemy's own insert writes: every value through its
column type's bind processor (times, booleans, JSON), JSON given as text kept as it is."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import insert, select

from storage.db import insert_rows, session_scope
from storage.models import Candidate, FeatureRanking, FeatureSnapshot


def _row(candidate_id: int, n: int) -> dict[str, object]:
    at = datetime(2026, 5, 1, 8, 30, 15, 123456, tzinfo=timezone.utc)
    return {"candidate_id": candidate_id, "computed_at": at, "as_of": at,
            "schema_version": "v", "features": {"name": "Zoë \"quoted\" '; DROP TABLE x; --", "n": n, "nan": None,
                                               "nested": {"a": [1.5, True, None]}},
            "followers_total": 12_000 + n, "overseas_share": 0.25, "growth_flags_text": json.dumps(["spike"])}


def test_insert_rows_stores_what_sqlalchemys_insert_stores(database_url: str) -> None:
    with session_scope(database_url) as session:
        candidate = Candidate(display_name="one")
        session.add(candidate)
        session.flush()
        cid = candidate.id
        table = FeatureSnapshot.__table__
        session.execute(insert(table), [_row(cid, 0)])  # type: ignore[arg-type]
        assert insert_rows(session, table, [_row(cid, 1)]) == 1
        as_text = {**_row(cid, 2), "features": json.dumps(_row(cid, 2)["features"])}
        assert insert_rows(session, table, [as_text], json_text=("features",)) == 1
        assert insert_rows(session, table, []) == 0
    with session_scope(database_url) as session:
        rows = session.execute(select(FeatureSnapshot.__table__).order_by(FeatureSnapshot.id)).mappings().all()
    assert len(rows) == 3
    columns = [name for name in rows[0] if name != "id"]
    reference = {name: rows[0][name] for name in columns}
    for n, row in enumerate(rows[1:], start=1):
        got = {name: row[name] for name in columns}
        assert got["features"] == {**reference["features"], "n": n}
        assert got["followers_total"] == 12_000 + n
        assert {k: v for k, v in got.items() if k not in ("features", "followers_total")} == \
            {k: v for k, v in reference.items() if k not in ("features", "followers_total")}


def _ranking(snapshot_id: int, score: float) -> dict[str, object]:
    at = datetime(2026, 5, 2, 9, 0, tzinfo=timezone.utc)
    return {"snapshot_id": snapshot_id, "ranked_at": at, "reference": "cohort", "ranking_digest": f"d{score}",
            "tier": "micro", "composite_score": score, "composite_coverage": None,
            "top_contributors": {"composite": [{"component": "ip_abroad", "value": True, "points": score}]}}


def test_insert_rows_replacing_on_a_key_writes_the_new_row_over_the_stored_one(database_url: str) -> None:
    with session_scope(database_url) as session:
        candidate = Candidate(display_name="one")
        session.add(candidate)
        session.flush()
        ids = []
        for n in range(2):
            snapshot = FeatureSnapshot(candidate_id=candidate.id, as_of=datetime.now(timezone.utc), schema_version="v")
            session.add(snapshot)
            session.flush()
            ids.append(snapshot.id)
        table = FeatureRanking.__table__
        session.execute(insert(table), [_ranking(ids[0], 10.0)])  # type: ignore[arg-type]
        assert insert_rows(session, table, [_ranking(ids[1], 20.0)], replace_on="snapshot_id") == 1  # new: inserted
        replaced = {**_ranking(ids[0], 30.0), "top_contributors": json.dumps(_ranking(ids[0], 30.0)["top_contributors"])}
        assert insert_rows(session, table, [replaced], json_text=("top_contributors",), replace_on="snapshot_id") == 1
    with session_scope(database_url) as session:
        rows = {row["snapshot_id"]: dict(row) for row in session.execute(select(table)).mappings()}
        session.execute(table.delete())
        session.execute(insert(table), [_ranking(ids[0], 30.0), _ranking(ids[1], 20.0)])  # type: ignore[arg-type]
        expected = {row["snapshot_id"]: dict(row) for row in session.execute(select(table)).mappings()}
    assert len(rows) == 2 and rows == expected
