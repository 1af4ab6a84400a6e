"""One definition of a candidate's newest feature row, and ``--as-of`` kept to a sane range.

A backdated ``enrich --as-of`` adds rows describing a past time: they never displace the row
describing a later time for the ranking, the export, the report, the HTTP service and the
``candidate_features_latest`` view; they never stop a later plain ``enrich`` from recomputing
and ranking; and an ``--as-of`` outside 2000-01-01 .. tomorrow is a one-line usage error."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from enrichment.stage import enrich, feature_table
from storage.db import get_engine, session_scope
from storage.features import (
    latest_feature_snapshot,
    latest_feature_snapshots,
    latest_features,
    top_feature_snapshots,
)
from storage.models import Account, Candidate, FeatureSnapshot
from tests.test_export import _snapshot, populate

UTC = timezone.utc


def _cli(*args: str, database_url: str) -> Any:
    from crawler.cli import app

    return CliRunner().invoke(app, [*args, "--database-url", database_url], env={"COLUMNS": "200"})


def _current(database_url: str) -> dict[str, Any]:
    """Which row each reader calls a candidate's newest: ranking, export, report/API, view."""
    with session_scope(database_url) as session:
        ranked = {snapshot.candidate_id: snapshot.id for snapshot, _ in top_feature_snapshots(session, "composite_index", 50)}
        exported = {snapshot.candidate_id: snapshot.id for snapshot, _, _ in latest_feature_snapshots(session)}
        api = {cid: latest_feature_snapshot(session, cid).id for cid in exported}  # type: ignore[union-attr]
        scored = {cid: fid for cid, (fid, _) in latest_features(session).items()}
    with get_engine(database_url).connect() as connection:
        view = dict(connection.execute(text("SELECT candidate_id, id FROM candidate_features_latest")).all())
    assert ranked == exported == api == scored == view, (ranked, exported, api, scored, view)
    return exported


# --------------------------------------------------------------------------- --as-of bounds


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31", "1999-12-31", "0001-01-01T00:00:00+01:00",
                                   "2026-02-30", "yesterday", "2026-11-01T25:00"])
