"""Suspicious follower growth, read from our own daily snapshots (no follower lists needed).

Per account, over the :data:`DETECTION_DAYS` before ``as_of``, from its **exact** follower
counts (one per UTC day, the day's last; rounded display counts such as "1.2万" are left out:
their steps are the rounding's, not the audience's):

* **spike** / **step_jump** — a rise that is extreme against both the account's own history
  (the days around it) and its tier: robust z-scores of the daily change (:class:`_Baseline`).
  Consecutive elevated days form one *episode*; a one-day episode is a spike, a longer one a
  step. A step is flagged when its days together are as extreme as a spike, or when it
  carries an outsized share of the account's growth.
* **round_jump** — an elevated day or episode whose size above the account's usual day is a
  round number (1k, 2k, 5k, 10k, 20k, 50k, ...), the size follower packages are sold in.
* **regular_increments** — two weeks or more of increments that vary less than independent
  follows and unfollows can (drip-fed growth): the variance of a net count of independent
  arrivals is at least its mean, so a stretch whose variance is under a fifth of its mean,
  or whose gain above the account's usual day comes with under a fifth of that gain in
  added variance, is delivered, not earned.
* **growth_without_engagement** — followers up by half or more between the two halves of
  the window while the median engagement of the account's posts stayed flat or fell.
* **sudden_drop** — a fall that is extreme against the account's own history and its tier
  and removes at least 3 % of the followers (a platform purge of fake followers).

A rise that comes with a post far more engaging than the account's usual ones and then
slows (a viral post) is a **benign viral spike** and is never flagged.

Fewer than :data:`MIN_DAYS` days with an exact count give ``insufficient_history``, never a
verdict. Each account gets a 0–100 ``authenticity``: 100 minus a deduction per finding;
the candidate gets its worst account. docs/features.md ("Suspicious growth") says how
every number is computed and why each threshold is where it is.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property
from typing import Any, NamedTuple, overload

import numpy as np

from enrichment.features.rows import (
    DailyFollowers,
    FollowerCount,
    PostRow,
    SnapshotRow,
    posts_by_account,
    utc,
)
from enrichment.tiers import follower_tier

#: How far back the detector reads follower counts and posts.
DETECTION_DAYS = 180
#: Fewer days with an exact follower count than this: ``insufficient_history``.
MIN_DAYS = 7
#: The usual change of a day is the median of the changes this many days either side of it.
LOCAL_DAYS = 15
#: A change over a longer gap between two counts is not attributed to any day (a jump hidden
#: in a week without snapshots cannot be told from steady growth).
MAX_GAP_DAYS = 3
#: MAD -> standard deviation of a normal distribution; the 90th percentile's distance from
#: the median, in standard deviations.
MAD_SCALE = 1.4826
Z_DECILE = 1.2816

#: Robust z-score (against the account and its tier, both) for a one-day spike or a drop; a
#: multi-day rise is a step when its days' z-scores together reach it (their sum over the
#: square root of their number, as if they were one day's).
Z_SPIKE = 10.0
#: Robust z-score (both) for a day to be *elevated*: part of an episode.
Z_ELEVATED = 4.0
#: A multi-day episode below :data:`Z_SPIKE` together is a step when it carries this share of
#: the account's gross growth in the window.
STEP_MIN_SHARE = 0.25
#: Round sizes: 1, 2 and 5 times a power of ten, from 1,000.
ROUND_MIN = 1_000
#: A size is round when within this share of a round number (and within twice the account's
#: own daily noise); roundness is not judged when that noise is above 5 % of the number.
ROUND_TOLERANCE = 0.005
ROUND_MAX_NOISE = 0.05
#: Counts whose changes are (nearly) all multiples of 100 are coarse (rounded by the
#: platform without saying so): no round-number or regularity verdict on them.
COARSE_SHARE = 0.8
#: A fall removing at least this share of the followers, extreme by :data:`Z_SPIKE`.
DROP_MIN_SHARE = 0.03
#: Drip-fed growth: at least this many consecutive daily increments averaging at least
#: REGULAR_MIN_MEAN a day whose variance is at most REGULAR_MAX_FANO times their mean.
REGULAR_MIN_DAYS = 14
REGULAR_MIN_MEAN = 20.0
REGULAR_MAX_FANO = 0.2
#: A benign viral spike: a post published at most this many days before the rise (up to its
#: peak) with engagement at least VIRAL_FACTOR times the account's median post ...
VIRAL_LOOKBACK_DAYS = 7
VIRAL_FACTOR = 3.0
#: ... and growth that slows: the day after the peak still gains, but less (between these
#: shares of the peak's gain above the usual day, give or take twice the square root of that
#: gain, the count noise of a day's arrivals).
TAIL_MIN, TAIL_MAX = 0.05, 0.9
#: Growth without engagement: each half of the window has at least this many posts with
#: engagement, published at least ENGAGEMENT_SETTLE_DAYS before as_of (younger posts are
#: still gathering likes); followers rose by at least FOLLOWER_RISE between the halves'
#: medians while the median engagement per post stayed flat or fell (ratio at most ENGAGEMENT_FLAT).
ENGAGEMENT_MIN_POSTS = 10
ENGAGEMENT_SETTLE_DAYS = 7
FOLLOWER_RISE = 0.5
ENGAGEMENT_FLAT = 1.0

#: Typical relative daily follower change per tier (median, robust scale = 1.4826 x MAD):
#: the tier half of every z-score. Priors, not measurements (docs/features.md says why these).
TIER_REFERENCE: dict[str, tuple[float, float]] = {
    "nano": (0.001, 0.002),
    "micro": (0.0008, 0.0012),
    "mid": (0.0005, 0.0008),
    "macro": (0.0004, 0.0005),
    "mega": (0.0003, 0.0004),
}

#: Flag names, in the order they are listed.
FLAGS: tuple[str, ...] = ("spike", "step_jump", "round_jump", "regular_increments", "growth_without_engagement",
                          "sudden_drop")
INSUFFICIENT = "insufficient_history"

#: Deductions from 100: a finding costs BASE + SHARE x the share of the account's growth it
#: carries (a drop: 10 x the share of followers it removed, at most 1); a round size adds
#: ROUND_EXTRA to its episode's; growth without engagement costs a flat ENGAGEMENT_COST.
COST_BASE, COST_SHARE, ROUND_EXTRA, ENGAGEMENT_COST = 20.0, 60.0, 10.0, 25.0
#: Evidence kept per candidate, and days listed per finding.
MAX_EVIDENCE, MAX_DAYS_LISTED = 20, 60


class Change(NamedTuple):
    """The follower change between two consecutive days with an exact count (a tuple: an
    account has one per day, and a full enrich reads every account's)."""

    day: date
    gap: int  # days since the previous count (1 = consecutive days)
    delta: int
    before: int  # followers at the previous count

    @property
    def rate(self) -> float:
        return self.delta / self.gap


@dataclass
class Finding:
    """One flag on one account, with the numbers that tripped it."""

    flag: str
    dates: list[str]
    sizes: list[int]
    numbers: dict[str, Any]
    cost: float

    def evidence(self, account_id: int, platform: str) -> dict[str, Any]:
        return {"account": account_id, "platform": platform, "flag": self.flag, "dates": self.dates[:MAX_DAYS_LISTED],
                "sizes": self.sizes[:MAX_DAYS_LISTED], "numbers": self.numbers}


@dataclass
class AccountVerdict:
    """What the detector says about one account: None ``authenticity`` when it cannot say."""

    account_id: int
    platform: str
    days: int
    authenticity: float | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        if self.authenticity is None:
            return [INSUFFICIENT]
        found = {f.flag for f in self.findings}
        return [flag for flag in FLAGS if flag in found]


# --------------------------------------------------------------------------- the daily series


def daily_counts(counts: Iterable[FollowerCount], as_of: datetime, days: int = DETECTION_DAYS) -> list[tuple[date, int]]:
    """The last exact follower count of each UTC day in the ``days`` before ``as_of``, oldest first."""
    start = as_of - timedelta(days=days)
    by_day: dict[date, tuple[datetime, int]] = {}
    for count in counts:
        when = count.captured_at
        if when.tzinfo is not timezone.utc:
            when = utc(when)
        if count.rounded or not start < when <= as_of:
            continue
        day = when.date()
        kept = by_day.get(day)
        if kept is None or when >= kept[0]:
            by_day[day] = (when, count.followers)
    return [(day, by_day[day][1]) for day in sorted(by_day)]


def changes_of(series: Sequence[tuple[date, int]]) -> list[Change]:
    return [Change(day, (day - before_day).days, followers - before, before)
            for (before_day, before), (day, followers) in itertools.pairwise(series)]


def daily_followers(series: Sequence[tuple[date, int]]) -> DailyFollowers:
    """:func:`daily_counts`' series as arrays (day ordinals, counts)."""
    return DailyFollowers(np.array([day.toordinal() for day, _ in series], dtype=np.int64),
                          np.array([followers for _, followers in series], dtype=np.int64))


def daily_series(account_ids: np.ndarray, days: np.ndarray, followers: np.ndarray,
                 rounded: np.ndarray) -> dict[int, DailyFollowers]:
    """Per account, what :func:`daily_counts` makes of its counts, from columns (one entry per
    count: the account, the UTC day as a ``date.toordinal()``, the count, whether it was
    rounded) ordered by account, then capture time, then id, and already limited to the
    detection window: each day's last exact count."""
    exact = ~np.asarray(rounded, dtype=bool)
    account_ids, days, followers = account_ids[exact], days[exact], followers[exact]
    if not len(account_ids):
        return {}
    last = np.ones(len(account_ids), dtype=bool)  # the last count of its account and day
    last[:-1] = (account_ids[1:] != account_ids[:-1]) | (days[1:] != days[:-1])
    account_ids, days, followers = account_ids[last], days[last], followers[last]
    starts = np.flatnonzero(np.concatenate(([True], account_ids[1:] != account_ids[:-1])))
    ends = np.append(starts[1:], len(account_ids))
    return {int(account_ids[a]): DailyFollowers(days[a:b], followers[a:b])
            for a, b in zip(starts.tolist(), ends.tolist())}


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _round_number(size: float, noise: float) -> int | None:
    """The round number (1/2/5 x 10^k, from 1,000) ``size`` is, within tolerance; None if none."""
    if size < ROUND_MIN * (1 - ROUND_TOLERANCE):
        return None
    magnitude = 1_000
    while magnitude * 10 <= size * 1.1:
        magnitude *= 10
    for base in (magnitude // 10, magnitude, magnitude * 10):
        for step in (1, 2, 5):
            number = base * step
            if number < ROUND_MIN or 2 * noise > ROUND_MAX_NOISE * number:
                continue
            if abs(size - number) <= max(ROUND_TOLERANCE * number, 2 * noise):
                return number
    return None


# --------------------------------------------------------------------------- one account


def assess_account(account_id: int, platform: str, counts: Iterable[FollowerCount], posts: Sequence[PostRow],
                   as_of: datetime) -> AccountVerdict:
    """Every flag of one account from its follower counts and its posts, as of ``as_of``."""
    as_of = utc(as_of)
    return assess_daily(account_id, platform, daily_followers(daily_counts(counts, as_of)), posts, as_of)


def assess_daily(account_id: int, platform: str, series: DailyFollowers, posts: Sequence[PostRow],
                 as_of: datetime, *, baseline: tuple[_Baselines, int] | None = None,
                 regular_checked: bool = False) -> AccountVerdict:
    """:func:`assess_account` from the account's daily series (:func:`daily_counts` as arrays:
    :func:`daily_followers`, or :func:`daily_series` for many accounts at once). ``baseline``:
    the account's row of a batch's :class:`_Baselines`, when :func:`assess_many` computed it
    already for the series' dated changes (the same numbers: see :class:`_Baselines`).
    ``regular_checked``: the batch ran the regularity tests on this series (one run of daily
    changes, its row of :func:`_regular_windows`) and no window failed them, so there is no
    regular stretch to look for again (that search was a third of judging an account that
    jumped)."""
    as_of = utc(as_of)
    days, followers = series
    if len(days) < MIN_DAYS:
        return AccountVerdict(account_id, platform, len(days), None)
    gaps = days[1:] - days[:-1]
    deltas = followers[1:] - followers[:-1]
    dated = np.flatnonzero(gaps <= MAX_GAP_DAYS)  # the changes attributed to a day
    if len(dated) < MIN_DAYS - 1:
        return AccountVerdict(account_id, platform, len(days), None)
    median = _row_medians(np.sort(followers)[None, :]).tolist()[0]  # as statistics.median has it (exact for counts)
    timeline = _Timeline(days, followers, gaps, deltas)
    base = _Baseline(timeline, dated, follower_tier(median), baseline)
    gross = int(deltas[deltas > 0].sum())
    nonzero = deltas[deltas != 0]
    coarse = bool(len(nonzero)) and int(np.count_nonzero(nonzero % 100 == 0)) >= COARSE_SHARE * len(nonzero)

    findings: list[Finding] = []
    elevated = dated[np.flatnonzero(np.minimum(base.z_own, base.z_tier) >= Z_ELEVATED)]
    if len(elevated):
        engagement = _PostEngagement(posts, as_of)
        for episode in _runs([timeline.changes[i] for i in elevated.tolist()]):
            findings.extend(_episode_findings(episode, timeline.changes, base, gross, coarse, engagement))
    dropped = dated[np.flatnonzero(np.maximum(base.z_own, base.z_tier) <= -Z_SPIKE)]
    for episode in _runs([timeline.changes[i] for i in dropped.tolist()]):
        loss = -sum(c.delta for c in episode)
        share = loss / episode[0].before if episode[0].before > 0 else 0.0
        if share >= DROP_MIN_SHARE:
            findings.append(Finding(
                "sudden_drop", [c.day.isoformat() for c in episode], [c.delta for c in episode],
                {**base.context(episode), "loss": loss, "loss_share": round(share, 4),
                 "followers_before": episode[0].before, "threshold_z": -Z_SPIKE, "threshold_share": DROP_MIN_SHARE},
                COST_BASE + COST_SHARE * min(1.0, 10 * share)))
    if not coarse and not regular_checked:
        findings.extend(_regular_stretches(timeline, base.usual, base.scale, gross))
    finding = _growth_without_engagement(days, followers, posts, as_of)
    if finding is not None:
        findings.append(finding)
    authenticity = max(0.0, 100.0 - sum(f.cost for f in findings))
    return AccountVerdict(account_id, platform, len(days), round(authenticity, 2), findings)


#: Accounts judged together at most (a batch's sliding windows take ~40 KB an account).
BATCH = 512


def assess_many(accounts: Sequence[tuple[int, str, DailyFollowers, Sequence[PostRow]]],
                as_of: datetime) -> dict[int, AccountVerdict]:
    """:func:`assess_daily` of many accounts (account id, platform, daily series, posts), the
    verdict of each by account id: what a full enrich asks of tens of thousands of accounts.

    The accounts whose series have a count every day (the usual ones) are judged together, the
    series of equal length as the rows of one array (:class:`_Baselines`); an account with
    anything to report beyond growth without engagement (an elevated or dropped day, a regular
    stretch) is judged by :func:`assess_daily` with its row of those baselines. An account with
    gaps in its series is judged by :func:`assess_daily` too, its baselines computed with those
    of the accounts with as many dated changes (:func:`_assess_gapped`). Every verdict is the
    one :func:`assess_daily` gives the account alone (``tests/test_growth_authenticity.py``)."""
    as_of = utc(as_of)
    verdicts: dict[int, AccountVerdict] = {}
    groups: dict[int, list[int]] = defaultdict(list)  # series length -> positions in accounts
    gapped: list[int] = []
    for position, (account_id, platform, (days, _), posts) in enumerate(accounts):
        if len(days) >= MIN_DAYS and int(days[-1]) - int(days[0]) == len(days) - 1:
            groups[len(days)].append(position)  # a count every day: every change dated, one run
        else:
            gapped.append(position)
    _assess_gapped([accounts[p] for p in gapped], as_of, verdicts)
    n = REGULAR_MIN_DAYS
    batches = [(length, positions[start:start + BATCH]) for length, positions in groups.items()
               for start in range(0, len(positions), BATCH)]
    for length, positions in batches:
        followers = np.stack([accounts[p][2].followers for p in positions])
        deltas = followers[:, 1:] - followers[:, :-1]
        # each series' median as statistics.median has it (exact for counts)
        tiers = [follower_tier(m) for m in _row_medians(np.sort(followers, axis=1)).tolist()]
        base = _Baselines(deltas / 1, np.maximum(followers[:, :-1], 1).astype(float), tiers)
        alone = (np.minimum(base.z_own, base.z_tier) >= Z_ELEVATED).any(axis=1)
        alone |= (np.maximum(base.z_own, base.z_tier) <= -Z_SPIKE).any(axis=1)
        nonzero = deltas != 0
        coarse = nonzero.any(axis=1) & (np.count_nonzero(nonzero & (deltas % 100 == 0), axis=1)
                                        >= COARSE_SHARE * np.count_nonzero(nonzero, axis=1))
        # Rows whose windows all pass the regularity tests (or too short to have one): nothing
        # for assess_daily to look for there again.
        regular_checked = np.ones(len(positions), dtype=bool)
        if length - 1 >= n:  # _regular_in_run's windows, every row at once
            plain, quiet = _regular_windows(deltas, np.array(base.usual), np.array(base.scale))
            irregular = (plain | quiet).any(axis=1)
            alone |= ~coarse & irregular
            regular_checked = ~irregular
        for row, position in enumerate(positions):
            account_id, platform, series, posts = accounts[position]
            if alone[row]:
                verdicts[account_id] = assess_daily(account_id, platform, series, posts, as_of, baseline=(base, row),
                                                    regular_checked=bool(regular_checked[row]))
                continue
            finding = _growth_without_engagement(series.days, series.followers, posts, as_of)
            findings = [finding] if finding is not None else []
            authenticity = max(0.0, 100.0 - sum(f.cost for f in findings))
            verdicts[account_id] = AccountVerdict(account_id, platform, length, round(authenticity, 2), findings)
    return verdicts


def _assess_gapped(accounts: Sequence[tuple[int, str, DailyFollowers, Sequence[PostRow]]], as_of: datetime,
                   verdicts: dict[int, AccountVerdict]) -> None:
    """:func:`assess_daily` of accounts whose series miss days, into ``verdicts``: the
    baselines of those with as many dated changes computed together (:class:`_Baselines`, rows
    of equal length), as :func:`assess_daily` computes each alone from its dated changes.
    Judging each alone took ~0.7 ms an account, most of it those few array operations."""
    batches: dict[int, list[tuple[int, np.ndarray, str]]] = defaultdict(list)  # dated changes -> accounts
    for position, (account_id, platform, (days, followers), posts) in enumerate(accounts):
        dated = np.flatnonzero(days[1:] - days[:-1] <= MAX_GAP_DAYS) if len(days) >= MIN_DAYS else None
        if dated is None or len(dated) < MIN_DAYS - 1:
            verdicts[account_id] = assess_daily(account_id, platform, accounts[position][2], posts, as_of)
            continue
        tier = follower_tier(_row_medians(np.sort(followers)[None, :]).tolist()[0])  # as assess_daily has it
        batches[len(dated)].append((position, dated, tier))
    for members in batches.values():
        for start in range(0, len(members), BATCH):
            chunk = members[start:start + BATCH]
            rates, before = [], []
            for position, dated, _ in chunk:
                days, followers = accounts[position][2]
                # (each change's rate as Change.rate has it: the int64 counts are exact in a float64)
                rates.append((followers[1:] - followers[:-1])[dated] / (days[1:] - days[:-1])[dated])
                before.append(np.maximum(followers[:-1][dated], 1).astype(float))
            base = _Baselines(np.stack(rates), np.stack(before), [tier for _, _, tier in chunk])
            for row, (position, _, _) in enumerate(chunk):
                account_id, platform, series, posts = accounts[position]
                verdicts[account_id] = assess_daily(account_id, platform, series, posts, as_of, baseline=(base, row))


class _Timeline:
    """An account's daily series and its changes (day i+1 against day i) as arrays; the
    :class:`Change` tuples, which findings quote, are made only when asked for."""

    def __init__(self, days: np.ndarray, followers: np.ndarray, gaps: np.ndarray, deltas: np.ndarray) -> None:
        self.days, self.followers, self.gaps, self.deltas = days, followers, gaps, deltas

    @cached_property
    def changes(self) -> _Changes:
        return _Changes(self.days[1:].tolist(), self.gaps.tolist(), self.deltas.tolist(), self.followers[:-1].tolist())


class _Changes(Sequence[Change]):
    """An account's changes as :class:`Change` tuples, each made when first asked for: a
    flagged account's findings quote a few days of its 180, and making every day's tuple was
    half of judging it (the 160 accounts of an incremental enrich that jumped)."""

    def __init__(self, days: list[int], gaps: list[int], deltas: list[int], before: list[int]) -> None:
        self._days, self._gaps, self._deltas, self._before = days, gaps, deltas, before
        self._made: dict[int, Change] = {}

    def __len__(self) -> int:
        return len(self._days)

    @overload
    def __getitem__(self, i: int) -> Change: ...

    @overload
    def __getitem__(self, i: slice) -> list[Change]: ...

    def __getitem__(self, i: int | slice) -> Change | list[Change]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self._days)))]
        if i < 0:
            i += len(self._days)
        change = self._made.get(i)
        if change is None:
            change = self._made[i] = Change(date.fromordinal(self._days[i]), self._gaps[i], self._deltas[i],
                                            self._before[i])
        return change

    def position(self, day: date) -> int:
        """Where the change of ``day`` is (days ascend: a binary search)."""
        i = bisect.bisect_left(self._days, day.toordinal())
        if i == len(self._days) or self._days[i] != day.toordinal():
            raise ValueError(f"no change on {day}")
        return i

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        if not isinstance(value, Change):
            raise ValueError(f"{value!r} is not a change")  # noqa: TRY004 - what Sequence.index raises
        i = self.position(value.day)
        if self[i] != value or i < start or (stop is not None and i >= stop):
            raise ValueError(f"{value!r} is not among these changes")
        return i


