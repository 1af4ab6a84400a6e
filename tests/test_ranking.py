"""Coverage-aware ranking (issue 15): the shrinkage rule, yes/no facts and components that do
not differ, follower tiers at their edges and ranking within a tier, percentiles against a
reference, and frozen references that keep an old candidate's score still when others join."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import select

from enrichment.features import PostRow, engagement_features
from enrichment.indices import (
    MAX_KNOTS,
    Distribution,
    Tiers,
    Weights,
    WeightsError,
    cohort_reference,
    earliness,
    load_weights,
    percentile_ranks,
    score_candidate,
    score_cohort,
)
from enrichment.schema import FEATURE_NAMES
from enrichment.stage import enrich, explain_candidate, feature_table, freeze_reference, resolve_reference
from storage.db import session_scope
from storage.models import Account, Candidate, FeatureSnapshot, ProfileSnapshot
from tests.test_export import NOW, _snapshot, populate

WEIGHTS = Weights(
    indices={
        "leadership": {"ip_abroad": 2.0, "shopping_post_share": 1.0, "trend_post_share": 1.0},
        "sales_driving": {"brands_distinct": 1.0, "engagement_rate": 1.0},
        "influence": {"followers_total": 1.0, "press_weighted_365d": 2.0, "growth_30d_rel": 1.0},
    },
    composite={"leadership": 1.0, "sales_driving": 1.0, "influence": 1.0},
)


# --------------------------------------------------------------------------- tiers


@pytest.mark.parametrize(("followers", "tier"), [
    (0, "nano"), (9_999, "nano"), (10_000, "micro"), (99_999, "micro"), (100_000, "mid"), (499_999, "mid"),
    (500_000, "macro"), (999_999, "macro"), (1_000_000, "macro"), (1_000_001, "mega"), (63_357_736, "mega"),
])
def test_each_tier_starts_at_its_edge_and_a_million_is_still_macro(followers: int, tier: str) -> None:
    assert Tiers().tier(followers) == tier
    assert Tiers().tier(followers, "weibo") == tier  # no platform edges configured: the default ones


def test_tier_edges_are_configurable_per_platform_in_the_weights_file(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    base = WEIGHTS_FILE_TEXT
    path.write_text(base + "[tiers]\nedges = [5_000, 50_000, 250_000, 500_000]\n[tiers.platform]\nweibo = [50_000, 500_000, 2_500_000, 5_000_001]\n")
    tiers = load_weights(path, known_features=FEATURE_NAMES).tiers
    assert [tiers.tier(n) for n in (4_999, 5_000, 499_999, 500_000)] == ["nano", "micro", "macro", "mega"]
    assert [tiers.tier(n, "weibo") for n in (49_999, 50_000, 5_000_000, 5_000_001)] == ["nano", "micro", "macro", "mega"]
    assert tiers.tier(None) is None
    # The candidate's tier is the highest of its platforms' (each by its own edges).
    assert tiers.of({"followers_weibo": 3_000_000, "followers_bilibili": 600_000}) == (
        "mega", {"bilibili": "mega", "weibo": "macro"})
    for bad, message in (("edges = [10, 5, 20, 30]", "increasing"), ("edges = [1, 2, 3]", "4 increasing"),
                         ("[tiers.platform]\nmyspace = [1, 2, 3, 4]", "not a platform"),
                         ("within_tier = ['no_such_feature']", "not a feature")):
        path.write_text(base + "[tiers]\n" + bad + "\n")
        with pytest.raises(WeightsError, match=message):
            load_weights(path, known_features=FEATURE_NAMES)


WEIGHTS_FILE_TEXT = "[leadership]\nip_abroad = 1\n[sales_driving]\nbrands_distinct = 1\n[influence]\nfollowers_total = 1\n"


def test_engagement_rate_and_growth_are_ranked_within_their_tier_and_reach_cohort_wide() -> None:
    cohort = {
        # Two nano Weibo accounts: 1 has the better rate among nanos ...
        1: {"followers_weibo": 5_000, "followers_total": 5_000, "engagement_rate": 0.05,
            "engagement_rate_by_platform": {"weibo": 0.05}, "growth_30d_rel": 0.10},
        2: {"followers_weibo": 6_000, "followers_total": 6_000, "engagement_rate": 0.01,
            "engagement_rate_by_platform": {"weibo": 0.01}, "growth_30d_rel": 0.01},
        # ... and two mega ones, whose rates are far lower: 3 is the best of the megas.
        3: {"followers_weibo": 9_000_000, "followers_total": 9_000_000, "engagement_rate": 0.002,
            "engagement_rate_by_platform": {"weibo": 0.002}, "growth_30d_rel": 0.02},
        4: {"followers_weibo": 8_000_000, "followers_total": 8_000_000, "engagement_rate": 0.001,
            "engagement_rate_by_platform": {"weibo": 0.001}, "growth_30d_rel": 0.001},
    }
    scores = score_cohort(cohort, WEIGHTS)
    rate = {cid: next(i for i in s["top_contributors"]["sales_driving"] if i["component"] == "engagement_rate")
            for cid, s in scores.items()}
    assert {cid: item["percentile"] for cid, item in rate.items()} == {1: 100.0, 2: 0.0, 3: 100.0, 4: 0.0}
    assert rate[3]["groups"] == ["weibo:mega"] and rate[1]["groups"] == ["weibo:nano"]
    growth = {cid: next(i for i in s["top_contributors"]["influence"] if i["component"] == "growth_30d_rel")["percentile"]
              for cid, s in scores.items()}
    assert growth == {1: 100.0, 2: 0.0, 3: 100.0, 4: 0.0}
    reach = {cid: next(i for i in s["top_contributors"]["influence"] if i["component"] == "followers_total")["percentile"]
             for cid, s in scores.items()}
    assert reach == {1: 0.0, 2: pytest.approx(100 / 3, abs=0.01), 3: 100.0, 4: pytest.approx(200 / 3, abs=0.01)}  # cohort-wide
    assert {cid: s["tier"] for cid, s in scores.items()} == {1: "nano", 2: "nano", 3: "mega", 4: "mega"}


def test_a_platform_rate_is_averaged_over_the_candidates_platforms_each_in_its_own_tier() -> None:
    cohort = {
        1: {"followers_weibo": 5_000, "followers_douyin": 2_000_000,
            "engagement_rate_by_platform": {"weibo": 0.05, "douyin": 0.001}, "engagement_rate": 0.001},
        2: {"followers_weibo": 6_000, "engagement_rate_by_platform": {"weibo": 0.01}, "engagement_rate": 0.01},
        3: {"followers_douyin": 3_000_000, "engagement_rate_by_platform": {"douyin": 0.004}, "engagement_rate": 0.004},
    }
    item = next(i for i in score_cohort(cohort, WEIGHTS)[1]["top_contributors"]["sales_driving"]
                if i["component"] == "engagement_rate")
    assert item["groups"] == ["douyin:mega", "weibo:nano"]
    assert item["percentile"] == pytest.approx((0.0 + 100.0) / 2)  # last among mega Douyin, first among nano Weibo


# --------------------------------------------------------------------------- the shrinkage rule


def test_the_score_is_coverage_times_index_plus_the_rest_times_50() -> None:
    cohort = {
        1: {"ip_abroad": True, "shopping_post_share": 0.9, "trend_post_share": 0.1},
        2: {"ip_abroad": False, "shopping_post_share": 0.1, "trend_post_share": 0.5},
        3: {"shopping_post_share": 0.5},  # IP not shown, no trend data: 1 of the 4 weight units
    }
    scores = score_cohort(cohort, WEIGHTS)
    for result in scores.values():
        index, coverage, score = result["leadership_index"], result["leadership_coverage"], result["leadership_score"]
        assert score == pytest.approx(coverage * index + (1 - coverage) * 50, abs=1e-3)
    assert scores[3]["leadership_index"] == 50.0 and scores[3]["leadership_coverage"] == 0.25
    assert scores[1]["leadership_index"] == pytest.approx((2 * 100 + 100 + 0) / 4)
    # Composite: the weighted mean of the index scores, an index without data counting 50.
    assert scores[3]["composite_score"] == pytest.approx((50 + 50 + 50) / 3)
    assert scores[1]["composite_score"] == pytest.approx((scores[1]["leadership_score"] + 50 + 50) / 3)


def test_one_lucky_component_does_not_beat_a_well_covered_candidate() -> None:
    cohort = {
        # Known only by its follower count, the largest of all: raw influence 100 on 1/4 of the weight.
        "lucky": {"followers_total": 60_000_000},
        # Well covered and good but not first everywhere.
        "solid": {"followers_total": 2_000_000, "press_weighted_365d": 3.0, "ip_abroad": True, "shopping_post_share": 0.6,
                  "trend_post_share": 0.4, "brands_distinct": 8},
        "weak": {"followers_total": 50_000, "press_weighted_365d": 0.5, "ip_abroad": False, "shopping_post_share": 0.1,
                 "trend_post_share": 0.5, "brands_distinct": 2},
    }
    scores = score_cohort(cohort, WEIGHTS)
    assert scores["lucky"]["composite_index"] == 100.0  # the raw index alone would put it first
    ranked = sorted(scores, key=lambda cid: -scores[cid]["composite_score"])
    assert ranked[0] == "solid"
    assert scores["lucky"]["composite_coverage"] < 0.1 and 50 < scores["lucky"]["composite_score"] < 55


def test_a_component_on_which_the_cohort_does_not_differ_carries_no_information() -> None:
    cohort = {1: {"brands_distinct": 0, "shopping_post_share": 0.2}, 2: {"brands_distinct": 0, "shopping_post_share": 0.4},
              3: {"brands_distinct": 0}}
    scores = score_cohort(cohort, WEIGHTS)
    for result in scores.values():  # every brand count is 0: neither data nor a pull towards 50
        assert result["sales_driving_index"] is None and result["sales_driving_coverage"] == 0.0
        assert result["sales_driving_score"] is None
    reference = cohort_reference(cohort.values(), WEIGHTS)
    assert score_candidate(cohort[1], WEIGHTS, reference)["components"]["brands_distinct"].note == "no spread"
    # One known value is no spread either.
    assert score_cohort({1: {"press_weighted_365d": 2.0}, 2: {}}, WEIGHTS)[1]["influence_coverage"] == 0.0


def test_yes_no_facts_count_as_they_are_so_true_beats_false_even_when_everyone_known_is_true() -> None:
    everyone_abroad = score_cohort({1: {"ip_abroad": True}, 2: {"ip_abroad": True}, 3: {}}, WEIGHTS)
    top = everyone_abroad[1]["top_contributors"]["leadership"][0]
    assert (top["component"], top["percentile"], top["value"]) == ("ip_abroad", 100.0, True)  # not p50
    assert everyone_abroad[1]["leadership_score"] == pytest.approx(50 + 2 * 50 / 4)  # above the typical 50
    assert everyone_abroad[3]["leadership_score"] is None  # nothing known: not ranked
    mixed = score_cohort({1: {"ip_abroad": True}, 2: {"ip_abroad": False}}, WEIGHTS)
    assert mixed[1]["leadership_score"] > 50 > mixed[2]["leadership_score"]


def test_a_candidate_without_data_has_no_score_and_ranks_last() -> None:
    scores = score_cohort({1: {}, 2: {"followers_total": 10}, 3: {"followers_total": 20}}, WEIGHTS)
    assert scores[1]["composite_score"] is None and scores[1]["composite_index"] is None
    assert scores[1]["composite_coverage"] == 0.0


# --------------------------------------------------------------------------- percentiles against a reference


def test_a_reference_value_gets_its_mid_rank_and_a_new_value_lies_between_its_neighbours() -> None:
    values = [10, 20, 20, 40, 70]
    reference = Distribution.of(values)
    assert [reference.percentile(v) for v in values] == list(percentile_ranks(dict(enumerate(values))).values())
    assert reference.percentile(30) == pytest.approx((50 + 75) / 2)  # between 20 (p37.5/p50 tie -> 50) ... and 40 (p75)
    assert reference.percentile(5) == 0.0 and reference.percentile(1_000) == 100.0
    assert not Distribution.of([3, 3, 3]).informative and Distribution.of([3, 4]).informative


def test_a_large_reference_is_sketched_within_a_small_error() -> None:
    values = [float(i * i % 100_003) for i in range(20_000)]
    exact, sketch = Distribution.of(values), Distribution.of(values, MAX_KNOTS)
    assert len(sketch.knots) <= MAX_KNOTS + 1
    for probe in (0.0, 17.5, 5_000.0, 50_001.0, 99_990.0, 123_456.0):
        assert sketch.percentile(probe) == pytest.approx(exact.percentile(probe), abs=0.05)


def test_earliness_against_a_frozen_reference_ignores_candidates_who_joined_later() -> None:
    first_seen = {1: {"Aesop": "2026-03-01T00:00:00+00:00"}, 2: {"Aesop": "2026-03-11T00:00:00+00:00"}}
    reference = cohort_reference([{}, {}], WEIGHTS, brands=first_seen)
    newcomer = {3: {"Aesop": "2026-01-01T00:00:00+00:00"}}
    assert earliness({**first_seen, **newcomer})[1]["earliness_first_share"] == 0.0  # the live cohort moves
    frozen = earliness({**first_seen, **newcomer}, reference)
    assert frozen[1] == earliness(first_seen)[1] == {"earliness_brands_compared": 1, "earliness_first_share": 1.0,
                                                     "earliness_lead_days": 10.0}
    assert frozen[3]["earliness_first_share"] == 1.0 and frozen[3]["earliness_lead_days"] == pytest.approx(64.0)


# --------------------------------------------------------------------------- engagement rate


def test_the_engagement_rate_is_the_median_over_a_platforms_latest_12_posts() -> None:
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    posts = [PostRow(1, "weibo", now - timedelta(days=i), likes=100 * i, comments=10) for i in range(1, 21)]
    posts += [PostRow(2, "youtube", now - timedelta(days=1), likes=300), PostRow(2, "youtube", now - timedelta(days=2))]
    features = engagement_features(posts, {1: 1_000, 2: 10_000}, now)
    # Weibo: the 12 newest posts (1..12 days old): (100i + 10) / 1000, median of i = 6.5 -> 0.66.
    assert features["engagement_rate_by_platform"] == {"weibo": pytest.approx(0.66), "youtube": pytest.approx(0.03)}
    assert features["engagement_rate"] == pytest.approx(0.03)  # the platform with the most followers: YouTube
    assert engagement_features([], {}, now)["engagement_rate"] is None


# --------------------------------------------------------------------------- frozen references (database)


def _scores(database_url: str) -> dict[int, tuple[float | None, str | None, datetime | None]]:
    with session_scope(database_url) as session:
        return {row["candidate_id"]: (row["composite_score"], row["reference"], row["ranked_at"])
                for row in feature_table(session)}


def test_a_frozen_reference_keeps_an_old_candidates_score_still_when_others_join(database_url: str) -> None:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        assert enrich(session).reference == "cohort"
    live = _scores(database_url)
    with session_scope(database_url) as session:
        frozen = freeze_reference(session, "panel")
        assert frozen.label == "panel@v1" and frozen.size == 3
    before = _scores(database_url)
    # Freezing the cohort as it is changes nobody's score; every row now names the reference.
    assert {cid: s for cid, (s, _, _) in before.items()} == {cid: s for cid, (s, _, _) in live.items()}
    assert {reference for _, reference, _ in before.values()} == {"panel@v1"}

    # A newcomer with more followers than anyone joins: against the cohort, the others' percentiles would move.
    with session_scope(database_url) as session:
        star = Candidate(display_name="Star")
        session.add(star)
        session.flush()
        account = Account(candidate_id=star.id, platform="douyin", handle="star")
        session.add(account)
        session.flush()
        for days_ago in (31, 1):
            session.add(_snapshot(account, days_ago, 90_000_000 - days_ago))
        star_id = star.id
    with session_scope(database_url) as session:
        result = enrich(session)
        assert result.reference == "panel@v1" and result.computed == 1 and result.ranked == 1  # only the new row
    after = _scores(database_url)
    assert {cid: after[cid] for cid in before} == before  # same scores, same rows, not even re-ranked
    assert after[star_id][1] == "panel@v1" and after[star_id][0] is not None

    # The live cohort on request: now the old candidates' percentiles do move.
    with session_scope(database_url) as session:
        assert enrich(session, reference="cohort").reference == "cohort"
    cohort = _scores(database_url)
    assert cohort[ids["global"]][0] != before[ids["global"]][0] and cohort[ids["global"]][1] == "cohort"
    # A second freeze is version 2; the default is then the newest.
    with session_scope(database_url) as session:
        assert freeze_reference(session, "panel").label == "panel@v2"
        assert resolve_reference(session).label == "panel@v2"  # type: ignore[union-attr]
        assert resolve_reference(session, "panel@v1").label == "panel@v1"  # type: ignore[union-attr]
        with pytest.raises(ValueError, match="no reference 'other'"):
            resolve_reference(session, "other")


def test_explain_gives_every_component_and_the_reference_used(database_url: str) -> None:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session)
        data = explain_candidate(session, ids["global"])
        assert explain_candidate(session, ids["empty"]) is not None  # a row without data still explains itself
    assert data is not None
    assert data["reference"]["label"] == "cohort" and data["tier"] == "mid"
    assert data["platform_tiers"] == {"weibo": "micro", "youtube": "mid"}
    names = {index["index"]: [c["component"] for c in index["components"]] for index in data["indices"]}
    assert names["leadership"][0] == "ip_abroad" and "engagement_rate" in names["sales_driving"]
    for index in data["indices"]:  # the recomputed numbers are the stored ones
        assert index["score"] == pytest.approx(index["stored"]["score"]) if index["score"] is not None else True
        assert index["coverage"] == pytest.approx(index["stored"]["coverage"])
    ip = data["indices"][0]["components"][0]
    assert (ip["value"], ip["percentile"], ip["groups"]) == (True, 100.0, ["yes/no"])
    assert set(data["authenticity"]) >= {"growth_authenticity", "growth_flags", "suspicious", "evidence"}


def test_feature_rows_store_no_nulls(database_url: str) -> None:
    populate(database_url)
    with session_scope(database_url) as session:
        enrich(session)
        rows = session.exec(select(FeatureSnapshot)).all()
        assert all(None not in row.features.values() for row in rows)
        assert NOW  # the export still has every column
        exported = feature_table(session)
        assert all(set(FEATURE_NAMES) <= set(row) for row in exported)


# --------------------------------------------------------------------------- incremental detection


def _new_snapshot_of_gao(database_url: str, followers: int) -> int:
    """A new profile snapshot of Global Gao's Weibo account, committed; returns its id."""
    with session_scope(database_url) as session:
        gao = session.exec(select(Account).where(Account.handle == "gao")).one()
        added = _snapshot(gao, 0.1, followers)
        session.add(added)
        session.flush()
        return added.id  # type: ignore[return-value]


