"""A feature row's ranking is a row of its own (``featureranking``, migration 0024): written
with the feature row, replaced by every ranking that moves it, deleted with it; rankings
stored on the feature rows before the migration are copied over, and nothing that hangs on
the feature rows (their kept ranking views) is lost - on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel import delete, select

from enrichment.schema import COVERAGE_COLUMNS, INDEX_COLUMNS, SCORE_COLUMNS
from enrichment.stage import enrich
from storage.db import get_engine, session_scope, upgrade
from storage.models import FeatureRanking, FeatureSnapshot, RankingInput
from tests.test_export import populate

RANKING = ["ranked_at", "reference", "ranking_digest", "tier", *INDEX_COLUMNS, *COVERAGE_COLUMNS, *SCORE_COLUMNS,
           "top_contributors"]


def _rankings(database_url: str) -> dict[int, dict[str, Any]]:
    """Every feature row's ranking as the ORM reads it, by feature row id."""
    with session_scope(database_url) as session:
        return {row.id: {name: getattr(row.ranking, name) for name in RANKING}  # type: ignore[misc]
                for row in session.exec(select(FeatureSnapshot)).all()}


def _view(database_url: str) -> dict[str, tuple[Any, ...]]:
    with session_scope(database_url) as session:
        return {row[0]: tuple(row[1:]) for row in session.execute(text(
            "SELECT display_name, composite_score, composite_coverage, tier, reference FROM candidate_features_latest"))}


def test_every_feature_row_is_stored_with_its_ranking_and_a_new_one_ranked_with_the_cohort(database_url: str) -> None:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
    rankings = _rankings(database_url)
    assert len(rankings) == 3 and all(ranking["ranked_at"] is not None for ranking in rankings.values())
    assert {ranking["reference"] for ranking in rankings.values()} == {"cohort"}
    view = _view(database_url)
    assert view["Global Gao"][0] is not None and view["Global Gao"][3] == "cohort"  # the view joins the ranking
    # Deleted with its feature row (the foreign key cascades).
    with session_scope(database_url) as session:
        session.execute(delete(FeatureSnapshot).where(FeatureSnapshot.candidate_id == ids["local"]))
    with session_scope(database_url) as session:
        left = set(session.exec(select(FeatureRanking.snapshot_id)).all())
    assert left == set(_rankings(database_url)) and len(left) == 2


def test_rankings_stored_on_the_feature_rows_are_copied_over_and_nothing_else_is_lost(database_url: str) -> None:
    from alembic import command

    from storage.db import alembic_config

    populate(database_url)
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
    before, view = _rankings(database_url), _view(database_url)
    with session_scope(database_url) as session:
        kept = {row.snapshot_id: row.inputs for row in session.exec(select(RankingInput)).all()}
    assert kept  # the ranking kept the views it read

    # Back to where the rankings were columns of the feature rows: they are copied back there ...
    command.downgrade(alembic_config(database_url), "0023_ranking_cache")
    with get_engine(database_url).connect() as connection:
        stored = {row[0]: row[1:] for row in connection.execute(text(
            "SELECT id, composite_score, ranking_digest, reference FROM featuresnapshot"))}
        tables = {row[0] for row in connection.execute(text(
            "SELECT table_name FROM information_schema.tables" if database_url.startswith("postgresql")
            else "SELECT name FROM sqlite_master WHERE type = 'table'"))}
    assert "featureranking" not in tables
    assert stored == {fid: (r["composite_score"], r["ranking_digest"], r["reference"]) for fid, r in before.items()}

    # ... and forward again: every ranking as it was, the view as it was, the kept views kept
    # (a copy of the feature table would have deleted them through their foreign key).
    upgrade(database_url)
    assert _rankings(database_url) == before
    assert _view(database_url) == view
    with session_scope(database_url) as session:
        assert {row.snapshot_id: row.inputs for row in session.exec(select(RankingInput)).all()} == kept
        columns = set(session.execute(text("SELECT * FROM featuresnapshot")).keys())
    assert not columns & set(RANKING)


def test_a_feature_row_stored_without_a_ranking_reads_as_unranked_and_the_next_ranking_writes_one(database_url: str) -> None:
    from enrichment.stage import candidate_feature_document, rank_cohort

    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
        newest = session.exec(select(FeatureSnapshot).where(FeatureSnapshot.candidate_id == ids["global"])).one()
        as_of, version, document = newest.as_of, newest.schema_version, dict(newest.features)
        score = newest.ranking.composite_score  # type: ignore[union-attr]
    assert score is not None
    with session_scope(database_url) as session:  # a row a script wrote, without its ranking
        session.add(FeatureSnapshot(candidate_id=ids["global"], as_of=as_of, schema_version=version, features=document))
    with session_scope(database_url) as session:
        unranked = candidate_feature_document(session, ids["global"])
    assert unranked is not None and unranked["features"]["composite_score"] is None
    assert unranked["features"]["top_contributors"] == {} and unranked["features"]["ranked_at"] is None
    with session_scope(database_url) as session:
        assert rank_cohort(session, active_only=True) == 3
    with session_scope(database_url) as session:
        ranked = candidate_feature_document(session, ids["global"])
    assert ranked is not None and ranked["features"]["ranked_at"] is not None
    assert ranked["features"]["composite_score"] == score  # the same features, the same cohort
