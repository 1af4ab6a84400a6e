"""The cohort's column scoring (enrichment/cohort_scores.py) gives every row exactly what the row
form, ``score_candidate``, gives it: the same ranking columns, compared as JSON text so that
a float differing in its last bit (or a 5 written as 5.0) fails. The cohorts are made to reach
every branch: ties, yes/no facts, ints, strings, NaN and infinities, missing components,
per-platform breakdowns with platforms without a tier, zero weights, an index without weight,
tier edges, a reference without spread, a sketched frozen reference and values between its
knots, and a reference lacking groups the rows have."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlmodel import delete, select, update

from enrichment.cohort_scores import (
    CohortColumns,
    cohort_rankings,
    live_columns,
    percentiles,
    rounded,
)
from enrichment.features import PLATFORMS
from enrichment.indices import (
    Distribution,
    Reference,
    Tiers,
    Weights,
    cohort_reference,
    earliness,
    load_weights,
    ranking_columns,
    score_candidate,
)
from enrichment.ranking_inputs import (
    decode_cohort,
    decode_inputs,
    encode_inputs,
)
from enrichment.schema import (
    COVERAGE_COLUMNS,
    FEATURE_NAMES,
    INDEX_COLUMNS,
    SCORE_COLUMNS,
)
from enrichment.stage import (
    _Cohort,
    _Ranked,
    _ranking_view,
    _view_names,
    enrich,
    live_cohort_reference,
    rank_cohort,
)
from storage.db import session_scope
from storage.features import iter_newest_rows, picked_features
from storage.models import Candidate, FeatureRanking, FeatureSnapshot, RankingInput
from tests.test_export import populate

WITHIN = ("rate", "growth")
TIERS = Tiers(within_tier=WITHIN)
WEIGHTS = Weights(
    indices={
        "leadership": {"abroad": 2.0, "share": 1.0, "text": 0.5, "zero": 0.0, "rate": 1.5},
        "sales_driving": {"brands": 1.0, "share": 1.0, "growth": 2.0, "ties": 1.0},
        "influence": {"followers_weibo": 3.0, "press": 1.0, "flat": 1.0, "brands": 0.25},
    },
    composite={"leadership": 1.0, "sales_driving": 0.0, "influence": 2.0},
    tiers=TIERS,
)
NO_WEIGHT = Weights(
    indices={"leadership": {"share": 0.0}, "sales_driving": {"brands": 1.0}, "influence": {"press": 0.0}},
    composite={"leadership": 1.0, "sales_driving": 1.0, "influence": 1.0},
    tiers=TIERS,
)
ODD = [None, float("nan"), float("inf"), "12", True, False, 0, -0.0]


def _value(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.25:
        return None
    if roll < 0.3:
        return rng.choice(ODD)
    if roll < 0.5:
        return rng.choice([0.1, 0.2, 0.3, 1 / 3, 2 / 3])  # ties
    if roll < 0.6:
        return rng.randint(0, 20)
    return rng.uniform(-5, 1e6) * rng.choice([1e-3, 1.0, 1e3])


def _row(rng: random.Random) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in ("share", "text", "zero", "brands", "press", "flat", "ties", "rate", "growth"):
        value = _value(rng)
        if value is not None or rng.random() < 0.5:
            row[name] = value
    row["abroad"] = rng.choice([True, False, None, 1.0])
    row["ties"] = rng.choice([1, 1, 2, None])
    row["flat"] = 7.0 if rng.random() < 0.9 else None
    for platform in rng.sample(PLATFORMS, rng.randint(0, 4)):
        # Exactly on the tier edges now and then, and now and then not a number.
        row[f"followers_{platform}"] = rng.choice([9_999, 10_000, 100_000, 500_000, 1_000_000, 1_000_001,
                                                   rng.randint(0, 3_000_000), rng.random() * 1e5, "n/a", True])
    for name in WITHIN:
        if rng.random() < 0.6:
            breakdown = {p: _value(rng) for p in rng.sample([*PLATFORMS, "myspace"], rng.randint(0, 5))}
            row[f"{name}_by_platform"] = breakdown
        elif rng.random() < 0.2:
            row[f"{name}_by_platform"] = "not a table"
    return row


def _cohort(seed: int, size: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [_row(rng) for _ in range(size)]


def _row_form(views: list[dict[str, Any]], weights: Weights, reference: Reference) -> list[str]:
    return [json.dumps(ranking_columns(score_candidate(view, weights, reference, explain=False))) for view in views]


def _column_form(views: list[dict[str, Any]], weights: Weights, reference: Reference) -> list[str]:
    return [json.dumps(ranking) for ranking in cohort_rankings(views, weights, reference)]


@pytest.mark.parametrize("seed", range(12))
def test_every_row_scores_as_score_candidate_scores_it_against_its_own_cohort(seed: int) -> None:
    views = _cohort(seed, 60 + 20 * seed)
    reference = cohort_reference(views, WEIGHTS)
    assert _column_form(views, WEIGHTS, reference) == _row_form(views, WEIGHTS, reference)
    columns, live = live_columns(views, WEIGHTS)
    assert live == reference
    assert [json.dumps(ranking) for ranking in columns.rankings(live)] == _row_form(views, WEIGHTS, reference)


def _same_columns(given: CohortColumns, walked: CohortColumns) -> None:
    """Every column two CohortColumns hold, equal (NaN equal to NaN)."""
    def same(a: np.ndarray, b: np.ndarray) -> bool:
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")

    assert same(given.tier, walked.tier)
    assert given.platform_tier.keys() == walked.platform_tier.keys()
    assert all(same(given.platform_tier[p], walked.platform_tier[p]) for p in walked.platform_tier)
    assert given.numbers.keys() == walked.numbers.keys() and given.facts == walked.facts
    assert all(same(given.numbers[c], walked.numbers[c]) for c in walked.numbers)
    assert given.fact_rows.keys() == walked.fact_rows.keys()
    assert all(same(given.fact_rows[c], walked.fact_rows[c]) for c in walked.fact_rows)
    for component, entries in walked.entries.items():
        assert [e.prefix for e in given.entries[component]] == [e.prefix for e in entries]
        for mine, theirs in zip(given.entries[component], entries):
            assert same(mine.rows, theirs.rows) and same(mine.values, theirs.values) and same(mine.tiers, theirs.tiers)


@pytest.mark.parametrize("seed", range(12))
def test_columns_read_from_the_kept_views_decoded_together_are_the_columns_the_views_give(seed: int) -> None:
    # Ranking reads the kept rows' features from the columns decode_cohort made of them, the
    # other rows' (their documents' views: values a kept view cannot hold) from the views.
    views = _cohort(seed, 60 + 20 * seed)
    texts = [encode_inputs(view) for view in views]
    places = [i for i, text in enumerate(texts) if text is not None]
    assert 0 < len(places) < len(views)  # both kinds of rows
    decoded, kept = decode_cohort([texts[i] for i in places])  # type: ignore[misc]
    read = list(views)
    for i, view in zip(places, decoded):
        read[i] = view
    given = CohortColumns(read, WEIGHTS, TIERS, kept=(kept, places))
    walked = CohortColumns(views, WEIGHTS, TIERS)
    _same_columns(given, walked)
    reference = walked.reference()
    assert given.reference() == reference
    assert [json.dumps(r) for r in given.rankings(reference)] == [json.dumps(r) for r in walked.rankings(reference)]
    # A feature set on the views after they were decoded (as ranking sets earliness) is read
    # from the views when named fresh, and its stale column is not.
    for view in read:
        view["share"] = 0.5 if view.get("share") is None else None
    _same_columns(CohortColumns(read, WEIGHTS, TIERS, kept=(kept, places), fresh={"share"}),
                  CohortColumns(read, WEIGHTS, TIERS))


@pytest.mark.parametrize("seed", range(12))
def test_contributors_written_as_text_are_the_text_json_makes_of_the_contributors(seed: int) -> None:
    # A ranking writes the contributors as text made without making the dicts: the text must
    # be json.dumps' of the dicts, byte for byte (odd values, tiers, composite entries included).
    views = _cohort(seed, 60 + 20 * seed)
    columns, live = live_columns(views, WEIGHTS)
    rows = list(range(len(views)))[::-3]  # some rows only, in another order
    as_dicts = columns.rankings(live, rows)
    as_text = columns.rankings(live, rows, contributors_text=True)
    assert [ranking["top_contributors"] for ranking in as_text] == [json.dumps(ranking["top_contributors"])
                                                                     for ranking in as_dicts]
    assert [{**ranking, "top_contributors": None} for ranking in as_text] == \
        [{**ranking, "top_contributors": None} for ranking in as_dicts]
    assert any(len(json.loads(ranking["top_contributors"])["composite"]) > 1 for ranking in as_text)
    # Weights with indices that have nothing to pick from (no positive weight): their lists empty.
    columns, live = live_columns(views, NO_WEIGHT)
    assert [ranking["top_contributors"] for ranking in columns.rankings(live, rows, contributors_text=True)] == \
        [json.dumps(ranking["top_contributors"]) for ranking in columns.rankings(live, rows)]


@pytest.mark.parametrize("seed", range(6))
def test_every_row_scores_as_score_candidate_scores_it_against_a_sketched_frozen_reference(seed: int) -> None:
    # A reference of another cohort kept as a 4-point sketch: most values fall between knots,
    # beyond the ends, or in tier groups the reference never saw.
    reference = cohort_reference(_cohort(100 + seed, 300), WEIGHTS, max_knots=4)
    reference.version = 1
    views = _cohort(200 + seed, 80)
    assert _column_form(views, WEIGHTS, reference) == _row_form(views, WEIGHTS, reference)


def test_the_mean_over_platforms_adds_them_in_the_order_of_their_names() -> None:
    # Every row on every platform: the mean of eight percentiles differs in its last bits when
    # they are added in another order.
    rng = random.Random(11)
    views = [{**{f"followers_{p}": rng.randint(0, 2_000_000) for p in PLATFORMS},
              "rate_by_platform": {p: rng.random() for p in reversed(PLATFORMS)}} for _ in range(400)]
    reference = cohort_reference(views, WEIGHTS)
    assert _column_form(views, WEIGHTS, reference) == _row_form(views, WEIGHTS, reference)
    column = CohortColumns(views, WEIGHTS, TIERS).percentiles(reference)[:, WEIGHTS.components.index("rate")]
    by_row = [score_candidate(view, WEIGHTS, reference)["components"]["rate"].percentile for view in views]
    assert [repr(p) for p in column.tolist()] == [repr(p) for p in by_row]


def test_rows_score_alike_with_zero_weights_an_unweighted_index_and_an_empty_reference() -> None:
    views = _cohort(7, 50)
    for weights in (NO_WEIGHT, WEIGHTS):
        for reference in (Reference(tiers=TIERS), cohort_reference(views, weights)):
            assert _column_form(views, weights, reference) == _row_form(views, weights, reference)


def test_the_shipped_weights_score_alike_on_shipped_feature_names() -> None:
    weights = load_weights(known_features=FEATURE_NAMES)
    rng = random.Random(3)
    views = [{name: _value(rng) for name in weights.ranking_inputs if not name.endswith("_by_platform")
              and name != "brand_first_seen"} for _ in range(150)]
    reference = cohort_reference(views, weights)
    assert _column_form(views, weights, reference) == _row_form(views, weights, reference)
    assert cohort_rankings([], weights, reference) == []


def test_percentiles_are_the_distributions_own_at_knots_between_them_and_beyond() -> None:
    distribution = Distribution.of([1.0, 2.0, 2.0, 5.0, 9.0, 9.0, 9.0, 12.0], max_knots=None)
    values = np.array([-1.0, 1.0, 1.5, 2.0, 3.3, 9.0, 11.9, 12.0, 40.0])
    assert percentiles(distribution, values).tolist() == [distribution.percentile(v) for v in values.tolist()]


def test_rounding_is_pythons_round_even_where_the_scaled_value_lands_on_a_half() -> None:
    # 2.675 is 2.67499999... in binary: round gives 2.67 where rint(267.49999999999997) agrees,
    # 1.0049999999999999 * 100 rounds up to 100.49999999999999; 0.125 is an exact half (even: 0.12).
    values = np.array([2.675, 1.0049999999999999, 0.125, 0.375, -0.125, -2.675, 1e-9, float("nan"), 49.99995, 0.00005])
    for digits in (2, 4):
        expected = [round(v, digits) for v in values.tolist()]
        got = rounded(values, digits).tolist()
        assert json.dumps(got) == json.dumps(expected)
    rng = np.random.default_rng(5)
    many = np.concatenate([rng.uniform(-100, 100, 20_000), np.round(rng.uniform(-100, 100, 20_000), 3) + 0.005])
    assert rounded(many, 2).tolist() == [round(v, 2) for v in many.tolist()]


# --------------------------------------------------------------------------- in the stage


def _rows(database_url: str, names: list[str] | None) -> dict[int, tuple[Any, ...]]:
    """Each newest row's id, features (whole, or those named as picked_features picks them)
    and ranking digest."""
    with session_scope(database_url) as session:
        rows = list(iter_newest_rows(session, active_only=True))
        picked = picked_features(session, [row.id for row in rows], names) if names is not None else {}
        return {row.candidate_id: (row.id, row.features if names is None else picked.get(row.id, {}), row.ranking_digest)
                for row in rows}


def _rankings(database_url: str) -> dict[int, tuple[Any, ...]]:
    """Each newest row's ranking as stored."""
    columns = [*INDEX_COLUMNS, *COVERAGE_COLUMNS, *SCORE_COLUMNS, "tier", "reference", "top_contributors"]
    with session_scope(database_url) as session:
        return {row.candidate_id: tuple(getattr(row.ranking, c) for c in columns)
                for row in session.exec(select(FeatureSnapshot).order_by(FeatureSnapshot.id)).all()}