class _Baseline:
    """What a usual day of this account is, and how far from it each day lies.

    *Own* z-score: the day's change minus the median change of the days around it (a centred
    window of 2 x :data:`LOCAL_DAYS` + 1 dated changes, so a growth rate drifting over months
    is not mistaken for a jump), over the account's robust scale on that side: for rises the
    distance of the 90th percentile of those differences from their median / 1.2816, for falls
    the 10th percentile's, each at least 1.4826 x their MAD and the square root of the usual
    change + 1 (the spread independent arrivals have). *Tier* z-score: the day's change relative to the
    followers before it, minus the tier's usual relative change, over the tier's scale
    (:data:`TIER_REFERENCE`). A day is unusual only when both say so.
    """

    def __init__(self, timeline: _Timeline, dated: np.ndarray, tier: str,
                 computed: tuple[_Baselines, int] | None = None) -> None:
        if computed is None:
            # (each change's rate as Change.rate has it: the int64 counts are exact in a float64)
            rates = timeline.deltas[dated] / timeline.gaps[dated]
            before = np.maximum(timeline.followers[:-1][dated], 1).astype(float)
            computed = (_Baselines(rates[None, :], before[None, :], [tier]), 0)
        rows, row = computed  # a batch's row: the series' dated changes
        self.usual, self.scale, self.scale_down = rows.usual[row], rows.scale[row], rows.scale_down[row]
        self.tier = tier
        self.tier_usual, self.tier_scale = TIER_REFERENCE[tier]
        self.local, self.z_own, self.z_tier = rows.local[row], rows.z_own[row], rows.z_tier[row]
        self._timeline, self._dated = timeline, dated

    @cached_property
    def _dated_days(self) -> list[int]:
        """The dated changes' days (ordinals, ascending): a finding quotes a few of 180, found
        by binary search (a dict of every day cost more than the lookups it served)."""
        return self._timeline.days[1:][self._dated].tolist()

    def _place(self, day: date) -> int | None:
        """A dated change's place among the dated ones, None when ``day`` has none."""
        days, ordinal = self._dated_days, day.toordinal()
        i = bisect.bisect_left(days, ordinal)
        return i if i < len(days) and days[i] == ordinal else None

    def usual_on(self, day: date) -> float:
        """The usual change around ``day`` (the account's median where the day is not dated)."""
        i = self._place(day)
        return float(self.local[i]) if i is not None else self.usual

    def z(self, change: Change) -> tuple[float, float]:
        """(own, tier) z-scores of a dated change."""
        i = self._place(change.day)
        if i is None:
            raise KeyError(change.day)
        return float(self.z_own[i]), float(self.z_tier[i])

    def context(self, episode: Sequence[Change]) -> dict[str, Any]:
        """The numbers every finding about these days shows."""
        return {"usual_change": [round(self.usual_on(c.day), 1) for c in episode], "own_scale": round(self.scale, 2),
                "own_scale_down": round(self.scale_down, 2),
                "z_own": [round(self.z(c)[0], 1) for c in episode], "z_tier": [round(self.z(c)[1], 1) for c in episode],
                "tier": self.tier, "tier_median": self.tier_usual, "tier_scale": self.tier_scale}


