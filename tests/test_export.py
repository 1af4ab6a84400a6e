"""enrich on a real database (SQLite, then PostgreSQL): incremental runs, the
candidate_features_latest view, the ranking, and exports in parquet, csv and jsonl with the
documented versioned columns."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from enrichment.schema import EXPORT_COLUMNS, SCHEMA_VERSION
from enrichment.stage import enrich, enrich_all
from storage.db import get_engine, session_scope
from storage.models import (
    Account,
    Candidate,
    FeatureRanking,
    FeatureSnapshot,
    Post,
    PostSnapshot,
    ProfileSnapshot,
)

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _snapshot(account: Account, days_ago: float, followers: int | None, **extra: object) -> ProfileSnapshot:
    return ProfileSnapshot(
        account_id=account.id, captured_at=NOW - timedelta(days=days_ago), followers=followers,  # type: ignore[arg-type]
        source_url="https://example.test", parser="test", parser_version="1",
        payload_sha256=f"{account.id}-{days_ago}-{followers}", **extra,  # type: ignore[arg-type]
    )


def populate(database_url: str) -> dict[str, int]:
    """Three candidates: a cross-border one, a domestic one, and one with no data at all."""
    with session_scope(database_url) as session:
        global_creator = Candidate(display_name="Global Gao")
        local_creator = Candidate(display_name="Local Li")
        empty = Candidate(display_name="Nobody Yet")
        session.add_all([global_creator, local_creator, empty])
        session.flush()
        weibo = Account(candidate_id=global_creator.id, platform="weibo", handle="gao")
        youtube = Account(candidate_id=global_creator.id, platform="youtube", handle="gaoyt")
        local = Account(candidate_id=local_creator.id, platform="douyin", handle="li")
        session.add_all([weibo, youtube, local, Account(candidate_id=empty.id, platform="x", handle="nobody")])
        session.flush()
        for days_ago in range(40, -1, -1):
            session.add(_snapshot(weibo, days_ago, 50_000 + 100 * (40 - days_ago), ip_location="美国"))
            session.add(_snapshot(local, days_ago, 80_000 + 10 * (40 - days_ago), ip_location="浙江"))
        session.add(_snapshot(youtube, 2, 120_000, approximate=["followers"]))
        for i, (account, body) in enumerate([
            (weibo, "海淘Omorovicza面霜开箱，匈牙利小众品牌"),
            (youtube, "Factory visit in Japan with SK-II"),
            (local, "今天在家做饭"),
        ]):
            item = Post(account_id=account.id, platform=account.platform, post_id=str(i), text=body,  # type: ignore[arg-type]
                        published_at=NOW - timedelta(days=3 + i))
            session.add(item)
            session.flush()
            session.add(PostSnapshot(post_id=item.id, captured_at=NOW, likes=100 * (i + 1), comments=5, shares=1))  # type: ignore[arg-type]
        return {"global": global_creator.id, "local": local_creator.id, "empty": empty.id}  # type: ignore[dict-item]


def test_enrich_is_incremental_and_ranks_the_cohort(database_url: str) -> None:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        first = enrich(session)
    assert first.computed == 3 and first.ranked == 3
    with session_scope(database_url) as session:
        assert enrich(session).computed == 0  # nothing new
    with session_scope(database_url) as session:
        account = session.exec(select(Account).where(Account.handle == "li")).one()
        session.add(_snapshot(account, 0, 99_999))
    with session_scope(database_url) as session:
        again = enrich(session)
        assert again.computed == 1 and again.skipped == 2 and again.ranked == 3
        rows = session.exec(select(FeatureSnapshot).order_by(FeatureSnapshot.id)).all()
        assert [r.candidate_id for r in rows] == [ids["global"], ids["local"], ids["empty"], ids["local"]]
        latest = {r.candidate_id: r for r in rows}
    gao, nobody = latest[ids["global"]], latest[ids["empty"]]
    assert gao.schema_version == SCHEMA_VERSION
    assert gao.followers_total == 54_000 + 120_000 and gao.followers_overseas == 120_000
    assert gao.features["ip_abroad"] is True and gao.features["brands"] == ["Omorovicza", "SK-II"]
    assert gao.features["growth_30d_weibo_abs"] == 3_000
    assert gao.features.get("press_365d") is None  # no press data is NULL, never 0 (a NULL is not stored)
    ranked, local, blank = gao.ranking, latest[ids["local"]].ranking, nobody.ranking
    assert ranked is not None and local is not None and blank is not None  # every row has its ranking
    assert ranked.composite_index is not None and ranked.composite_index > local.composite_index  # type: ignore[operator]
    assert ranked.top_contributors["leadership"][0]["component"] == "ip_abroad"
    assert nobody.followers_total is None and blank.composite_index is None and blank.composite_coverage == 0.0
    assert latest[ids["local"]].followers_total == 99_999


def test_the_latest_view_holds_one_row_per_candidate(database_url: str) -> None:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session)
        enrich(session, [ids["global"]], force=True)
    with get_engine(database_url).connect() as connection:
        rows = connection.execute(text(
            "SELECT candidate_id, display_name, composite_index, schema_version FROM candidate_features_latest ORDER BY candidate_id"
        )).all()
        newest = connection.execute(text("SELECT MAX(id) FROM featuresnapshot")).scalar()
        view_ids = connection.execute(text("SELECT id FROM candidate_features_latest")).scalars().all()
    assert [r.candidate_id for r in rows] == sorted(ids.values())
    assert rows[0].display_name == "Global Gao" and rows[0].schema_version == SCHEMA_VERSION
    assert newest in view_ids


def test_enrich_all_is_what_the_demo_calls(database_url: str) -> None:
    populate(database_url)
    with session_scope(database_url) as session:
        assert enrich_all(session) == 3
    with session_scope(database_url) as session:
        assert enrich_all(session) == 0


def _cli(*args: str, database_url: str) -> object:
    from crawler.cli import app

    return CliRunner().invoke(app, [*args, "--database-url", database_url], catch_exceptions=False, env={"COLUMNS": "200"})


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_export_writes_one_row_per_candidate_with_the_documented_columns(database_url: str, tmp_path: Path, fmt: str) -> None:
    ids = populate(database_url)
    assert _cli("enrich", database_url=database_url).exit_code == 0  # type: ignore[attr-defined]
    out = tmp_path / f"features.{fmt}"
    result = _cli("features", "export", "--format", fmt, "--out", str(out), database_url=database_url)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    names = [spec.name for spec in EXPORT_COLUMNS]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(out)
        assert table.column_names == names
        rows = table.to_pylist()
        assert table.schema.metadata[b"schema_version"] == SCHEMA_VERSION.encode()
    elif fmt == "csv":
        with out.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert list(rows[0]) == names
    else:
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert list(rows[0]) == names
    assert [int(r["candidate_id"]) for r in rows] == sorted(ids.values())
    assert all(str(r["schema_version"]) == SCHEMA_VERSION for r in rows)
    gao = rows[0]
    brands = gao["brands"] if fmt != "csv" else json.loads(gao["brands"])
    assert brands == ["Omorovicza", "SK-II"]
    assert gao["press_365d"] in (None, "")  # NULL, not 0
    assert float(gao["composite_index"]) >= 0


def test_export_as_of_a_past_date_has_no_rows_and_says_so(database_url: str, tmp_path: Path) -> None:
    populate(database_url)
    _cli("enrich", database_url=database_url)
    out = tmp_path / "old.jsonl"
    result = _cli("features", "export", "--format", "jsonl", "--out", str(out), "--as-of", "2001-01-01", database_url=database_url)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert out.read_text() == ""
    bad = _cli("features", "export", "--format", "xlsx", "--out", str(out), database_url=database_url)
    assert bad.exit_code == 2  # type: ignore[attr-defined]


def test_rank_prints_the_table(database_url: str) -> None:
    populate(database_url)
    _cli("enrich", database_url=database_url)
    result = _cli("rank", "--by", "leadership", "--top", "2", database_url=database_url)
    assert result.exit_code == 0  # type: ignore[attr-defined]
    assert "Global Gao" in result.output and "Nobody Yet" not in result.output  # type: ignore[attr-defined]
    assert "ip_abroad" in result.output  # type: ignore[attr-defined]
    assert _cli("rank", "--by", "charm", database_url=database_url).exit_code == 2  # type: ignore[attr-defined]


def test_the_schema_names_real_columns_of_the_feature_tables() -> None:
    """Storage keeps no list of its own: what the stage copies into real columns must be
    columns, the features of the feature row's table and the ranking's of the ranking's."""
    from enrichment.schema import COVERAGE_COLUMNS, INDEX_COLUMNS, SCORE_COLUMNS, STORED_FEATURES

    assert set(STORED_FEATURES) <= set(FeatureSnapshot.__table__.columns.keys())  # type: ignore[attr-defined]
    ranking = set(INDEX_COLUMNS) | set(COVERAGE_COLUMNS) | set(SCORE_COLUMNS) | {"tier", "reference", "top_contributors"}
    assert ranking <= set(FeatureRanking.__table__.columns.keys())  # type: ignore[attr-defined]