def test_a_plain_enrich_raises_the_watermarks_of_unchanged_candidates_so_the_next_scan_starts_later(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import enrichment.stage
    from storage.features import input_id_bounds, latest_watermarks

    monkeypatch.setattr(enrichment.stage, "ADVANCE_PER_ROW", 0)  # whatever the gap (the test below keeps it)
    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session)
        local = session.exec(select(Account).where(Account.handle == "li")).one()
        session.add(_snapshot(local, 0.5, 81_000))
    with session_scope(database_url) as session:
        bound = input_id_bounds(session)
        assert enrich(session).computed == 1  # Local Li only
        marks = latest_watermarks(session)
    # Global Gao had nothing new up to the bound: its watermark moved up to it, not back.
    assert marks[ids["global"]].seen.snapshot == bound.snapshot
    added_id = _new_snapshot_of_gao(database_url, 60_000)
    with session_scope(database_url) as session:
        result = enrich(session)
        assert result.computed == 1 and result.skipped == 2  # a row above the moved watermark is still seen
        assert latest_watermarks(session)[ids["global"]].seen.snapshot == added_id
    with session_scope(database_url) as session:
        assert enrich(session).computed == 0


def test_unchanged_rows_are_not_rewritten_for_a_gap_cheaper_to_scan_again(database_url: str) -> None:
    """A few new input rows do not make a run rewrite every unchanged candidate's row; the
    next run scans them again and still finds what changed."""
    from storage.features import latest_watermarks

    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session)
        before = latest_watermarks(session)
        local = session.exec(select(Account).where(Account.handle == "li")).one()
        session.add(_snapshot(local, 0.5, 81_000))
    with session_scope(database_url) as session:
        assert enrich(session).computed == 1
        after = latest_watermarks(session)
    assert after[ids["global"]] == before[ids["global"]]  # not rewritten: same row, same marks
    _new_snapshot_of_gao(database_url, 60_000)
    with session_scope(database_url) as session:
        assert enrich(session).computed == 1  # found by the scan from the unraised watermark
        assert enrich(session).computed == 0