class _Baselines:
    """:class:`_Baseline`'s numbers for several accounts at once, one row each (rates and the
    followers before each change, as 2-D arrays of equal-length rows): each row gets exactly
    the numbers it would alone (the same operations, row by row)."""

    def __init__(self, rates: np.ndarray, before: np.ndarray, tiers: Sequence[str]) -> None:
        width = 2 * LOCAL_DAYS + 1
        length = rates.shape[1]
        usual = _row_medians(np.sort(rates, axis=1))
        if length <= width:
            local = np.repeat(usual[:, None], length, axis=1)
        else:  # near either end the window keeps its width, shifted inside the series
            # (the middle of each sorted window: np.median of an odd number of values)
            # (partitioned, not sorted: the middle lands where sorting puts it)
            medians = np.partition(np.lib.stride_tricks.sliding_window_view(rates, width, axis=1), LOCAL_DAYS,
                                   axis=2)[:, :, LOCAL_DAYS]
            local = medians[:, np.clip(np.arange(length) - LOCAL_DAYS, 0, medians.shape[1] - 1)]
        residual = rates - local
        middle = _row_medians(np.sort(residual, axis=1))
        spread = MAD_SCALE * _row_medians(np.sort(np.abs(residual - middle[:, None]), axis=1))
        low, high = np.quantile(residual, [0.1, 0.9], axis=1)
        self.usual: list[float] = usual.tolist()
        self.scale: list[float] = []
        self.scale_down: list[float] = []
        for usual_day, middle_day, spread_day, low_day, high_day in zip(
                self.usual, middle.tolist(), spread.tolist(), low.tolist(), high.tolist()):
            floor = max(spread_day, (abs(usual_day) + 1.0) ** 0.5)
            # Follower changes are skewed (good days lie further above the usual one than bad days
            # below it): each side is scaled by its own spread, the 10 % of days furthest out.
            self.scale.append(max(floor, (high_day - middle_day) / Z_DECILE))
            self.scale_down.append(max(floor, (middle_day - low_day) / Z_DECILE))
        scale = np.array(self.scale)[:, None]
        scale_down = np.array(self.scale_down)[:, None]
        tier_usual = np.array([TIER_REFERENCE[t][0] for t in tiers])[:, None]
        tier_scale = np.array([TIER_REFERENCE[t][1] for t in tiers])[:, None]
        self.local = local
        self.z_own = np.where(residual >= 0, residual / scale, residual / scale_down)
        self.z_tier = (rates / before - tier_usual) / tier_scale