def test_every_export_column_is_documented() -> None:
    from enrichment.features import PLATFORMS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "features.md").read_text(encoding="utf-8")
    for spec in EXPORT_COLUMNS:
        name = spec.name
        for platform in PLATFORMS:
            if name.endswith(f"_{platform}") or f"_{platform}_" in name:
                name = name.replace(f"_{platform}", "_<platform>", 1)
                break
        assert f"| `{name}` | {spec.type} |" in doc, f"docs/features.md does not document {spec.name}"


def test_enrich_one_candidate_from_the_cli(database_url: str) -> None:
    populate(database_url)
    first = _cli("enrich", "--candidate", "Local Li", database_url=database_url)
    assert first.exit_code == 0 and "enriched 1 candidate" in first.output  # type: ignore[attr-defined]
    again = _cli("enrich", "--candidate", "Local Li", database_url=database_url)
    assert "enriched 0 candidate" in again.output  # type: ignore[attr-defined]
    forced = _cli("enrich", "--candidate", "Local Li", "--force", database_url=database_url)
    assert "enriched 1 candidate" in forced.output  # type: ignore[attr-defined]
    assert _cli("enrich", "--candidate", "Nobody Such", database_url=database_url).exit_code == 2  # type: ignore[attr-defined]


def test_the_features_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from storage.db import alembic_config, upgrade

    populate(database_url)
    with session_scope(database_url) as session:
        enrich(session)
    command.downgrade(alembic_config(database_url), "0002_press")
    engine = get_engine(database_url)
    assert "featuresnapshot" not in inspect(engine).get_table_names()
    assert "candidate_features_latest" not in inspect(engine).get_view_names()
    upgrade(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM candidate_features_latest")).scalar() == 0


def test_press_mentions_are_read_when_press_storage_exists(database_url: str) -> None:
    """Press mentions are read: counts for searched candidates, NULL for never-searched ones,
    and a new mention makes the candidate due for enrichment."""
    from enrichment.report import load_report
    from storage.models import Lease, PressMention

    ids = populate(database_url)
    with session_scope(database_url) as session:
        session.add_all([
            PressMention(candidate_id=ids["global"], source="test", url="https://a.example/1",
                         canonical_url="https://a.example/1", outlet_domain="a.example",
                         country="US", language="en", published_at=NOW - timedelta(days=10), confidence=1.0, status="confirmed"),
            PressMention(candidate_id=ids["global"], source="test", url="https://b.example/2",
                         canonical_url="https://b.example/2", outlet_domain="b.example",
                         country="FR", language="fr", published_at=NOW - timedelta(days=40), confidence=0.4, status="unconfirmed"),
        ])
        session.add(Lease(platform="press", subject_id=ids["local"], refreshed={"press": NOW.isoformat()}))
    with session_scope(database_url) as session:
        enrich(session)
        latest = {r.candidate_id: r for r in session.exec(select(FeatureSnapshot).order_by(FeatureSnapshot.id)).all()}
        report = load_report(session, ids["global"])
    assert latest[ids["global"]].press_365d == 1 and latest[ids["global"]].features["press_30d"] == 1
    assert latest[ids["global"]].features["press_unconfirmed_365d"] == 1
    assert latest[ids["local"]].press_365d == 0  # searched, nothing found
    assert latest[ids["empty"]].press_365d is None  # never searched
    assert report.press is not None and {m.canonical_url for m in report.press} == {"https://a.example/1", "https://b.example/2"}
    with session_scope(database_url) as session:
        session.add(PressMention(candidate_id=ids["global"], source="test", url="https://c.example/3",
                                 canonical_url="https://c.example/3", outlet_domain="c.example",
                                 country="GB", language="en", published_at=NOW - timedelta(days=1), confidence=0.8,
                                 status="confirmed"))
    with session_scope(database_url) as session:
        result = enrich(session)
        assert result.computed == 1
        newest = session.exec(select(FeatureSnapshot).order_by(FeatureSnapshot.id.desc())).first()
    assert newest is not None and newest.candidate_id == ids["global"] and newest.press_365d == 2


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> object:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _export_row(**values: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(spec.name for spec in EXPORT_COLUMNS)
    row.update(schema_version=SCHEMA_VERSION, candidate_id=1, display_name="Gao", active=True, as_of=NOW, computed_at=NOW)
    row.update(values)
    return row


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_export_writes_no_non_finite_number_and_counts_the_ones_it_nulled(tmp_path: Path, fmt: str) -> None:
    from crawler.cli.enrich import write_export

    rows = [_export_row(composite_index=float("inf"), influence_index=float("-inf"), leadership_index=float("nan"),
                        overseas_share=0.5, followers_total=-3,
                        top_contributors={"composite": [{"component": "leadership", "value": float("inf"), "points": 1.0}]},
                        brand_mentions={"SK-II": 2})]
    out = tmp_path / f"features.{fmt}"
    nulled = write_export(rows, fmt, out)
    assert dict(nulled) == {"composite_index": 1, "influence_index": 1, "leadership_index": 1, "top_contributors": 1}
    if fmt == "parquet":
        import pyarrow.parquet as pq

        written = pq.read_table(out).to_pylist()[0]
        contributors = _strict_json(written["top_contributors"])
    elif fmt == "csv":
        text_out = out.read_text(encoding="utf-8")
        assert "Infinity" not in text_out and "NaN" not in text_out
        written = next(csv.DictReader(text_out.splitlines()))
        assert not {"inf", "-inf", "nan"} & {cell.lower() for cell in written.values()}
        written = {k: (None if v == "" else v) for k, v in written.items()}
        contributors = _strict_json(written["top_contributors"])  # type: ignore[arg-type]
    else:
        written = _strict_json(out.read_text(encoding="utf-8").splitlines()[0])  # type: ignore[assignment]
        contributors = written["top_contributors"]  # type: ignore[index]
    assert written["composite_index"] is None and written["influence_index"] is None and written["leadership_index"] is None
    assert float(written["overseas_share"]) == 0.5 and int(written["followers_total"]) == -3  # type: ignore[arg-type]
    assert contributors == {"composite": [{"component": "leadership", "value": None, "points": 1.0}]}


def test_export_of_stored_infinite_indices_warns_and_writes_strict_json(database_url: str, tmp_path: Path) -> None:
    """Rows ranked with an infinite weight before weights were checked still export as JSON."""
    populate(database_url)
    with session_scope(database_url) as session:
        enrich(session)
        for row in session.exec(select(FeatureRanking)).all():
            row.composite_index, row.influence_index = float("inf"), float("-inf")
    out = tmp_path / "features.jsonl"
    result = _cli("features", "export", "--format", "jsonl", "--out", str(out), database_url=database_url)
    assert result.exit_code == 0  # type: ignore[attr-defined]
    lines = [_strict_json(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 3 and all(line["composite_index"] is None for line in lines)  # type: ignore[index]
    warning = result.stderr  # type: ignore[attr-defined]
    assert "6 non-finite" in warning and "composite_index" in warning and "influence_index" in warning
