"""Indices: percentile ranks within the cohort, renormalised weights with a coverage figure,
top contributors, earliness across candidates, and clear errors for bad weight files."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from enrichment.indices import (
    Weights,
    WeightsError,
    _earliness_against,
    _earliness_among,
    _live_table,
    earliness,
    load_weights,
    percentile_ranks,
    score_cohort,
)
from enrichment.schema import FEATURE_NAMES


def test_percentile_ranks_run_from_0_to_100_with_ties_averaged_and_nulls_left_out() -> None:
    ranks = percentile_ranks({"a": 10, "b": 20, "c": 20, "d": 40, "e": None})
    assert ranks == {"a": 0.0, "b": 50.0, "c": 50.0, "d": 100.0, "e": None}
    assert percentile_ranks({"only": 3}) == {"only": 50.0}
    assert percentile_ranks({"x": True, "y": False}) == {"x": 100.0, "y": 0.0}


WEIGHTS = Weights(
    indices={
        "leadership": {"ip_abroad": 2.0, "foreign_language_share": 1.0},
        "sales_driving": {"brands_distinct": 1.0},
        "influence": {"followers_overseas": 3.0, "press_weighted_365d": 1.0},
    },
    composite={"leadership": 1.0, "sales_driving": 1.0, "influence": 2.0},
)


def test_null_components_are_left_out_and_the_weights_renormalised() -> None:
    cohort = {
        1: {"ip_abroad": True, "foreign_language_share": 0.9, "brands_distinct": 10, "followers_overseas": 1_000, "press_weighted_365d": 2.0},
        2: {"ip_abroad": False, "foreign_language_share": 0.1, "brands_distinct": 0, "followers_overseas": 10, "press_weighted_365d": None},
        3: {"ip_abroad": None, "foreign_language_share": 0.5, "brands_distinct": 5, "followers_overseas": None, "press_weighted_365d": None},
    }
    scores = score_cohort(cohort, WEIGHTS)
    one, two, three = scores[1], scores[2], scores[3]
    assert one["leadership_index"] == 100.0 and one["leadership_coverage"] == 1.0
    assert two["leadership_index"] == 0.0
    # Candidate 3 has no IP data: leadership rests on the language share alone (third of the weight).
    assert three["leadership_index"] == 50.0
    assert three["leadership_coverage"] == pytest.approx(1 / 3, abs=1e-4)
    # Influence of candidate 2: only followers_overseas (rank 0 of 2) with weight 3 of 4.
    assert two["influence_index"] == 0.0 and two["influence_coverage"] == 0.75
    assert three["influence_index"] is None and three["influence_coverage"] == 0.0
    # Composite of 3: leadership 50 (w1) and sales 50 (w1); influence has no data.
    assert three["composite_index"] == 50.0
    assert three["composite_coverage"] == pytest.approx((1 * (1 / 3) + 1 * 1 + 2 * 0) / 4, abs=1e-4)
    # Scores shrink towards 50 as coverage falls; the composite score is the weighted mean of the index scores.
    assert three["leadership_score"] == pytest.approx(50.0) and two["influence_score"] == pytest.approx(0.75 * 0 + 0.25 * 50)
    assert three["influence_score"] is None
    assert three["composite_score"] == pytest.approx((50 + 50 + 2 * 50) / 4)


def test_top_contributors_say_why_a_candidate_scores_high() -> None:
    cohort = {
        1: {"ip_abroad": True, "foreign_language_share": 0.2, "followers_overseas": 5_000, "press_weighted_365d": 0.0},
        2: {"ip_abroad": False, "foreign_language_share": 0.8, "followers_overseas": 10, "press_weighted_365d": 3.0},
    }
    top = score_cohort(cohort, WEIGHTS)[1]["top_contributors"]
    # Points: how far a component moves the score from 50, w * (pct - 50) / (the index's total weight).
    assert top["leadership"][0]["component"] == "ip_abroad"
    assert top["leadership"][0]["points"] == pytest.approx(2 * 50 / 3, abs=0.01)
    assert top["leadership"][1] == {"component": "foreign_language_share", "value": 0.2, "percentile": 0.0, "weight": 1.0,
                                    "points": pytest.approx(-50 / 3, abs=0.01), "groups": ["cohort"]}
    assert [c["component"] for c in top["influence"]] == ["followers_overseas", "press_weighted_365d"]
    assert top["influence"][0]["value"] == 5_000


def test_a_cohort_without_data_has_null_indices_and_zero_coverage() -> None:
    scores = score_cohort({1: {}, 2: {}}, WEIGHTS)
    assert scores[1]["composite_index"] is None and scores[1]["composite_coverage"] == 0.0


def test_earliness_compares_first_mentions_of_shared_brands() -> None:
    first_seen = {
        1: {"Omorovicza": "2026-01-01T00:00:00+00:00", "Aesop": "2026-03-01T00:00:00+00:00"},
        2: {"Omorovicza": "2026-01-11T00:00:00+00:00", "Aesop": "2026-02-01T00:00:00+00:00"},
        3: {"Omorovicza": "2026-01-21T00:00:00+00:00", "Dyson": "2026-01-01T00:00:00+00:00"},
        4: {"Rimowa": "2026-01-01T00:00:00+00:00"},
    }
    early = earliness(first_seen)
    assert early[1]["earliness_brands_compared"] == 2
    assert early[1]["earliness_first_share"] == 0.5  # first on Omorovicza, not on Aesop
    # Omorovicza: others at +10 and +20 days -> median +15; Aesop: other at -28 days. Median of (15, -28).
    assert early[1]["earliness_lead_days"] == pytest.approx((15 - 28) / 2)
    assert early[3]["earliness_first_share"] == 0.0
    assert early[4] == {"earliness_brands_compared": 0, "earliness_first_share": None, "earliness_lead_days": None}


def test_the_default_weights_file_names_only_real_features() -> None:
    weights = load_weights(known_features=FEATURE_NAMES)
    assert set(weights.indices) == {"leadership", "sales_driving", "influence"}
    assert weights.indices["leadership"]["ip_abroad"] > 0


def test_bad_weight_files_are_rejected_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text("[leadership]\nnot_a_feature = 1\n[sales_driving]\nbrands_distinct = 1\n[influence]\nfollowers_total = 1\n")
    with pytest.raises(WeightsError, match="not_a_feature is not a feature"):
        load_weights(path, known_features=FEATURE_NAMES)
    path.write_text("[leadership]\nip_abroad = -1\n[sales_driving]\nbrands_distinct = 1\n[influence]\nfollowers_total = 1\n")
    with pytest.raises(WeightsError, match=">= 0"):
        load_weights(path, known_features=FEATURE_NAMES)
    with pytest.raises(WeightsError, match="does not exist"):
        load_weights(tmp_path / "missing.toml")


REST = "[sales_driving]\nbrands_distinct = 1\n[influence]\nfollowers_total = 1\n"


@pytest.mark.parametrize(("value", "shown"), [
    ("nan", "nan"), ("inf", "inf"), ("-inf", "-inf"), ("1e308", "1e+308"), ("1000.5", "1000.5"),
])
def test_non_finite_and_absurd_weights_are_rejected_naming_the_index_component_and_value(
    tmp_path: Path, value: str, shown: str,
) -> None:
    path = tmp_path / "w.toml"
    path.write_text(f"[leadership]\nip_abroad = {value}\n{REST}")
    with pytest.raises(WeightsError) as caught:
        load_weights(path, known_features=FEATURE_NAMES)
    message = str(caught.value)
    assert f"[leadership] ip_abroad = {shown}" in message and "1000" in message and "\n" not in message
    path.write_text(f"[leadership]\nip_abroad = 1\n{REST}[composite]\nleadership = 1\nsales_driving = {value}\ninfluence = 1\n")
    with pytest.raises(WeightsError, match=re.escape(f"[composite] sales_driving = {shown}")):
        load_weights(path, known_features=FEATURE_NAMES)


def test_weights_up_to_the_bound_are_accepted_and_a_composite_that_is_not_a_table_is_not(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text(f"[leadership]\nip_abroad = 1000\ndeclared_abroad = 0\n{REST}")
    assert load_weights(path, known_features=FEATURE_NAMES).indices["leadership"] == {"ip_abroad": 1000.0,
                                                                                     "declared_abroad": 0.0}
    path.write_text(f"composite = 3\n[leadership]\nip_abroad = 1\n{REST}")
    with pytest.raises(WeightsError, match=r"\[composite\]"):
        load_weights(path, known_features=FEATURE_NAMES)


def test_enrich_with_an_infinite_weight_is_a_one_line_usage_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from crawler.cli import app

    path = tmp_path / "w.toml"
    path.write_text(f"[leadership]\nip_abroad = inf\n{REST}")
    result = CliRunner().invoke(app, ["enrich", "--weights", str(path), "--database-url", f"sqlite:///{tmp_path / 'none.db'}"],
                                env={"COLUMNS": "400"})
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {path}: [leadership] ip_abroad = inf: ")
    assert not (tmp_path / "none.db").exists()  # refused before touching the database


def test_top_contributors_are_the_first_three_by_rounded_points_then_name_as_a_full_sort_gives() -> None:
    """_top rounds only the entries that can be among the top three; it must pick what sorting
    every entry by (-|round(points, 2)|, name), ties in order, picks (many points here round to
    the same value, and one name repeats, as a component in two indices does for the composite)."""
    import random

    from enrichment.indices import TOP_CONTRIBUTORS, _top

    rng = random.Random(7)
    for _ in range(2000):
        size = rng.randint(0, 9)
        names = [rng.choice("abcdef") for _ in range(size)]
        points = [rng.choice([-1, 1]) * rng.choice([0.0, 0.004, 0.005, 0.0051, 0.01, 0.014, 0.015, 1.234, 1.2349,
                                                    rng.uniform(0, 3)]) for _ in range(size)]
        expected = sorted(range(size), key=lambda i: (-abs(round(points[i], 2)), names[i]))[:TOP_CONTRIBUTORS]
        assert _top(names, points) == [(i, round(points[i], 2)) for i in expected]


def test_a_knot_percentile_from_the_table_is_the_one_the_search_gives() -> None:
    """Distribution.percentile answers a knot from a table filled once it has been asked more
    than a sixteenth as many times as there are knots (searching before): the same value as the
    search and formula either way, for ints and floats, ties, both ends, and between knots."""
    import bisect

    from enrichment.indices import Distribution

    def searched(d: Distribution, value: float) -> float:
        i = bisect.bisect_left(d.knots, value)
        if i < len(d.knots) and d.knots[i] == value:
            less, equal = float(d.below[i]), d.equal[i]
        elif i == 0:
            less, equal = 0.0, 0
        elif i == len(d.knots):
            less, equal = float(d.n), 0
        else:
            start = d.below[i - 1] + d.equal[i - 1]
            less = start + (d.below[i] - start) * (value - d.knots[i - 1]) / (d.knots[i] - d.knots[i - 1])
            equal = 0
        return min(100.0, max(0.0, 100.0 * (less + equal / 2 - 0.5) / (d.n - 1)))

    for values, thin in (([3, 3, 4, 7, 7, 7, 10], None), ([0.1 * i for i in range(50)] * 2, None),
                         ([float(i % 13) ** 1.5 for i in range(300)], 7), ([-0.0, 0.0, 1.0], None)):
        d = Distribution.of(values, thin)
        probes = [*d.knots, *values, -1.0, 1e9, *((a + b) / 2 for a, b in zip(d.knots, d.knots[1:]))]
        assert [d.percentile(v).hex() for v in probes] == [searched(d, v).hex() for v in probes]
    assert Distribution.of([5.0]).percentile(5.0) == 50.0 and Distribution.of([]).percentile(1.0) == 50.0
    # A few questions (an incremental run against a frozen reference) are searched, not tabulated.
    large = Distribution.of([float(i) for i in range(2_000)])
    assert [large.percentile(v) for v in (3.0, 1999.5)] == [searched(large, v) for v in (3.0, 1999.5)]
    assert not large._at_knot
    assert [large.percentile(float(v)) for v in range(200)] == [searched(large, float(v)) for v in range(200)]
    assert len(large._at_knot) == 2_000


@pytest.mark.parametrize("seed", range(8))
def test_earliness_among_the_cohort_in_columns_is_the_per_candidate_walk(seed: int) -> None:
    # Few brands and few distinct times: ties for first, brands only one candidate names,
    # candidates naming no brand anyone shares, and even and odd numbers of others.
    rng = random.Random(seed)
    times = [1_600_000_000.0 + 86400 * rng.randint(0, 30) + rng.choice([0.0, 0.5, 3600.25]) for _ in range(12)]
    parsed = {cid: {f"brand {rng.randint(0, 6 + seed)}": rng.choice(times) for _ in range(rng.randint(0, 5))}
              for cid in rng.sample(range(1, 500), 40 + 10 * seed)}
    expected = _earliness_against(parsed, _live_table(parsed))
    got = _earliness_among(parsed)
    assert json.dumps(got) == json.dumps(expected)
    assert any(row["earliness_brands_compared"] for row in got.values())
    assert any(not row["earliness_brands_compared"] for row in got.values())
    assert _earliness_among({}) == {} and _earliness_among({7: {}}) == {7: expected_empty()}
    assert _earliness_among({7: {"a": 1.0}, 8: {"b": 2.0}}) == {7: expected_empty(), 8: expected_empty()}


def expected_empty() -> dict[str, object]:
    return {"earliness_brands_compared": 0, "earliness_first_share": None, "earliness_lead_days": None}