def _row_medians(ordered: np.ndarray) -> np.ndarray:
    """The median of each row of sorted values, as ``np.median`` computes it."""
    middle = ordered.shape[1] // 2
    return ordered[:, middle] if ordered.shape[1] % 2 else (ordered[:, middle - 1] + ordered[:, middle]) / 2


def _runs(changes: Sequence[Change]) -> list[list[Change]]:
    """Runs of consecutive days (one day apart) among ``changes`` (by day)."""
    runs: list[list[Change]] = []
    for change in changes:
        if runs and (change.day - runs[-1][-1].day).days == 1 and change.gap == 1:
            runs[-1].append(change)
        else:
            runs.append([change])
    return runs


class _PostEngagement:
    """An account's recent posts with engagement, by publication time, and their median."""

    def __init__(self, posts: Sequence[PostRow], as_of: datetime) -> None:
        start = as_of - timedelta(days=DETECTION_DAYS)
        known = sorted(((utc(p.when), p.engagement) for p in posts  # type: ignore[arg-type]
                        if p.when is not None and p.engagement is not None and start < utc(p.when) <= as_of),
                       key=lambda item: item[0])
        self.times = [when for when, _ in known]
        self.values = [value for _, value in known]
        self.median = _median(self.values) if len(self.values) >= 3 else None

    def best_between(self, start: datetime, end: datetime) -> int | None:
        """The highest engagement of a post published from ``start`` to ``end``."""
        low, high = bisect.bisect_left(self.times, start), bisect.bisect_right(self.times, end)
        return max(self.values[low:high]) if high > low else None