def test_the_ranking_reads_the_same_features_picked_in_sql_as_out_of_the_whole_document(database_url: str) -> None:
    populate(database_url)
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
    names = _view_names(load_weights(known_features=FEATURE_NAMES))
    picked = _rows(database_url, names)
    whole = _rows(database_url, None)
    assert picked.keys() == whole.keys()
    for cid, (fid, features, digest) in picked.items():
        assert features == {name: whole[cid][1][name] for name in names if whole[cid][1].get(name) is not None}
        assert (fid, digest) == whole[cid][::2] and digest is not None


def test_a_document_sql_cannot_read_is_read_whole_and_the_cohort_still_ranked(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL refuses NaN in a json column, so no stored document is unreadable there")
    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
    before = _rankings(database_url)
    # Python's json writes NaN, which is not JSON: SQLite's json_extract refuses the document.
    with session_scope(database_url) as session:
        row = session.get(FeatureSnapshot, _rows(database_url, None)[ids["local"]][0])
        row.features = {**row.features, "engagement_rate_by_platform": {"douyin": float("nan")}}  # type: ignore[union-attr]
        row.ranking.ranking_digest = None  # type: ignore[union-attr]
        session.add(row)
        session.execute(delete(RankingInput))  # the kept views: the ranking reads the documents
    with session_scope(database_url) as session:
        assert rank_cohort(session, active_only=True) == 3
    rate = _rows(database_url, _view_names(load_weights(known_features=FEATURE_NAMES)))[ids["local"]][1][
        "engagement_rate_by_platform"]["douyin"]
    assert math.isnan(rate)  # read in Python
    assert _rankings(database_url) == before


def test_a_row_whose_percentiles_did_not_move_keeps_its_ranking_and_the_rest_are_ranked_again(database_url: str) -> None:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
    before = _rankings(database_url)
    digests = {cid: values[2] for cid, values in _rows(database_url, None).items()}
    # A stored ranking made wrong by hand stays as it is while its digest says it is current ...
    with session_scope(database_url) as session:
        ranking = session.get(FeatureRanking, _rows(database_url, None)[ids["global"]][0])
        ranking.composite_score = -1.0  # type: ignore[union-attr]
        session.add(ranking)
    with session_scope(database_url) as session:
        rank_cohort(session, active_only=True)
    assert _rankings(database_url)[ids["global"]][SCORE_COLUMNS.index("composite_score") + 8] == -1.0
    assert {cid: values[2] for cid, values in _rows(database_url, None).items()} == digests
    # ... and is made again once the digest is not (other weights, another reference, new code).
    with session_scope(database_url) as session:
        ranking = session.get(FeatureRanking, _rows(database_url, None)[ids["global"]][0])
        ranking.ranking_digest = "stale"  # type: ignore[union-attr]
        session.add(ranking)
    with session_scope(database_url) as session:
        rank_cohort(session, active_only=True)
    assert _rankings(database_url) == before


def _kept(database_url: str) -> dict[int, str]:
    with session_scope(database_url) as session:
        return {row.snapshot_id: row.inputs for row in session.exec(select(RankingInput)).all()}


def test_the_kept_views_are_the_documents_views_and_rank_alike(database_url: str) -> None:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
    weights = load_weights(known_features=FEATURE_NAMES)
    kept = _kept(database_url)
    with session_scope(database_url) as session:
        newest = list(iter_newest_rows(session, active_only=True))
    documents = {row.id: row.features for row in newest}
    # Every row's view is kept but the one with nothing to rank, which ranking never reads.
    assert documents.keys() - kept.keys() == {row.id for row in newest if row.candidate_id == ids["empty"]}
    documents = {fid: document for fid, document in documents.items() if fid in kept}
    brands = 0
    for fid, text in kept.items():
        view = _ranking_view(documents[fid], weights)  # earliness included: kept after it was written
        first = view.pop("brand_first_seen", None) or {}
        brands += len(first)
        decoded = decode_inputs(text)
        assert (decoded.pop("brand_first_seen", None) or {}) == {b: datetime.fromisoformat(t).timestamp()
                                                                 for b, t in first.items()}
        assert decoded == view
    assert brands  # the cohort mentions brands: first mentions were kept as numbers
    before, digests = _rankings(database_url), {cid: values[2] for cid, values in _rows(database_url, None).items()}
    # Without them the ranking reads the documents, finds every ranking current, and keeps them again.
    with session_scope(database_url) as session:
        session.execute(delete(RankingInput))
    with session_scope(database_url) as session:
        rank_cohort(session, active_only=True)
    assert _rankings(database_url) == before
    assert {cid: values[2] for cid, values in _rows(database_url, None).items()} == digests
    assert _kept(database_url) == kept


def test_a_kept_view_goes_with_its_feature_row(database_url: str) -> None:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
    with session_scope(database_url) as session:
        session.execute(delete(FeatureSnapshot).where(FeatureSnapshot.candidate_id == ids["local"]))
    with session_scope(database_url) as session:
        left = {row.candidate_id for row in iter_newest_rows(session, active_only=True, marks_only=True)}
    assert set(_kept(database_url)) == {fid for cid, (fid, _, _) in _rows(database_url, None).items()
                                        if cid != ids["empty"]}  # (nothing to rank: never kept)
    assert ids["local"] not in left


def test_a_kept_view_reads_back_exactly_and_one_it_cannot_keep_exactly_is_not_kept() -> None:
    view = {"a": 0.1, "b": -0.0, "c": 2 ** 53, "d": True, "e": False, "f": None, "g": 1e308, "h": 7,
            "engagement_rate_by_platform": {"weibo": 0.25, "x": None, "douyin": 3},
            "brand_first_seen": {"Estée Lauder": "2026-05-01T08:00:00.123456+00:00", "A|B": 1_700_000_000.5},
            "earliness_lead_days": None}
    decoded = decode_inputs(encode_inputs(view))  # type: ignore[arg-type]
    expected = {**view, "brand_first_seen": {"Estée Lauder": datetime.fromisoformat(
        "2026-05-01T08:00:00.123456+00:00").timestamp(), "A|B": 1_700_000_000.5}}
    assert repr(sorted(decoded.items())) == repr(sorted(expected.items()))
    nan = decode_inputs(encode_inputs({"a": float("nan")}))["a"]  # type: ignore[arg-type]
    assert math.isnan(nan)
    for odd in ({"a": "12"}, {"a": 2 ** 60}, {"a": [1.0]}, {"a": {"b": "c"}}, {"a": {"b": {"c": 1.0}}}):
        assert encode_inputs(odd) is None


def test_many_kept_views_read_back_together_as_each_reads_alone() -> None:
    # decode_cohort reads the rows sharing a layout as columns: every row must come back as
    # decode_inputs gives it alone, in the order given, whatever the layouts are interleaved.
    rng = random.Random(7)
    views: list[dict[str, Any]] = []
    for n in range(60):
        view: dict[str, Any] = {"followers_weibo": rng.choice([None, rng.randint(0, 2 ** 53)]),
                                "ip_abroad": rng.choice([True, False, None]), "growth_30d_rel": rng.choice([-0.0, 0.5, None])}
        if n % 3:
            view["engagement_rate_by_platform"] = {"weibo": rng.random(), "x": rng.choice([None, 4, False])}
        if n % 4 == 1:
            view["brand_first_seen"] = {f"Brand {k}": 1_700_000_000.0 + k for k in range(n % 5)}  # some with none
        if n % 5 == 2:
            view["extra"] = float("nan")
        views.append(view)
    texts = [encode_inputs(view) for view in views]
    assert all(text is not None for text in texts) and len({text.split("\x1e")[0] for text in texts}) > 4  # type: ignore[union-attr]
    together = decode_cohort(texts)[0]  # type: ignore[arg-type]
    alone = [decode_inputs(text) for text in texts]  # type: ignore[arg-type]
    assert repr(together) == repr(alone)  # (repr: NaN equals itself there, -0.0 differs from 0.0)
    assert [list(view) for view in together] == [list(view) for view in alone]
    for view, decoded in zip(views, together):
        assert repr(sorted(decoded.items())) == repr(sorted(view.items()))
    # A brand name holding a separator the kept form uses is not kept: its row reads its document.
    assert encode_inputs({"brand_first_seen": {"A\x1fB": 1.0}}) is None
    assert encode_inputs({"brand_first_seen": {"": 1.0}}) is None


def test_the_cohort_s_earliness_from_kept_first_mentions_is_the_earliness_of_its_first_mentions() -> None:
    # Ranking reads the kept rows' first mentions as entries (columns), the other rows' (read
    # from their documents: ISO times) from their views; together they must give what
    # earliness() gives the first mentions as dicts. Ties, rows without any, and empty ones.
    rng = random.Random(3)
    brands = [f"Brand {k}" for k in range(15)]
    views: list[dict[str, Any]] = []
    for n in range(80):
        view: dict[str, Any] = {"followers_weibo": n}
        if n % 7:
            view["brand_first_seen"] = {brand: float(rng.randrange(1_700_000_000, 1_702_592_000, 3_600))
                                        for brand in rng.sample(brands, rng.randint(0, 6))}
        views.append(view)
    kept_at = [i for i in range(len(views)) if i % 3]
    decoded, columns = decode_cohort([encode_inputs(views[i]) for i in kept_at])  # type: ignore[misc]
    read = iter(decoded)
    rows = []
    for i, view in enumerate(views):
        if i in kept_at:
            rows.append(_Ranked(i, 1_000 + i, next(read), {}, None, None, kept=True))
            continue
        document = dict(view)
        if "brand_first_seen" in view:
            document["brand_first_seen"] = {brand: datetime.fromtimestamp(stamp, UTC).isoformat()
                                            for brand, stamp in view["brand_first_seen"].items()}
        rows.append(_Ranked(i, 1_000 + i, document, {}, None, None))
    expected = earliness({1_000 + i: view["brand_first_seen"] for i, view in enumerate(views)
                          if view.get("brand_first_seen")})
    assert any(value["earliness_brands_compared"] for value in expected.values())
    assert _Cohort(rows, [], (columns, kept_at)).earliness() == expected


def test_a_row_with_nothing_to_rank_is_stored_ranked_and_never_written_again(database_url: str) -> None:
    ids = populate(database_url)  # "Nobody Yet": an account and nothing read
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
    with session_scope(database_url) as session:
        row = session.get(FeatureSnapshot, _rows(database_url, None)[ids["empty"]][0])
        stored = (row.ranking.ranked_at, row.ranking.ranking_digest, row.computed_at)  # type: ignore[union-attr]
    assert stored[1] is not None and stored[0] == stored[2]  # ranked when stored
    before = _rankings(database_url)
    with session_scope(database_url) as session:
        rank_cohort(session, active_only=True)
    with session_scope(database_url) as session:
        ranking = session.get(FeatureRanking, _rows(database_url, None)[ids["empty"]][0])
        assert (ranking.ranked_at, ranking.ranking_digest) == stored[:2]  # type: ignore[union-attr]
    # The ranking it was stored with is the one a ranking from nothing makes.
    with session_scope(database_url) as session:
        session.execute(update(FeatureRanking).values(ranking_digest=None, reference=None, top_contributors={}))
    with session_scope(database_url) as session:
        rank_cohort(session, active_only=True)
    assert _rankings(database_url) == before
    assert _rows(database_url, None)[ids["empty"]][2] == stored[1]


def test_a_kept_view_is_not_taken_for_a_new_row_given_its_id_again(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only: it gives the highest id again once the row holding it is deleted")
    ids = populate(database_url)
    with session_scope(database_url) as session:
        # Its row would have the highest id, and a row with nothing to rank has no kept view.
        session.execute(update(Candidate).where(Candidate.id == ids["empty"]).values(active=False))
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
    newest = max(_kept(database_url))
    assert newest == max(fid for fid, _, _ in _rows(database_url, None).values())
    before = _rankings(database_url)
    # Deleted by a connection that does not enforce foreign keys: the kept view stays, and here
    # it says something the row never did.
    raw = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    raw.execute("DELETE FROM featuresnapshot WHERE id = ?", (newest,))
    raw.execute("UPDATE rankinginput SET inputs = ? WHERE snapshot_id = ?",
                (encode_inputs({"followers_total": 1e12, "ip_abroad": True}), newest))
    raw.commit()
    raw.close()
    with session_scope(database_url) as session:
        assert enrich(session, reference="cohort").computed == 1
    assert newest in {fid for fid, _, _ in _rows(database_url, None).values()}  # the id, given again
    with session_scope(database_url) as session:
        document = session.get(FeatureSnapshot, newest).features  # type: ignore[union-attr]
    view = _ranking_view(document, load_weights(known_features=FEATURE_NAMES))
    assert decode_inputs(_kept(database_url)[newest]) == view  # (its first mentions: none, no brands)
    assert {cid: values[:-3] for cid, values in _rankings(database_url).items()} == \
        {cid: values[:-3] for cid, values in before.items()}


def test_the_newest_rows_of_the_active_cohort_and_extra_candidates_come_once_each_by_id(database_url: str) -> None:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
        session.execute(update(Candidate).where(Candidate.id == ids["local"]).values(active=False))
    with session_scope(database_url) as session:
        everyone = {row.candidate_id: row.id for row in iter_newest_rows(session)}
        merged = [(row.candidate_id, row.id) for row in
                  iter_newest_rows(session, active_only=True, extra_ids=[ids["local"], ids["global"]], page=1)]
        active = [row.candidate_id for row in iter_newest_rows(session, active_only=True, extra_ids=[ids["global"]])]
    assert merged == sorted(everyone.items())  # the inactive extra in its place, the active extra once
    assert active == sorted([ids["global"], ids["empty"]])


def test_the_live_reference_explain_uses_is_the_cohorts_and_counts_every_member(database_url: str) -> None:
    populate(database_url)
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
    weights = load_weights(known_features=FEATURE_NAMES)
    with session_scope(database_url) as session:
        documents = [row.features for row in iter_newest_rows(session, active_only=True)]
        live = live_cohort_reference(session, weights)
    expected = cohort_reference([_ranking_view(document, weights) for document in documents], weights)
    assert live.size == len(documents) == 3  # the member with nothing to rank counted, though not read
    assert live.distributions == expected.distributions and live.distributions
    assert (live.label, live.tiers) == (expected.label, expected.tiers)
