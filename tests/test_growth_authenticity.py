"""Suspicious-growth detection on small hand-made follower series: each flag with the numbers
that tripped it, the benign viral spike that must never be flagged, insufficient history,
rounded counts, and a candidate's worst account."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from enrichment.features import CandidateInput, PostRow, SnapshotRow, compute_features
from enrichment.features.authenticity import (
    INSUFFICIENT,
    assess_account,
    assess_daily,
    assess_many,
    authenticity_features,
    daily_counts,
    daily_followers,
)
from enrichment.features.rows import FollowerCount

AS_OF = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def day(n: int) -> datetime:
    """Noon n days before AS_OF."""
    return AS_OF - timedelta(days=n)


def series(start: int, gains: list[int], account_id: int = 1, rounded: bool = False) -> list[FollowerCount]:
    """One count a day, the last one today: start, start + gains[0], ..."""
    values = [start]
    for gain in gains:
        values.append(values[-1] + gain)
    n = len(values)
    return [FollowerCount(account_id, day(n - 1 - i), v, rounded) for i, v in enumerate(values)]


def organic(days: int, mean: float, sd: float, seed: int = 7) -> list[int]:
    """Noisy daily gains (never exactly regular)."""
    rng = random.Random(seed)
    return [max(0, round(rng.gauss(mean, sd))) for _ in range(days)]


def posts(account_id: int, engagement: dict[int, int] | None = None, every: int = 3, days: int = 120,
          usual: int = 400, seed: int = 3) -> list[PostRow]:
    """A post every ``every`` days with about ``usual`` engagement; ``engagement`` adds (or
    replaces) the post published ``n`` days ago."""
    rng = random.Random(seed)
    values = {n: round(usual * rng.uniform(0.7, 1.3)) for n in range(days, 0, -every)}
    values.update(engagement or {})
    return [PostRow(account_id, "weibo", day(n), text="日常", likes=value, comments=0, shares=0)
            for n, value in sorted(values.items(), reverse=True)]


def flags(counts: list[FollowerCount], account_posts: list[PostRow] | None = None) -> list[str]:
    return assess_account(1, "weibo", counts, account_posts or [], AS_OF).flags


def finding(counts: list[FollowerCount], flag: str, account_posts: list[PostRow] | None = None) -> dict:
    verdict = assess_account(1, "weibo", counts, account_posts or [], AS_OF)
    found = [f for f in verdict.findings if f.flag == flag]
    assert found, f"no {flag} in {verdict.flags}"
    return found[0].evidence(1, "weibo")


# --------------------------------------------------------------------------- clean and insufficient


def test_noisy_organic_growth_is_clean_and_scores_100() -> None:
    verdict = assess_account(1, "weibo", series(50_000, organic(120, 100, 30)), posts(1), AS_OF)
    assert verdict.flags == [] and verdict.authenticity == 100.0


def test_fewer_than_seven_days_is_insufficient_history_never_a_verdict() -> None:
    verdict = assess_account(1, "weibo", series(50_000, [100, 5_000, 100, 100, 100]), [], AS_OF)
    assert verdict.days == 6 and verdict.authenticity is None and verdict.flags == [INSUFFICIENT]
    # Seven days but only six exact: rounded counts are not counted.
    counts = series(50_000, [100] * 6)
    counts[3] = counts[3]._replace(rounded=True)
    assert flags(counts) == [INSUFFICIENT]


def test_rounded_display_counts_give_no_verdict() -> None:
    """'5.2万' steps by the rounding, not the audience: only exact counts are read."""
    assert flags(series(52_000, [0, 0, 10_000, 0, 0, 0, 0, 0, 0, 0], rounded=True)) == [INSUFFICIENT]


def test_a_candidate_with_no_history_anywhere_is_null_and_insufficient() -> None:
    features = authenticity_features([], {1: "weibo", 2: "douyin"}, [], AS_OF)
    assert features["growth_authenticity"] is None
    assert features["growth_flags"] == [INSUFFICIENT]
    assert features["growth_evidence"] == [] and features["growth_accounts_checked"] == 0


# --------------------------------------------------------------------------- each flag


def test_a_one_day_spike_is_flagged_with_its_date_size_and_z_scores() -> None:
    gains = organic(120, 100, 30)
    gains[80] += 3_700  # not a round number
    evidence = finding(series(50_000, gains), "spike")
    assert evidence["dates"] == [(day(120 - 81)).date().isoformat()]
    assert evidence["sizes"] == [gains[80]]
    numbers = evidence["numbers"]
    assert min(numbers["z_own"][0], numbers["z_tier"][0]) >= 10
    assert numbers["tier"] == "micro" and numbers["threshold_z"] == 10.0
    assert flags(series(50_000, gains)) == ["spike"]


def test_a_multi_day_step_is_flagged_as_a_step_jump() -> None:
    gains = organic(120, 100, 30)
    for i in range(60, 64):
        gains[i] += 2_300
    evidence = finding(series(50_000, gains), "step_jump")
    assert len(evidence["dates"]) == 4
    assert evidence["numbers"]["share_of_growth"] > 0.4  # 9,200 of ~21,000 gained in the window


def test_a_round_number_jump_is_flagged_even_when_not_extreme() -> None:
    """On a quiet 800k account a +2,000 day is elevated (z >= 4) but no spike (tier z < 10);
    being exactly a package size is what flags it."""
    quiet = organic(90, 300, 25)
    jump = list(quiet)
    jump[50] += 2_000
    verdict = assess_account(1, "weibo", series(800_000, jump), [], AS_OF)
    assert verdict.flags == ["round_jump"]
    numbers = verdict.findings[0].numbers
    assert numbers["round_number"] == 2_000 and 4 <= min(numbers["z_tier"]) < 10
    not_round = list(quiet)
    not_round[50] += 2_170
    assert flags(series(800_000, not_round)) == []


def test_a_spike_of_a_package_size_is_flagged_spike_and_round_jump() -> None:
    gains = organic(120, 100, 30)
    gains[80] += 5_000
    assert flags(series(50_000, gains)) == ["spike", "round_jump"]


def test_drip_fed_regular_increments_are_flagged() -> None:
    """+300 a day, give or take 3: far less varied than independent follows and unfollows (variance >= mean)."""
    rng = random.Random(1)
    gains = [300 + rng.randint(-3, 3) for _ in range(60)]
    evidence = finding(series(200_000, gains), "regular_increments")
    assert evidence["numbers"]["variance_to_mean"] <= 0.2 and evidence["numbers"]["days"] == 60
    # The same mean with the spread of real arrivals is not.
    assert flags(series(200_000, organic(60, 300, 25))) == []


def test_followers_tripling_while_engagement_per_post_stays_flat_is_flagged() -> None:
    rng = random.Random(5)
    gains = [round(rng.gauss(340, 60)) for _ in range(120)]  # 20k -> ~60k: the halves' medians 30k and 50k
    sagging = posts(1, {n: 380 + n // 2 for n in range(120, 0, -3)})  # 440 likes four months ago, 381 now
    evidence = finding(series(20_000, gains), "growth_without_engagement", sagging)
    assert evidence["numbers"]["follower_rise"] >= 0.5 and evidence["numbers"]["engagement_ratio"] <= 1.0
    # Engagement that grows with the audience is not flagged.
    growing = posts(1, {n: 400 + (120 - n) * 8 for n in range(120, 0, -3)})
    assert "growth_without_engagement" not in flags(series(20_000, gains), growing)


def test_a_sudden_drop_of_six_percent_is_flagged_and_a_one_percent_purge_is_not() -> None:
    gains = organic(90, 100, 30)
    gains[40] = -6_000
    evidence = finding(series(100_000, gains), "sudden_drop")
    assert evidence["sizes"] == [-6_000] and evidence["numbers"]["loss_share"] >= 0.03
    gains[40] = -1_000
    assert flags(series(100_000, gains)) == []


# --------------------------------------------------------------------------- the benign viral spike


def viral(gains: list[int], at: int) -> list[int]:
    """Followers and engagement rise together, then growth slows: +3000, +1500, +700, +300."""
    out = list(gains)
    for k, extra in enumerate((3_000, 1_500, 700, 300)):
        out[at + k] += extra
    return out


def test_a_benign_viral_spike_with_an_engaging_post_is_never_flagged() -> None:
    gains = viral(organic(120, 100, 30), 70)  # rise on the day 120 - 71 = 49 days ago
    account_posts = posts(1, {49: 12_000})  # the viral post, 30x the usual engagement, published that day
    verdict = assess_account(1, "weibo", series(50_000, gains), account_posts, AS_OF)
    assert verdict.flags == [] and verdict.authenticity == 100.0


def test_the_same_rise_without_an_engaging_post_is_flagged() -> None:
    gains = viral(organic(120, 100, 30), 70)
    assert "step_jump" in flags(series(50_000, gains), posts(1))


def test_a_rise_that_stops_dead_is_flagged_even_next_to_an_engaging_post() -> None:
    gains = organic(120, 100, 30)
    gains[70] += 4_300
    assert flags(series(50_000, gains), posts(1, {49: 12_000})) == ["spike"]


def test_without_any_post_counts_a_rise_that_slows_is_given_the_benefit_of_the_doubt() -> None:
    assert flags(series(50_000, viral(organic(120, 100, 30), 70))) == []


# --------------------------------------------------------------------------- the candidate


def test_the_candidate_gets_its_worst_account_and_every_flagged_account_s_evidence() -> None:
    clean = series(50_000, organic(120, 100, 30), account_id=1)
    gains = organic(120, 100, 30, seed=9)
    gains[80] += 3_700
    spiked = series(30_000, gains, account_id=2)
    features = authenticity_features(clean + spiked, {1: "weibo", 2: "douyin", 3: "x"}, [], AS_OF)
    assert features["growth_flags"] == ["spike"]
    assert 0 < features["growth_authenticity"] < 100
    assert [(e["account"], e["platform"], e["flag"]) for e in features["growth_evidence"]] == [(2, "douyin", "spike")]
    assert features["growth_accounts_checked"] == 2  # the x account has no history


def test_judging_many_accounts_together_gives_each_the_verdict_it_gets_alone() -> None:
    # assess_many computes the baselines of many accounts as rows of one array: the accounts
    # with a count every day together, and those with missing days together with the others
    # that have as many dated changes. Every verdict must be the one the account gets alone.
    def missing(counts: list[FollowerCount], *every: int) -> list[FollowerCount]:
        return [count for i, count in enumerate(counts) if not any(i % n == n - 1 for n in every)]

    step = [*organic(60, 100, 15), 25_000, 24_000, 26_000, *organic(60, 100, 15, seed=9)]
    rng = random.Random(1)
    drip_then_spike = [*organic(40, 100, 15), *(300 + rng.randint(-3, 3) for _ in range(40)), 60_000,
                       *organic(39, 100, 15, seed=4)]
    accounts = {
        1: series(10_000, organic(120, 100, 15)),                                  # every day, clean
        2: series(10_000, [*organic(60, 100, 15), 50_000, *organic(59, 100, 15)]),  # every day, spike
        3: missing(series(10_000, organic(120, 100, 15)), 5),                      # days missing, clean
        4: missing(series(10_000, [*organic(60, 100, 15), 50_000, *organic(59, 100, 15)]), 7),
        5: missing(series(10_000, step), 7),                                       # as many dated changes as 4
        6: missing(series(500_000, [*organic(80, 900, 80), -40_000, *organic(40, 900, 80)]), 4),  # a drop
        7: series(10_000, organic(4, 100, 15)),                                    # too short: no verdict
        8: missing(series(10_000, organic(30, 100, 15)), 2, 3),                    # too few dated changes
        9: series(200_000, drip_then_spike),  # every day: a spike, and a stretch the batch's windows find regular
    }
    given = [(account_id, "weibo", daily_followers(daily_counts(counts, AS_OF)), [])
             for account_id, counts in accounts.items()]
    together = assess_many(given, AS_OF)
    alone = {account_id: assess_daily(account_id, platform, daily, account_posts, AS_OF)
             for account_id, platform, daily, account_posts in given}
    assert together == alone
    assert together[2].flags and together[4].flags and together[5].flags and together[6].flags
    assert together[7].authenticity is None and together[8].authenticity is None
    assert {"spike", "regular_increments"} <= set(together[9].flags)


def test_compute_features_reads_snapshots_when_no_history_was_loaded() -> None:
    gains = organic(30, 100, 30)
    gains[20] += 3_700
    snapshots = [SnapshotRow(1, "weibo", c.captured_at, c.followers) for c in series(50_000, gains)]
    features = compute_features(CandidateInput(1, snapshots=snapshots, accounts={1: "weibo"}), AS_OF)
    assert features["growth_flags"] == ["spike"]
    loaded = compute_features(CandidateInput(1, snapshots=snapshots[-1:], accounts={1: "weibo"},
                                             follower_history=series(50_000, organic(30, 100, 30))), AS_OF)
    assert loaded["growth_flags"] == [] and loaded["growth_authenticity"] == 100.0


@pytest.mark.parametrize("seed", range(20))
def test_organic_accounts_of_every_tier_stay_clean(seed: int) -> None:
    rng = random.Random(seed)
    start = rng.choice([3_000, 40_000, 250_000, 700_000, 3_000_000])
    mean = start * rng.uniform(0.0003, 0.002)
    gains = organic(150, mean, mean * rng.uniform(0.3, 0.8) + 3, seed=seed)
    assert flags(series(start, gains), posts(1, seed=seed)) == []


# --------------------------------------------------------------------------- from storage


def _stored_accounts(session: Any, name: str, platforms: Sequence[str] = ("weibo",)) -> list[Any]:
    """A candidate called ``name`` with an account on each platform, stored (ids set)."""
    from storage.models import Account, Candidate

    candidate = Candidate(display_name=name)
    session.add(candidate)
    session.flush()
    accounts = [Account(candidate_id=candidate.id, platform=p, handle=f"{name.lower().replace(' ', '-')}-{p}") for p in platforms]
    session.add_all(accounts)
    session.flush()
    return accounts


def _snapshot(account: Any, when: datetime, followers: int | None, key: str, approximate: list[str] | None = None,
              lower: list[str] | None = None) -> Any:
    """A profile snapshot of ``account`` (``key``: its payload hash, unique per account and time)."""
    from storage.models import ProfileSnapshot

    return ProfileSnapshot(account_id=account.id, captured_at=when, followers=followers,
                           approximate=approximate if approximate is not None else [],
                           lower_bound=lower if lower is not None else [], source_url="https://example.test",
                           parser="test", parser_version="1", payload_sha256=key)


def test_follower_counts_reads_every_count_of_the_window_with_its_rounding(database_url: str) -> None:
    """The stage's input: counts in (start, end], oldest first, counts not read left out,
    rounded ones marked; the detector takes them as they come."""
    from storage.db import session_scope
    from storage.feature_inputs import follower_counts

    gains = organic(30, 100, 30)
    gains[20] += 3_700
    counts = series(50_000, gains)
    with session_scope(database_url) as session:
        [account] = _stored_accounts(session, "Spiky")
        for i, count in enumerate(counts):
            session.add(_snapshot(account, count.captured_at, count.followers, f"{i}", ["followers"] if i == 5 else None))
        session.add(_snapshot(account, day(3) + timedelta(hours=1), None, "none"))
        session.flush()
        rows = follower_counts(session, [account.id], AS_OF - timedelta(days=180), AS_OF)
        recent = follower_counts(session, [account.id], day(2), AS_OF)
        account_id = account.id
    assert [r.followers for r in rows] == [c.followers for c in counts]
    assert [r.rounded for r in rows] == [i == 5 for i in range(len(counts))]
    assert [r.followers for r in recent] == [c.followers for c in counts[-2:]]  # after day(2), up to as_of
    features = authenticity_features(rows, {account_id: "weibo"}, [], AS_OF)
    assert features["growth_flags"] == ["spike"] and features["growth_accounts_checked"] == 1


def test_follower_count_columns_make_the_daily_series_the_counts_make(database_url: str) -> None:
    """What the stage reads (columns with the UTC day, reduced to daily series at once) gives the
    series and the verdicts :func:`daily_counts` makes of the same rows: rounded counts (either
    flag list) left out, a count whose flags are about something else kept, each day's last
    count, (start, end] bounds, counts not read left out."""
    import numpy as np

    from enrichment.features.authenticity import daily_counts, daily_series
    from storage.db import session_scope
    from storage.feature_inputs import follower_count_columns, follower_counts

    gains = organic(40, 100, 30)
    gains[25] += 3_700
    start = AS_OF - timedelta(days=30)
    with session_scope(database_url) as session:
        accounts = _stored_accounts(session, "Two accounts", ("weibo", "douyin"))
        n = 0

        def add(account: Any, when: datetime, followers: int | None, approximate: list[str] | None = None,
                lower: list[str] | None = None) -> None:
            nonlocal n
            n += 1
            session.add(_snapshot(account, when, followers, str(n), approximate, lower))

        for account, counts in zip(accounts, (series(50_000, gains), series(8_000, organic(40, 20, 5, seed=4)))):
            for i, count in enumerate(counts):
                add(account, count.captured_at, count.followers,
                    ["followers"] if i == 5 else ["likes"] if i == 6 else None, ["followers"] if i == 7 else None)
        first, second = accounts
        add(first, day(3) + timedelta(hours=1), 51_000)  # the day's later count wins ...
        add(first, day(3) + timedelta(hours=2), 52_000, ["followers"])  # ... unless rounded
        add(first, day(4).replace(hour=23, minute=59), 49_000)  # the last minute of a UTC day
        add(first, day(4).replace(hour=0, minute=1), 48_000)  # the first (written after: order is by time)
        add(first, day(2) + timedelta(hours=3), None)  # no count
        add(second, start, 1)  # at the start: outside
        add(second, start + timedelta(microseconds=1), 2)  # just after: inside
        add(second, AS_OF, 3)  # at the end: inside
        session.flush()
        ids = [a.id for a in accounts]
        columns = follower_count_columns(session, ids, start, AS_OF)
        rows = follower_counts(session, ids, start, AS_OF)
        daily = daily_series(columns.account_id, columns.day, columns.followers, columns.rounded)
        platforms = {a.id: a.platform for a in accounts}
    assert len(columns.account_id) == len(rows)
    assert [r.rounded for r in rows] == columns.rounded.tolist()
    for account_id in ids:
        expected = daily_counts([r for r in rows if r.account_id == account_id], AS_OF, days=30)
        assert daily[account_id].days.tolist() == [d.toordinal() for d, _ in expected]
        assert daily[account_id].followers.tolist() == [f for _, f in expected]
    assert 51_000 in daily[ids[0]].followers.tolist() and 52_000 not in daily[ids[0]].followers.tolist()
    assert daily[ids[1]].followers.tolist()[0] == 2 and daily[ids[1]].followers.tolist()[-1] == 3
    assert np.all(np.diff(daily[ids[0]].days) > 0)
    # The detector's window is its own 180 days: the same rows read over it give the same verdicts.
    wide = AS_OF - timedelta(days=180)
    with session_scope(database_url) as session:
        columns = follower_count_columns(session, ids, wide, AS_OF)
        rows = follower_counts(session, ids, wide, AS_OF)
    daily = daily_series(columns.account_id, columns.day, columns.followers, columns.rounded)
    assert authenticity_features((), platforms, [], AS_OF, daily=daily) == authenticity_features(rows, platforms, [], AS_OF)
    assert "spike" in authenticity_features((), platforms, [], AS_OF, daily=daily)["growth_flags"]


def test_follower_count_columns_days_without_unixepoch(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before SQLite 3.38 (no unixepoch()) the day comes from julianday(): the same days,
    around midnight too."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only: the capture time is computed by SQLite's unixepoch()/julianday(); on PostgreSQL it comes from the driver's UTC datetimes, checked by the test above on both databases")
    from storage import feature_inputs
    from storage.db import session_scope

    times = [datetime(2026, 10, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc),
             datetime(2000, 2, 29, 12, tzinfo=timezone.utc), datetime(2026, 11, 1, 11, 59, tzinfo=timezone.utc)]
    with session_scope(database_url) as session:
        [account] = _stored_accounts(session, "Midnight")
        for i, when in enumerate(times):
            session.add(_snapshot(account, when, i, str(i)))
        session.flush()
        window = (datetime(1999, 1, 1, tzinfo=timezone.utc), AS_OF)
        new = feature_inputs.follower_count_columns(session, [account.id], *window)
        monkeypatch.setattr(feature_inputs.sqlite3, "sqlite_version_info", (3, 37, 2))
        old = feature_inputs.follower_count_columns(session, [account.id], *window)
    expected = sorted((when, i) for i, when in enumerate(times))
    assert new.day.tolist() == old.day.tolist() == [when.date().toordinal() for when, _ in expected]
    assert new.followers.tolist() == [i for _, i in expected]