def _episode_findings(episode: list[Change], changes: Sequence[Change], base: _Baseline, gross: int, coarse: bool,
                      engagement: _PostEngagement) -> list[Finding]:
    """The flags one episode of elevated days earns (none when it is a benign viral spike)."""
    excess = [c.delta - base.usual_on(c.day) * c.gap for c in episode]
    total = sum(excess)
    share = min(1.0, total / gross) if gross > 0 else 1.0
    together = sum(min(base.z(c)) for c in episode) / len(episode) ** 0.5
    extreme = together >= Z_SPIKE
    peak = max(range(len(episode)), key=lambda i: excess[i])
    numbers: dict[str, Any] = {**base.context(episode), "z_together": round(together, 1), "excess": round(total),
                               "share_of_growth": round(share, 4), "gross_growth": gross}
    # Growth slows after a viral post: the day after the peak still gains, but less (allowing
    # for the count noise of that day's arrivals, twice the square root of the peak).
    position = changes.index(episode[peak])
    following = changes[position + 1] if position + 1 < len(changes) else None
    slows = False
    if following is not None and following.gap == 1 and excess[peak] > 0:
        after = following.delta - base.usual_on(episode[peak].day)
        numbers["day_after_peak"] = round(after)
        slows = TAIL_MIN * excess[peak] <= after <= TAIL_MAX * excess[peak] + 2 * excess[peak] ** 0.5
    peak_time = datetime.combine(episode[peak].day, time.max, tzinfo=timezone.utc)
    start_time = datetime.combine(episode[0].day - timedelta(days=VIRAL_LOOKBACK_DAYS), time.min, tzinfo=timezone.utc)
    best = engagement.best_between(start_time, peak_time)
    if engagement.median is None:
        engaged = None  # no posts with counts: the shape alone decides
    else:
        engaged = best is not None and best >= VIRAL_FACTOR * max(engagement.median, 1.0)
        numbers.update({"best_post_engagement": best, "median_post_engagement": engagement.median})
    if slows and engaged is not False:
        return []  # a benign viral spike
    dates = [c.day.isoformat() for c in episode]
    sizes = [c.delta for c in episode]
    found: list[Finding] = []
    flag = "spike" if len(episode) == 1 else "step_jump"
    cost = COST_BASE + COST_SHARE * share
    flagged = extreme or (len(episode) > 1 and share >= STEP_MIN_SHARE)
    if flagged:
        found.append(Finding(flag, dates, sizes, {**numbers, "threshold_z": Z_SPIKE if extreme else Z_ELEVATED,
                                                  "threshold_share": None if extreme else STEP_MIN_SHARE}, cost))
    if not coarse:
        # The episode's gain above the usual days, each day's (a package delivered over days),
        # or the raw change (an account whose own days are small against the package).
        number = _round_number(total, base.scale)
        for day_excess in (excess if len(episode) > 1 else []):
            number = number or _round_number(day_excess, base.scale)
        number = number or _round_number(sum(sizes), abs(base.usual) + base.scale)
        if number is not None:
            found.append(Finding("round_jump", dates, sizes, {
                **numbers, "round_number": number, "tolerance": round(max(ROUND_TOLERANCE * number, 2 * base.scale), 1),
                "threshold_z": Z_ELEVATED}, ROUND_EXTRA if flagged else cost))
    return found