@pytest.mark.parametrize("command", [("enrich",), ("features", "export", "--format", "csv", "--out", "x.csv")])
def test_an_as_of_out_of_range_or_unreadable_is_a_one_line_usage_error(
    sqlite_url: str, as_of: str, command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _cli(*command, "--as-of", as_of, database_url=sqlite_url)
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # never a traceback
    assert result.stderr.startswith(f"error: --as-of {as_of!r}") and result.stderr.count("\n") == 1


def test_the_as_of_range_runs_from_2000_to_tomorrow(sqlite_url: str) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    for as_of in ("2000-01-01", tomorrow):
        result = _cli("enrich", "--as-of", as_of, database_url=sqlite_url)
        assert result.exit_code == 0, (as_of, result.output, result.exception)


def test_enrich_refuses_an_as_of_out_of_range_with_a_value_error_not_an_overflow(database_url: str) -> None:
    populate(database_url)
    with session_scope(database_url) as session, pytest.raises(ValueError, match="2000-01-01"):
        enrich(session, as_of=datetime(1, 1, 1, tzinfo=UTC))
    with session_scope(database_url) as session, pytest.raises(ValueError, match="2000-01-01"):
        enrich(session, as_of=datetime(9999, 12, 31, tzinfo=UTC))


def test_features_as_of_tomorrow_describe_now_not_the_future(database_url: str) -> None:
    populate(database_url)
    before = datetime.now(UTC)
    assert _cli("enrich", "--as-of", (before + timedelta(days=1)).date().isoformat(), database_url=database_url).exit_code == 0
    with session_scope(database_url) as session:
        rows = session.exec(select(FeatureSnapshot)).all()
        assert rows and all(before <= row.as_of <= row.computed_at <= datetime.now(UTC) for row in rows)
        account = session.exec(select(Account).where(Account.handle == "li")).one()
        session.add(_snapshot(account, 0, 99_999))
    with session_scope(database_url) as session:
        assert enrich(session).computed == 1
    assert [row.followers_total for row in _rows_of(database_url, "Local Li")][-1] == 99_999
    assert _current(database_url)[_candidate(database_url, "Local Li")] == _rows_of(database_url, "Local Li")[-1].id


# --------------------------------------------------------------------------- one rule for "newest"


def _candidate(database_url: str, name: str) -> int:
    with session_scope(database_url) as session:
        return session.exec(select(Candidate.id).where(Candidate.display_name == name)).one()  # type: ignore[return-value]


def _rows_of(database_url: str, name: str) -> list[FeatureSnapshot]:
    cid = _candidate(database_url, name)
    with session_scope(database_url) as session:
        rows = session.exec(select(FeatureSnapshot).where(FeatureSnapshot.candidate_id == cid).order_by(FeatureSnapshot.id)).all()
        session.expunge_all()
        return list(rows)


def test_a_backdated_enrich_does_not_displace_the_current_rows(database_url: str) -> None:
    populate(database_url)
    with session_scope(database_url) as session:
        assert enrich(session).computed == 3
    current = _current(database_url)
    gao = _candidate(database_url, "Global Gao")
    with session_scope(database_url) as session:
        before = latest_feature_snapshot(session, gao)
        composite = before.ranking.composite_index  # type: ignore[union-attr]
    assert composite is not None
    past = datetime.now(UTC) - timedelta(days=20)
    assert _cli("enrich", "--as-of", past.date().isoformat(), "--force", database_url=database_url).exit_code == 0
    assert len(_rows_of(database_url, "Global Gao")) == 2
    assert _current(database_url) == current  # ranking, export, report/API and the view agree, unchanged
    with session_scope(database_url) as session:
        assert latest_feature_snapshot(session, gao).ranking.composite_index == composite  # type: ignore[union-attr]
        historical = {row["candidate_id"]: row for row in feature_table(session, past + timedelta(days=1))}
    assert historical[gao]["as_of"].date() == past.date() and historical[gao]["ranked_at"] is not None
    # A plain enrich: nothing new since the current rows, the cohort ranked as usual.
    with session_scope(database_url) as session:
        again = enrich(session)
    assert again.computed == 0 and again.ranked == 3
    assert _current(database_url) == current
    with session_scope(database_url) as session:
        assert latest_feature_snapshot(session, gao).ranking.composite_index == composite  # type: ignore[union-attr]


def test_a_backdated_enrich_computes_the_day_it_names_even_without_new_data(database_url: str) -> None:
    populate(database_url)
    with session_scope(database_url) as session:
        assert enrich(session).computed == 3
    past = datetime.now(UTC) - timedelta(days=20)
    with session_scope(database_url) as session:
        # Nothing new since the current rows, but no row describes that day yet.
        assert enrich(session, as_of=past).computed == 3
    with session_scope(database_url) as session:
        assert enrich(session, as_of=past).computed == 3  # a row for a past time vouches for nothing: always computed
        assert enrich(session).computed == 0  # the current rows still do


def test_a_plain_enrich_after_a_backdated_one_recomputes_and_ranks_without_force(database_url: str) -> None:
    populate(database_url)
    past = (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
    assert _cli("enrich", "--as-of", past, database_url=database_url).exit_code == 0
    with session_scope(database_url) as session:
        result = enrich(session)
    assert result.computed == 3 and result.ranked == 3
    current = _current(database_url)
    gao = _candidate(database_url, "Global Gao")
    with session_scope(database_url) as session:
        row = session.get(FeatureSnapshot, current[gao])
        assert row.as_of.date() == datetime.now(UTC).date() and row.ranking.composite_index is not None  # type: ignore[union-attr]
        assert row.followers_total == 54_000 + 120_000  # type: ignore[union-attr]
    with session_scope(database_url) as session:
        assert enrich(session).computed == 0  # and incremental again afterwards


def test_the_newest_row_is_the_one_describing_the_latest_time_then_the_last_computed(database_url: str) -> None:
    """The rule itself, on rows written out of order: storage's readers and the SQL view agree."""
    ids = populate(database_url)
    t1, t2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    written: dict[str, int] = {}
    with session_scope(database_url) as session:
        for label, cid, as_of in [("gao-t2", ids["global"], t2), ("gao-t1", ids["global"], t1),
                                  ("gao-t2-again", ids["global"], t2), ("gao-t1-again", ids["global"], t1),
                                  ("li-t1", ids["local"], t1), ("li-t2", ids["local"], t2), ("li-t1-later", ids["local"], t1)]:
            row = FeatureSnapshot(candidate_id=cid, as_of=as_of, computed_at=t2 + timedelta(days=1), schema_version="1")
            session.add(row)
            session.flush()
            written[label] = row.id  # type: ignore[assignment]
    newest = _current(database_url)
    assert newest == {ids["global"]: written["gao-t2-again"], ids["local"]: written["li-t2"]}
    with session_scope(database_url) as session:
        as_of_t1 = {s.candidate_id: s.id for s, _, _ in latest_feature_snapshots(session, as_of=t1 + timedelta(hours=1))}
    assert as_of_t1 == {ids["global"]: written["gao-t1-again"], ids["local"]: written["li-t1-later"]}
