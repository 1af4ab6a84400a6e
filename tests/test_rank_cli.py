"""``wangzi rank``, ``explain`` and ``reference`` on the terminal (issue 15): the ranking reads
well at 80 columns with the explanation under each row, ``--json``, ``--min-coverage``,
``--exclude-suspicious`` and a mark on flagged candidates; names print as text, never markup."""

from __future__ import annotations

import json
from typing import Any

from rich.cells import cell_len
from typer.testing import CliRunner

from crawler.cli import app
from enrichment.stage import enrich
from storage.candidates import add_candidate
from storage.db import session_scope
from storage.models import FeatureRanking, FeatureSnapshot, utcnow
from tests.test_export import populate

runner = CliRunner()
HOSTILE = ["[/]", "[link=https://x]a[/link]"]


def invoke(*args: str, database_url: str, columns: int = 80) -> Any:
    return runner.invoke(app, list(args), env={"DATABASE_URL": database_url, "COLUMNS": str(columns)},
                         catch_exceptions=False)


def _ranked(database_url: str) -> dict[str, int]:
    """Four ranked rows written as the stage writes them: two hostile names, one flagged for
    suspicious growth, one whose only flag is insufficient history, and one low-coverage row."""
    ids = {}
    rows = [
        ("[/]", 70.0, 0.9, {"growth_flags": ["insufficient_history"]}),
        ("[link=https://x]a[/link]", 65.0, 0.8, {"growth_flags": []}),
        ("Spiky Su", 80.0, 0.7, {"growth_flags": ["spike", "round_jump"], "growth_authenticity": 40.0}),
        ("Thin Tang", 60.0, 0.05, {}),
    ]
    with session_scope(database_url) as session:
        for name, score, coverage, features in rows:
            candidate = add_candidate(session, name)
            ids[name] = candidate.id
            contributors = [{"component": "shopping_post_share", "value": 0.5, "percentile": 100.0, "weight": 1.5,
                             "points": 8.3, "groups": ["cohort"]},
                            {"component": "ip_abroad", "value": True, "percentile": 100.0, "weight": 2.0, "points": 5.5,
                             "groups": ["yes/no"]}]
            session.add(FeatureSnapshot(
                candidate_id=candidate.id, as_of=utcnow(), schema_version="2", features=features,
                ranking=FeatureRanking(
                    ranked_at=utcnow(), composite_score=score, composite_index=score + 10, composite_coverage=coverage,
                    leadership_score=score, sales_driving_score=None, influence_score=50.0, tier="macro",
                    reference="cohort", top_contributors={"composite": contributors, "leadership": contributors}),
            ))
    return ids


def test_rank_fits_80_columns_with_the_explanation_under_each_row(database_url: str) -> None:
    _ranked(database_url)
    result = invoke("rank", database_url=database_url)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(cell_len(text) <= 80 for text in lines), [text for text in lines if cell_len(text) > 80]
    names = [text.split()[1] for text in lines if text[:3].strip().isdigit()]
    assert names == ["Spiky", "[/]", "[link=https://x]a[/link…", "Thin"]  # by score, as text, cut to fit
    wide = invoke("rank", database_url=database_url, columns=120).output
    assert all(f"{name} #" in wide for name in HOSTILE)
    why = lines.index(next(text for text in lines if "[/] #" in text)) + 1
    assert lines[why].strip() == "why: shopping_post_share p100 +8.3, ip_abroad yes +5.5"
    spiky = next(text for text in lines if "Spiky Su" in text)
    assert spiky.rstrip().endswith("!")  # flagged
    assert next(text for text in lines if "[/] #" in text).rstrip().endswith("macro")  # insufficient history: no mark
    assert "flagged: spike, round_jump (growth authenticity 40)" in result.output
    assert invoke("rank", "--no-why", database_url=database_url).output.count("why:") == 0


def test_rank_filters_by_coverage_and_leaves_out_suspicious_growth(database_url: str) -> None:
    ids = _ranked(database_url)
    entries = json.loads(invoke("rank", "--json", "--min-coverage", "0.5", "--exclude-suspicious",
                                database_url=database_url).output)
    assert [e["candidate_id"] for e in entries] == [ids["[/]"], ids["[link=https://x]a[/link]"]]
    assert [e["display_name"] for e in entries] == HOSTILE
    first = entries[0]
    assert first["rank"] == 1 and first["score"] == 70.0 and first["index"] == 80.0 and first["coverage"] == 0.9
    assert first["tier"] == "macro" and first["reference"] == "cohort" and first["suspicious"] is False
    assert first["why"][0]["component"] == "shopping_post_share"
    everyone = json.loads(invoke("rank", "--json", "--top", "2", database_url=database_url).output)
    assert [e["display_name"] for e in everyone] == ["Spiky Su", "[/]"] and everyone[0]["suspicious"] is True
    bad = invoke("rank", "--min-coverage", "2", database_url=database_url)
    assert bad.exit_code == 2


def test_explain_and_reference_commands_print_names_as_text(database_url: str) -> None:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        renamed = add_candidate(session, "[link=https://x]a[/link]")
        assert renamed.id
        enrich(session)
    text = invoke("explain", "Global Gao", database_url=database_url)
    assert text.exit_code == 0, text.output
    assert "Global Gao #" in text.output and "tier mid" in text.output and "reference cohort" in text.output
    assert "ip_abroad" in text.output and "yes/no" in text.output and "no data" in text.output
    assert all(cell_len(line) <= 80 for line in text.output.splitlines())
    data = json.loads(invoke("explain", str(ids["global"]), "--json", database_url=database_url).output)
    assert data["display_name"] == "Global Gao" and data["composite"]["score"] is not None
    hostile = invoke("explain", "[link=https://x]a[/link]", database_url=database_url)
    assert hostile.exit_code == 0 and "[link=https://x]a[/link] #" in hostile.output

    frozen = invoke("reference", "freeze", "--name", "panel", database_url=database_url)
    assert frozen.exit_code == 0 and "panel@v1" in frozen.output
    listed = json.loads(invoke("reference", "list", "--json", database_url=database_url).output)
    assert [r["reference"] for r in listed] == ["panel@v1"] and listed[0]["cohort_size"] == 4
    assert "reference panel@v1" in invoke("explain", "Global Gao", database_url=database_url).output
    enriched = invoke("enrich", "--reference", "nope", database_url=database_url)
    assert enriched.exit_code == 2 and "no reference 'nope'" in enriched.output
    assert "ranked 0 against panel@v1" in invoke("enrich", database_url=database_url).output