def _regular_stretches(timeline: _Timeline, usual: float, own_scale: float, gross: int) -> list[Finding]:
    """Stretches of daily increments too regular for independent follows and unfollows: each
    run of consecutive changes one day apart, at least :data:`REGULAR_MIN_DAYS` long."""
    daily = np.concatenate(([False], timeline.gaps == 1, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(daily))  # where runs of one-day changes begin and end
    found: list[Finding] = []
    for begin, end in zip(edges[0::2].tolist(), edges[1::2].tolist()):
        if end - begin >= REGULAR_MIN_DAYS:
            found.extend(_regular_in_run(timeline, begin, end, usual, own_scale, gross))
    return found


def _regular_in_run(timeline: _Timeline, first: int, stop: int, usual: float, own_scale: float,
                    gross: int) -> list[Finding]:
    """Windows of :data:`REGULAR_MIN_DAYS` consecutive increments (among the changes
    ``first`` to ``stop``, one day apart) that fail the arrivals bound,
    merged into stretches. Two tests, each against the variance independent arrivals must show:

    * *plain*: the window varies less than REGULAR_MAX_FANO x its mean (a net count of
      independent follows and unfollows has a variance of at least its mean);
    * *added*: the window gains clearly more than the account's usual day (by at least
      REGULAR_MIN_MEAN and 3 of its own scales) but its variance exceeds the usual variance
      by less than REGULAR_MAX_FANO x the added gain (organic extra followers bring at least
      their own number in variance; a drip brings none).
    """
    n = REGULAR_MIN_DAYS
    if stop - first < n:
        return []
    plain_rows, quiet_rows = _regular_windows(timeline.deltas[None, first:stop], np.array([usual]), np.array([own_scale]))
    plain, quiet = plain_rows[0], quiet_rows[0]
    usual_variance = own_scale * own_scale
    if not (plain.any() or quiet.any()):
        return []
    qualifying: list[tuple[int, str]] = [(int(i), "plain" if plain[i] else "added") for i in np.flatnonzero(plain | quiet)]
    stretches: list[list[Any]] = []
    for begin, test in qualifying:
        if stretches and begin <= stretches[-1][1]:
            stretches[-1][1] = begin + n
            stretches[-1][2].add(test)
        else:
            stretches.append([begin, begin + n, {test}])
    found = []
    deltas = timeline.deltas[first:stop].tolist()
    run = timeline.changes[first:stop]
    for begin, end, tests in stretches:
        window = deltas[begin:end]
        mean = sum(window) / len(window)
        variance = statistics.variance(window)
        gain = sum(window)
        share = min(1.0, gain / gross) if gross > 0 else 1.0
        found.append(Finding(
            "regular_increments", [c.day.isoformat() for c in run[begin:end]], window,
            {"days": len(window), "tests": sorted(tests), "mean": round(mean, 2), "variance": round(variance, 2),
             "variance_to_mean": round(variance / mean, 4) if mean > 0 else None,
             "usual_change": round(usual, 2), "usual_variance": round(usual_variance, 2),
             "added_variance_per_added_follower": (round((variance - usual_variance) / (mean - usual), 4)
                                                   if mean > usual else None),
             "threshold": REGULAR_MAX_FANO, "window_days": n, "gain": gain, "share_of_growth": round(share, 4),
             "gross_growth": gross},
            COST_BASE + COST_SHARE * share))
    return found


def _regular_windows(deltas: np.ndarray, usual: np.ndarray, own_scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two arrivals tests of :func:`_regular_in_run` on every window of
    :data:`REGULAR_MIN_DAYS` consecutive increments: ``deltas`` one row per series (one for an
    account alone, one per account for :func:`assess_many`), ``usual`` and ``own_scale`` one
    value per row; (plain, quiet) as booleans, a row per series and a column per window start."""
    n = REGULAR_MIN_DAYS
    values = deltas.astype(float)
    zero = np.zeros((len(values), 1))
    sums = np.concatenate([zero, np.cumsum(values, axis=1)], axis=1)
    squares = np.concatenate([zero, np.cumsum(values * values, axis=1)], axis=1)
    totals = sums[:, n:] - sums[:, :-n]
    means = totals / n
    variances = np.maximum(0.0, (squares[:, n:] - squares[:, :-n] - totals * means) / (n - 1))
    scale = own_scale[:, None]
    added = means - usual[:, None]
    plain = (means >= REGULAR_MIN_MEAN) & (variances <= REGULAR_MAX_FANO * means)
    quiet = (added >= np.maximum(REGULAR_MIN_MEAN, 3 * scale)) & (variances - scale * scale <= REGULAR_MAX_FANO * added)
    return plain, quiet


def _growth_without_engagement(days: np.ndarray, followers: np.ndarray, posts: Sequence[PostRow],
                               as_of: datetime) -> Finding | None:
    """Followers up by half or more between the window's halves, engagement per post not up."""
    if len(posts) < 2 * ENGAGEMENT_MIN_POSTS:
        return None  # fewer than ENGAGEMENT_MIN_POSTS in a half, whichever they are
    first, last = int(days[0]), int(days[-1])
    middle = first + (last - first) // 2  # (the day of first + (last - first) / 2)
    late_count = int(np.count_nonzero(days > middle))
    if not late_count or late_count == len(days):
        return None
    settled = as_of - timedelta(days=ENGAGEMENT_SETTLE_DAYS)
    start = as_of - timedelta(days=DETECTION_DAYS)
    middle_day = date.fromordinal(middle)
    dated = [(utc(p.when).date(), p.engagement) for p in posts  # type: ignore[arg-type]
             if p.when is not None and p.engagement is not None and start < utc(p.when) <= settled]
    early_posts = [e for d, e in dated if d <= middle_day]
    late_posts = [e for d, e in dated if d > middle_day]
    if len(early_posts) < ENGAGEMENT_MIN_POSTS or len(late_posts) < ENGAGEMENT_MIN_POSTS:
        return None
    early = followers[days <= middle].tolist()
    late = followers[days > middle].tolist()
    before, after = _median(early), _median(late)
    rise = after / before - 1 if before > 0 else 0.0
    engagement_before, engagement_after = _median(early_posts), _median(late_posts)
    ratio = engagement_after / engagement_before if engagement_before > 0 else None
    if rise < FOLLOWER_RISE or ratio is None or ratio > ENGAGEMENT_FLAT:
        return None
    return Finding(
        "growth_without_engagement",
        [date.fromordinal(first).isoformat(), middle_day.isoformat(), date.fromordinal(last).isoformat()],
        [round(before), round(after)],
        {"follower_rise": round(rise, 4), "threshold_rise": FOLLOWER_RISE, "engagement_before": engagement_before,
         "engagement_after": engagement_after, "engagement_ratio": round(ratio, 4), "threshold_ratio": ENGAGEMENT_FLAT,
         "posts_before": len(early_posts), "posts_after": len(late_posts)},
        ENGAGEMENT_COST)


# --------------------------------------------------------------------------- the candidate


def follower_counts_of(snapshots: Iterable[SnapshotRow]) -> list[FollowerCount]:
    """Follower counts from profile snapshots (what tests and the report have in hand)."""
    return [FollowerCount(s.account_id, s.captured_at, int(s.followers), s.rounded)
            for s in snapshots if s.followers is not None]


def assess_accounts(counts: Iterable[FollowerCount], accounts: Mapping[int, str], posts: Sequence[PostRow],
                    as_of: datetime, *, daily: Mapping[int, DailyFollowers] | None = None,
                    verdicts: Mapping[int, AccountVerdict] | None = None) -> list[AccountVerdict]:
    """A verdict for each account of the candidate (``accounts``: account id -> platform), from
    its follower counts, or with ``daily`` from its daily series (:func:`daily_series`; an
    account missing there has no count: ``counts`` is then not read); ``verdicts``: the ones
    already given (:func:`assess_many` of these series and posts), not made again."""
    posts_of = posts_by_account(posts)
    if daily is not None:
        given = verdicts or {}
        return [given.get(account_id) or assess_daily(account_id, platform, daily.get(account_id, _NO_DAYS),
                                                      posts_of.get(account_id, []), as_of)
                for account_id, platform in sorted(accounts.items())]
    by_account: dict[int, list[FollowerCount]] = defaultdict(list)
    for count in counts:
        by_account[count.account_id].append(count)
    return [assess_account(account_id, platform, by_account.get(account_id, []), posts_of.get(account_id, []), as_of)
            for account_id, platform in sorted(accounts.items())]


_NO_DAYS = DailyFollowers(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


def authenticity_features(counts: Iterable[FollowerCount], accounts: Mapping[int, str], posts: Sequence[PostRow],
                          as_of: datetime, *, daily: Mapping[int, DailyFollowers] | None = None,
                          verdicts: Mapping[int, AccountVerdict] | None = None) -> dict[str, Any]:
    """``growth_authenticity`` (the worst account's, 0-100; NULL when no account has enough
    history), ``growth_flags`` (the worst account's flags; ``["insufficient_history"]`` when that
    is all we can say; ``[]`` when clean), ``growth_evidence`` (every flagged account's findings)
    and ``growth_accounts_checked``. (``daily``: the accounts' daily series instead of ``counts``,
    and ``verdicts``, as :func:`assess_accounts` reads them.)"""
    verdicts = assess_accounts(counts, accounts, posts, as_of, daily=daily, verdicts=verdicts)  # type: ignore[assignment]
    judged = sorted((v for v in verdicts if v.authenticity is not None), key=lambda v: (v.authenticity, v.account_id))
    if not judged:
        return {"growth_authenticity": None, "growth_flags": [INSUFFICIENT], "growth_evidence": [],
                "growth_accounts_checked": 0}
    worst = judged[0]
    evidence = [f.evidence(v.account_id, v.platform) for v in judged for f in v.findings][:MAX_EVIDENCE]
    return {"growth_authenticity": worst.authenticity, "growth_flags": worst.flags, "growth_evidence": evidence,
            "growth_accounts_checked": len(judged)}
