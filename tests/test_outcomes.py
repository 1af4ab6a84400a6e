"""Calibration against outcomes: `wangzi outcomes import` keeps good rows and reports each bad
one with why; periods and amounts are read one way; `wangzi evaluate` on a tiny cohort prints
correlations and precision@k and refuses to fit weights (saying why); on a cohort large enough
it fits non-negative weights and writes a weights file enrich accepts; the statistics on
hand-made numbers."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from crawler.cli import app
from enrichment.calibration import (
    MIN_FIT,
    average_ranks,
    bootstrap_interval,
    fit_weights,
    precision_at_k,
    spearman,
)
from enrichment.indices import load_weights
from enrichment.schema import FEATURE_NAMES, SCHEMA_VERSION
from storage.db import session_scope
from storage.models import Candidate, FeatureSnapshot
from storage.outcomes import OutcomeRefused, outcome_rows, parse_amount, parse_period

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def cli(*args: str, database_url: str) -> object:
    return CliRunner().invoke(app, [*args, "--database-url", database_url], catch_exceptions=False,
                              env={"COLUMNS": "200"})


# --------------------------------------------------------------------------- periods and amounts


@pytest.mark.parametrize(("text", "label", "start", "end"), [
    ("2026", "2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("2026-q3", "2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
    ("2026Q4", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("2026-2", "2026-02", date(2026, 2, 1), date(2026, 2, 28)),
    ("2026-W01", "2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
    (" 2026-10-05 ", "2026-10-05", date(2026, 10, 5), date(2026, 10, 5)),
    ("2026-10-01..2026-10-31", "2026-10-01/2026-10-31", date(2026, 10, 1), date(2026, 10, 31)),
])
def test_a_period_is_read_one_way_whatever_way_it_is_written(text: str, label: str, start: date, end: date) -> None:
    period = parse_period(text)
    assert (period.label, period.start, period.end) == (label, start, end)


@pytest.mark.parametrize(("text", "message"), [
    ("2026-13", "not a real date"), ("2026-02-30", "not a real date"), ("last month", "not a period"),
    ("", "not a period"), ("2026-10-31/2026-10-01", "ends before it starts"), ("2026-W54", "not a real date"),
])
def test_a_bad_period_is_refused_saying_why(text: str, message: str) -> None:
    with pytest.raises(OutcomeRefused, match=message):
        parse_period(text)


def test_amounts_are_non_negative_finite_numbers_and_counts_whole() -> None:
    assert parse_amount("gmv", "1,234.50") == 1234.5
    assert parse_amount("orders", " 12 ") == 12 and parse_amount("orders", "") is None
    for name, text, message in [("orders", "-3", "negative"), ("orders", "2.5", "whole"), ("gmv", "abc", "not a number"),
                                ("gmv", "nan", "not a number"), ("gmv", "inf", "not a number"), ("gmv", "1e9", "not a number"),
                                ("gmv", "=1+2", "not a number"), ("gmv", "9" * 17, "larger")]:
        with pytest.raises(OutcomeRefused, match=message):
            parse_amount(name, text)


# --------------------------------------------------------------------------- outcomes import


def add_candidates(database_url: str, names: list[str], aliases: dict[str, list[str]] | None = None) -> dict[str, int]:
    with session_scope(database_url) as session:
        found = {}
        for name in names:
            candidate = Candidate(display_name=name, aliases=(aliases or {}).get(name, []))
            session.add(candidate)
            session.flush()
            found[name] = candidate.id
        return found  # type: ignore[return-value]


def test_outcomes_import_keeps_good_rows_and_reports_each_bad_row(database_url: str, tmp_path: Path) -> None:
    ids = add_candidates(database_url, ["Li Jiaqi", "Lena在纽约"], {"Li Jiaqi": ["李佳琦"]})
    csv_file = tmp_path / "outcomes.csv"
    csv_file.write_text(
        "Candidate,Period,Orders,GMV,Clicks,Conversions,Channel\n"
        f"{ids['Li Jiaqi']},2026-10,120,\"35,000.50\",4000,150,affiliate\n"  # 2: by id
        "李佳琦,2026-Q3,80,,,,affiliate\n"  # 3: by alias
        "Lena在纽约,2026-10,7,900,,,\n"  # 4: by name
        "Nobody,2026-10,1,1,1,1,\n"  # 5: unknown candidate
        "Lena在纽约,last month,1,,,,\n"  # 6: bad period
        "Lena在纽约,2026-11,-2,abc,1.5,,\n"  # 7: three bad values, all named
        "Lena在纽约,2026-12,,,,,\n"  # 8: no value
        "Li Jiaqi,2026-10,5,,,,\n"  # 9: the same candidate and period as row 2
        "Li Jiaqi,2026-12,1,2,3,4,x,extra\n"  # 10: more fields than the header
        ",2026-12,1,,,,\n"  # 11: no candidate
        "Lena在纽约,2026-11,=HYPERLINK(\"x\"),,,,\n",  # 12: a formula is not a number
        encoding="utf-8")
    result = cli("outcomes", "import", str(csv_file), database_url=database_url)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    out = result.stdout  # type: ignore[attr-defined]
    errors = result.stderr  # type: ignore[attr-defined]
    assert "3 stored (3 new, 0 updated), 8 rejected" in out
    assert "warning: ignoring unknown column(s) ['channel']" in errors
    assert "row 5: no candidate 'Nobody'" in errors
    assert "row 6: period 'last month' is not a period" in errors
    assert "row 7: orders '-2' is negative; gmv 'abc' is not a number; clicks '1.5' is not a whole number" in errors
    assert "row 8: no outcome value" in errors
    assert f"row 9: candidate {ids['Li Jiaqi']} and period 2026-10 are already given in row 2" in errors
    assert "row 10: row has more fields (8) than the header (7)" in errors
    assert "row 11: missing candidate" in errors
    assert "row 12: orders '=HYPERLINK(\"x\")' is not a number" in errors
    with session_scope(database_url) as session:
        rows = {(r["candidate_id"], r["period"]): r for r in outcome_rows(session)}
    assert set(rows) == {(ids["Li Jiaqi"], "2026-10"), (ids["Li Jiaqi"], "2026-Q3"), (ids["Lena在纽约"], "2026-10")}
    first = rows[(ids["Li Jiaqi"], "2026-10")]
    assert (first["orders"], first["gmv"], first["clicks"], first["conversions"]) == (120, 35000.5, 4000, 150)
    assert rows[(ids["Li Jiaqi"], "2026-Q3")]["period_end"] == date(2026, 9, 30)

    # Importing the period again replaces the values the new row gives and keeps the others.
    again = tmp_path / "again.csv"
    again.write_text(f"candidate,period,gmv\n{ids['Li Jiaqi']},2026-10,36000\n", encoding="utf-8")
    result = cli("outcomes", "import", str(again), database_url=database_url)
    assert result.exit_code == 0 and "1 stored (0 new, 1 updated), 0 rejected" in result.stdout  # type: ignore[attr-defined]
    with session_scope(database_url) as session:
        row = next(r for r in outcome_rows(session, ["2026-10"]) if r["candidate_id"] == ids["Li Jiaqi"])
    assert (row["orders"], row["gmv"]) == (120, 36000.0)


def test_a_file_without_the_columns_it_needs_imports_nothing(database_url: str, tmp_path: Path) -> None:
    add_candidates(database_url, ["Li Jiaqi"])
    csv_file = tmp_path / "o.csv"
    csv_file.write_text("name,month,revenue\nLi Jiaqi,2026-10,5\n", encoding="utf-8")
    result = cli("outcomes", "import", str(csv_file), database_url=database_url)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "row 1: no 'period' column; no outcome column (orders, gmv, clicks, conversions)" in result.stderr  # type: ignore[attr-defined]
    missing = cli("outcomes", "import", str(tmp_path / "absent.csv"), database_url=database_url)
    assert missing.exit_code == 2  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- evaluate


def add_features(database_url: str, rows: dict[str, dict], outcomes: dict[str, float] | None = None,
                 tmp_path: Path | None = None) -> dict[str, int]:
    """Candidates with a feature row each (only the features given), and their GMV for 2026-10."""
    ids = add_candidates(database_url, list(rows))
    with session_scope(database_url) as session:
        for name, features in rows.items():
            session.add(FeatureSnapshot(candidate_id=ids[name], as_of=NOW, computed_at=NOW, schema_version=SCHEMA_VERSION,
                                        features=features))
    if outcomes and tmp_path is not None:
        csv_file = tmp_path / "gmv.csv"
        csv_file.write_text("candidate,period,gmv\n" + "".join(f"{ids[n]},2026-10,{v}\n" for n, v in outcomes.items()),
                            encoding="utf-8")
        result = cli("outcomes", "import", str(csv_file), database_url=database_url)
        assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
        for name in outcomes:  # names print as text, brackets and all
            assert f" {name} 2026-10: gmv " in result.stdout  # type: ignore[attr-defined]
    return ids


def test_evaluate_on_a_tiny_cohort_correlates_ranks_and_refuses_to_fit(database_url: str, tmp_path: Path) -> None:
    people = {f"[bold]C{i}[/]": {"brands_distinct": i, "brand_countries_distinct": i % 3, "followers_total": 1000 * (8 - i),
                                 "ip_abroad": i % 2 == 0} for i in range(8)}
    add_features(database_url, people, {name: 100.0 * (i + 1) for i, name in enumerate(people)}, tmp_path)
    result = cli("evaluate", "--bootstrap", "200", database_url=database_url)
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    out = result.stdout  # type: ignore[attr-defined]
    assert "8 candidate(s) with features; with outcomes: gmv 8; periods: 2026-10" in out
    assert "Spearman correlation with each outcome" in out and "precision@k" in out
    assert "brands_distinct" in out and "+1.00" in out  # brands rise with GMV exactly
    assert "followers_total" in out and "-1.00" in out
    assert "not fitted: only 8 candidate(s) have features and gmv" in out and f"at least {MIN_FIT}" in out

    payload = json.loads(cli("evaluate", "--json", "--bootstrap", "0", database_url=database_url).stdout)  # type: ignore[attr-defined]
    brands = payload["correlations"]["sales_driving"]["brands_distinct"]["gmv"]
    assert brands["rho"] == pytest.approx(1.0) and brands["n"] == 8 and brands["low"] is None
    assert payload["precision_at_k"]["sales_driving"]["gmv"]["k"] == 1
    assert all(fit["refused"] and fit["fitted"] is None for fit in payload["fits"])

    out_file = tmp_path / "fitted.toml"
    refused = cli("evaluate", "--write-weights", str(out_file), "--bootstrap", "0", database_url=database_url)
    assert refused.exit_code == 1 and not out_file.exists()  # type: ignore[attr-defined]
    assert "not writing" in refused.stderr and "at least 50" in refused.stderr  # type: ignore[attr-defined]


def test_evaluate_says_what_is_missing(database_url: str, tmp_path: Path) -> None:
    assert "no feature rows" in cli("evaluate", database_url=database_url).stderr  # type: ignore[attr-defined]
    add_features(database_url, {"A": {"brands_distinct": 1}})
    result = cli("evaluate", database_url=database_url)
    assert result.exit_code == 1 and "no outcomes: import them" in result.stderr  # type: ignore[attr-defined]
    assert cli("evaluate", "--outcome", "revenue", database_url=database_url).exit_code == 2  # type: ignore[attr-defined]
    assert cli("evaluate", "--period", "soon", database_url=database_url).exit_code == 2  # type: ignore[attr-defined]


def test_evaluate_fits_non_negative_weights_and_writes_a_file_enrich_accepts(database_url: str, tmp_path: Path) -> None:
    rng = random.Random(4)
    people, gmv = {}, {}
    for i in range(80):
        brands, countries, noise = rng.randint(0, 30), rng.randint(0, 8), rng.random()
        people[f"P{i}"] = {"brands_distinct": brands, "brand_countries_distinct": countries, "brand_post_share": noise,
                           "followers_total": rng.randint(1000, 10**6)}
        gmv[f"P{i}"] = round(50 * brands + 10 * countries + rng.gauss(0, 40) + 500, 2)
    add_features(database_url, people, gmv, tmp_path)
    out_file = tmp_path / "fitted.toml"
    result = cli("evaluate", "--write-weights", str(out_file), "--bootstrap", "100", database_url=database_url)
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    assert "held-out Spearman with gmv: fitted" in result.stdout  # type: ignore[attr-defined]
    weights = load_weights(out_file, known_features=FEATURE_NAMES)
    sales = weights.indices["sales_driving"]
    assert all(w >= 0 for w in sales.values())
    assert sales["brands_distinct"] > sales["brand_post_share"]
    text = out_file.read_text(encoding="utf-8")
    assert "against gmv (80 candidates" in text and "[tiers]" in text


# --------------------------------------------------------------------------- the statistics


def test_spearman_ranks_ties_by_their_average_as_scipy_does() -> None:
    from scipy.stats import spearmanr

    rng = np.random.default_rng(2)
    x, y = rng.integers(0, 4, 40).astype(float), rng.normal(size=40)
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert average_ranks(np.array([30.0, 10.0, 20.0, 20.0])).tolist() == [4.0, 1.0, 2.5, 2.5]
    assert spearman([1, 2], [2, 1]) is None and spearman([1, 1, 1], [1, 2, 3]) is None


def test_the_bootstrap_interval_holds_the_correlation_and_needs_ten_pairs() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=300)
    y = x + rng.normal(size=300)
    low, high = bootstrap_interval(x, y, resamples=500)
    assert low < spearman(x, y) < high and high - low < 0.2  # type: ignore[operator]
    assert bootstrap_interval(x[:9], y[:9]) == (None, None)


def test_precision_at_k_against_the_top_decile() -> None:
    outcome = {i: float(i) for i in range(1, 21)}  # top decile: 19 and 20
    perfect = precision_at_k({i: float(i) for i in outcome}, outcome)
    assert (perfect.precision, perfect.k, perfect.top, perfect.n, perfect.chance) == (1.0, 2, 2, 20, 0.1)
    reversed_ = precision_at_k({i: -float(i) for i in outcome}, outcome)
    assert reversed_.precision == 0.0
    half = precision_at_k({**{i: 0.0 for i in outcome}, 20: 5.0, 3: 4.0}, outcome)
    assert half.precision == 0.5
    assert precision_at_k({i: float(i) for i in outcome}, outcome, k=4).precision == 0.5


def test_fit_weights_recovers_the_component_that_matters_and_refuses_small_samples() -> None:
    rng = np.random.default_rng(5)
    matrix = rng.uniform(0, 100, size=(200, 3))
    target = 3 * matrix[:, 0] + matrix[:, 1] + rng.normal(0, 20, size=200)
    fit = fit_weights("sales_driving", "gmv", matrix, target, ["a", "b", "c"], {"a": 1.0, "b": 1.0, "c": 1.0})
    assert fit.fitted is not None and fit.refused is None
    assert fit.fitted["a"] > fit.fitted["b"] > fit.fitted["c"] >= 0
    assert sum(fit.fitted.values()) == pytest.approx(3.0, abs=0.01)  # the default weights' total
    assert fit.held_out_fitted > fit.held_out_default  # type: ignore[operator]
    assert len(fit.folds) == 5
    small = fit_weights("x", "gmv", matrix[:49], target[:49], ["a", "b", "c"], {"a": 1.0, "b": 1.0, "c": 1.0})
    assert small.fitted is None and "only 49 candidate(s)" in (small.refused or "")