def test_a_snapshot_another_transaction_is_still_writing_is_not_taken_for_seen_on_postgresql(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL a crawl's transaction can hold a lower snapshot id while another commits a
    higher one. Enrich then raises no watermark to the highest id, so the late row is found by
    the next run (without the check, its candidate was marked seen past it and never recomputed)."""
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite has one writer at a time, so its ids commit in order")
    from sqlalchemy import insert

    import enrichment.stage
    from storage.db import get_engine
    from storage.features import input_id_bounds

    monkeypatch.setattr(enrichment.stage, "ADVANCE_PER_ROW", 0)  # raise unchanged rows whatever the gap
    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session)
        local_id = session.exec(select(Account).where(Account.handle == "li")).one().id
    late = _snapshot(Account(id=local_id), 0.2, 82_000)
    with get_engine(database_url).connect() as writer:
        pending = writer.begin()
        writer.execute(insert(ProfileSnapshot).values(**late.model_dump(exclude={"id"})))  # takes an id, not committed
        _new_snapshot_of_gao(database_url, 61_000)  # a higher id, committed first
        with session_scope(database_url) as session:
            assert input_id_bounds(session) is None
            result = enrich(session)
            assert (result.computed, result.skipped) == (1, 2)  # Global Gao; Local Li's row is not visible yet
        pending.commit()
    with session_scope(database_url) as session:
        assert input_id_bounds(session) is not None
        assert enrich(session).computed == 1  # Local Li, for the row committed late
        assert enrich(session).computed == 0
    assert ids


@pytest.mark.parametrize("after", [0, 40, 80, 10**9])
def test_new_input_rows_are_found_the_same_whether_read_by_range_or_by_account(
        database_url: str, monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    """newest_input_ids reads few new snapshots by primary-key range on SQLite and many by a
    seek per account: both give each candidate's newest id above the watermark."""
    import storage.feature_inputs
    from storage.feature_inputs import Watermark, newest_input_ids

    populate(database_url)
    answers = []
    for few in (True, False):
        monkeypatch.setattr(storage.feature_inputs, "_few_rows_after", lambda *_args, few=few: few)
        with session_scope(database_url) as session:
            answers.append(newest_input_ids(session, Watermark(after, 10**9, 10**9)))
            top = session.exec(select(ProfileSnapshot.id).order_by(ProfileSnapshot.id.desc())).first()
    assert answers[0] == answers[1]
    assert bool(answers[0]) == (after < top)
    assert all(mark.snapshot > after for mark in answers[0].values())


def test_rows_a_plain_enrich_computes_are_checked_through_the_ids_stored_before_it_read(database_url: str) -> None:
    """Every row of a full run is checked up to the highest ids stored when it began, so the
    next run scans only rows added since; a row added after that is still seen."""
    from storage.features import input_id_bounds, latest_watermarks

    ids = populate(database_url)
    with session_scope(database_url) as session:
        bound = input_id_bounds(session)
        assert enrich(session, force=True).computed == 3
        marks = latest_watermarks(session)
    # Every candidate's rows are older than the newest snapshot stored, the empty one has none.
    assert {cid: marks[cid].seen.snapshot for cid in ids.values()} == dict.fromkeys(ids.values(), bound.snapshot)
    assert {cid: marks[cid].seen.post_snapshot for cid in ids.values()} == dict.fromkeys(ids.values(), bound.post_snapshot)
    added_id = _new_snapshot_of_gao(database_url, 61_000)
    with session_scope(database_url) as session:
        result = enrich(session)
        assert (result.computed, result.skipped) == (1, 2)
        assert latest_watermarks(session)[ids["global"]].seen.snapshot == added_id
    # A backdated run's rows keep what they saw: they vouch for nothing after the time they describe.
    with session_scope(database_url) as session:
        enrich(session, as_of=NOW - timedelta(days=1), force=True)
        backdated = latest_watermarks(session, as_of=NOW - timedelta(days=1))
        current = latest_watermarks(session)
    assert backdated[ids["empty"]].seen.snapshot is None
    # (the database compares the times: a row for a past time says so, a current row does not)
    assert all(marks.backdated for marks in backdated.values()) and len(backdated) == 3
    assert not any(marks.backdated for marks in current.values())


def test_the_api_document_has_every_export_column_and_the_explanation(database_url: str) -> None:
    import json

    from enrichment.schema import EXPORT_COLUMNS
    from enrichment.stage import candidate_feature_document

    ids = populate(database_url)
    with session_scope(database_url) as session:
        assert candidate_feature_document(session, ids["global"]) is None  # never enriched
        enrich(session)
        document = candidate_feature_document(session, ids["global"])
    assert document is not None
    expected = {spec.name for spec in EXPORT_COLUMNS} - {"display_name", "active"}
    assert expected <= set(document["features"])
    assert document["features"]["press_365d"] is None and document["features"]["tier"] == "mid"
    assert document["explain"]["reference"]["label"] == "cohort"
    json.dumps(document, allow_nan=False)  # plain, strict JSON


def test_rows_ranked_with_other_weights_are_not_taken_for_ranked_against_the_reference(database_url: str, tmp_path: Path) -> None:
    from enrichment.indices import WEIGHTS_FILE

    populate(database_url)
    other = tmp_path / "other.toml"
    other.write_text(WEIGHTS_FILE.read_text().replace("ip_abroad = 2.0", "ip_abroad = 9.0"))
    weights = load_weights(other, known_features=FEATURE_NAMES)
    with session_scope(database_url) as session:
        enrich(session)
        freeze_reference(session, "panel")
        assert enrich(session).ranked == 0  # everything is ranked against panel@v1 already
        result = enrich(session, weights=weights)
        assert result.reference == f"panel@v1+w{weights.fingerprint[:8]}" and result.ranked == 3
        assert {row["reference"] for row in feature_table(session)} == {result.reference}
        assert enrich(session).ranked == 3  # back to the weights it was frozen with: ranked again
        assert {row["reference"] for row in feature_table(session)} == {"panel@v1"}


def test_candidates_with_nothing_read_yet_get_the_features_of_their_platforms(database_url: str) -> None:
    with session_scope(database_url) as session:
        for name, platforms in (("A", ("weibo",)), ("B", ("weibo", "x")), ("C", ("weibo",))):
            candidate = Candidate(display_name=name)
            session.add(candidate)
            session.flush()
            session.add_all([Account(candidate_id=candidate.id, platform=p, handle=f"{name}{p}") for p in platforms])
    with session_scope(database_url) as session:
        enrich(session)
        rows = {row["display_name"]: row for row in feature_table(session)}
    assert rows["A"]["missing_platforms"] == rows["C"]["missing_platforms"] == ["weibo"]
    assert rows["B"]["missing_platforms"] == ["weibo", "x"] and rows["B"]["platforms_registered"] == 2
    assert rows["A"]["composite_score"] is None and rows["A"]["reference"] == "cohort"
