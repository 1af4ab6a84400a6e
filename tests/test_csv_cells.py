"""CSV injection (OWASP): a text cell a spreadsheet would run as a formula is written with a
leading single quote, whatever its origin; numbers stay numbers, negative ones included."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest

from enrichment.csv_cells import neutralise_formula
from enrichment.schema import EXPORT_COLUMNS, SCHEMA_VERSION


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x.test","a")', "-", "="])
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text: str) -> None:
    assert neutralise_formula(text) == "'" + text


@pytest.mark.parametrize("value", ["Li Jiaqi", "李佳琦", "", " =1", "'=1", "1-2", "a@b"])
def test_other_text_is_unchanged(value: str) -> None:
    assert neutralise_formula(value) == value


@pytest.mark.parametrize("value", [-3, -0.5, 0, 2.5, True, None])
def test_numbers_booleans_and_none_are_not_text_and_stay_as_they_are(value: object) -> None:
    assert neutralise_formula(value) is value


def test_the_csv_export_neutralises_formula_cells_and_keeps_negative_numbers(tmp_path: Path) -> None:
    from crawler.cli.enrich import write_export

    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    row: dict[str, object] = dict.fromkeys(spec.name for spec in EXPORT_COLUMNS)
    row.update(schema_version=SCHEMA_VERSION, candidate_id=7, display_name='=HYPERLINK("http://evil.test","Li")',
               active=True, as_of=now, computed_at=now, growth_30d_abs=-1200, growth_30d_rel=-0.25,
               brands=["-SK-II"], brand_mentions={"=cmd": 1})
    csv_out, jsonl_out = tmp_path / "f.csv", tmp_path / "f.jsonl"
    write_export([row], "csv", csv_out)
    written = next(csv.DictReader(csv_out.open(encoding="utf-8", newline="")))
    assert written["display_name"] == '\'=HYPERLINK("http://evil.test","Li")'
    assert written["growth_30d_abs"] == "-1200" and written["growth_30d_rel"] == "-0.25"  # numbers, not text
    assert written["brands"] == '["-SK-II"]' and written["brand_mentions"] == '{"=cmd": 1}'  # JSON text starts with [ or {
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell.lstrip("-").replace(".", "", 1).isdigit()
               for cell in written.values())
    write_export([row], "jsonl", jsonl_out)  # not a spreadsheet format: the data stays as it is
    assert '"display_name": "=HYPERLINK(' in jsonl_out.read_text(encoding="utf-8")
