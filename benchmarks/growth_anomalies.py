"""Benchmark: precision and recall of the suspicious-growth flags on a synthetic cohort.

2,000 accounts x 180 days of daily follower counts and their posts, generated with a known
story each (seeded, so every run is the same cohort):

* organic (12 in 19): follows arrive as a gamma-mixed Poisson count (day-to-day
  burstiness, a weekly rhythm, a growth rate drifting slowly up and down) minus Poisson
  unfollows; a post every 1-4 days whose engagement grows with the audience;
* benign viral spikes (3 in 19): an organic account one of whose posts gets 5-50x its usual engagement,
  and followers jump that day (0.5-8 % of the account) and keep coming, fewer each day;
* a platform purge: on day 120 every account of one platform (a quarter) loses 0.2-1.5 % of
  its followers, and an account that bought followers before loses 30-80 % of those too;
* planted campaigns (4 in 19, one of each kind), on top of organic growth: one-day spikes (2-15 % of the
  account, any size), multi-day steps (2-7 days, 3-20 % in all), round-number jumps (a
  1k/2k/5k/.../100k package on one day) and drip-fed growth (3-10x the organic day, the same
  every day +-2 %, for 3-8 weeks).

An account is *flagged* when :func:`enrichment.features.authenticity.assess_account` finds
any flag (the default thresholds); the planted campaigns are the positives. Prints precision,
recall, recall per campaign kind, false positives per story, how many benign viral spikes
were flagged (target: none), and the time per account.

    python benchmarks/growth_anomalies.py
    python benchmarks/growth_anomalies.py --accounts 500 --seed 2
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from enrichment.features.authenticity import assess_account  # noqa: E402
from enrichment.features.rows import FollowerCount, PostRow  # noqa: E402

AS_OF = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
PURGE_DAY = 120
PACKAGES = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
CAMPAIGNS = ("spike", "step", "round", "drip")


@dataclass
class Account:
    story: str  # organic | viral | spike | step | round | drip
    purged: bool
    counts: list[FollowerCount] = field(default_factory=list)
    posts: list[PostRow] = field(default_factory=list)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count (normal approximation above 50, Knuth's product below)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def generate(index: int, story: str, days: int, rng: random.Random) -> Account:
    followers = round(10 ** rng.uniform(3.0, 6.7))
    rate = 10 ** rng.uniform(-3.7, -2.3)  # follows per follower per day
    churn = rate * rng.uniform(0.1, 0.5)
    burst = rng.uniform(0.25, 0.6)  # day-to-day coefficient of variation of the follow rate
    shape = 1 / burst ** 2
    phase = rng.uniform(0, 2 * math.pi)
    drift = 0.0
    account = Account(story, purged=index % 4 == 0)
    extra = [0] * (days + 1)
    bought_before_purge = 0
    start = rng.randint(20, days - 10)
    if story == "viral":
        size = followers * rng.uniform(0.005, 0.08)
        decay = rng.uniform(0.3, 0.7)
        for k in range(0, days + 1 - start):
            extra[start + k] += poisson(rng, size * decay ** k)
    elif story == "spike":
        extra[start] += round(followers * rng.uniform(0.02, 0.15)) + 500
    elif story == "step":
        length = rng.randint(2, 7)
        start = min(start, days - length)
        total = followers * rng.uniform(0.03, 0.2)
        for k in range(length):
            extra[start + k] += round(total / length * rng.uniform(0.85, 1.15))
    elif story == "round":
        wanted = followers * rng.uniform(0.01, 0.08)
        extra[start] += min(PACKAGES, key=lambda p: abs(math.log(p / max(wanted, 1))))
    elif story == "drip":
        length = rng.randint(21, 56)
        start = rng.randint(10, days - length)
        per_day = max(20.0, rate * followers * rng.uniform(3, 10))
        for k in range(length):
            extra[start + k] += round(per_day * rng.uniform(0.98, 1.02))
    if story in CAMPAIGNS:
        bought_before_purge = sum(extra[:PURGE_DAY])

    engagement0 = followers * rng.uniform(0.005, 0.05)
    followers0 = followers
    every = rng.randint(1, 4)
    next_post = rng.randint(0, every)
    for day in range(days + 1):
        when = AS_OF - timedelta(days=days - day)
        if day:
            drift = 0.98 * drift + rng.gauss(0, 0.05)
            weekly = 1 + 0.15 * math.sin(2 * math.pi * day / 7 + phase)
            mean = rate * math.exp(drift) * weekly * followers * rng.gammavariate(shape, 1 / shape)
            change = poisson(rng, mean) - poisson(rng, churn * followers) + extra[day]
            if account.purged and day == PURGE_DAY:
                change -= round(followers * rng.uniform(0.002, 0.015))
                change -= round(bought_before_purge * rng.uniform(0.3, 0.8))
            followers = max(0, followers + change)
        account.counts.append(FollowerCount(index, when, followers))
        usual = engagement0 * (max(followers, 1) / followers0) ** 0.8
        if story == "viral" and day == start:
            # The post that went viral: published the day the followers came (or the day before).
            published = when - timedelta(hours=rng.choice((2, 20)))
            account.posts.append(PostRow(index, "bench", published, likes=round(usual * rng.uniform(5, 50))))
        if day == next_post:
            value = round(usual * math.exp(rng.gauss(0, 0.5)))
            account.posts.append(PostRow(index, "bench", when - timedelta(hours=3), likes=value))
            next_post += max(1, every + rng.randint(-1, 1))
    return account


def cohort(size: int, days: int, seed: int) -> list[Account]:
    rng = random.Random(seed)
    stories = (["organic"] * 12 + ["viral"] * 3 + list(CAMPAIGNS)) * (size // 19 + 1)
    rng.shuffle(stories)
    return [generate(i, story, days, rng) for i, story in enumerate(stories[:size])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=0, help="print the findings of this many misclassified accounts")
    args = parser.parse_args()

    clock = time.perf_counter()
    accounts = cohort(args.accounts, args.days, args.seed)
    generated = time.perf_counter() - clock
    clock = time.perf_counter()
    verdicts = [assess_account(i, "bench", a.counts, a.posts, AS_OF) for i, a in enumerate(accounts)]
    elapsed = time.perf_counter() - clock

    flagged = [bool(v.flags) and v.authenticity is not None for v in verdicts]
    positive = [a.story in CAMPAIGNS for a in accounts]
    tp = sum(f and p for f, p in zip(flagged, positive))
    fp = sum(f and not p for f, p in zip(flagged, positive))
    fn = sum(p and not f for f, p in zip(flagged, positive))
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    stories = Counter(a.story for a in accounts)
    hits = Counter(a.story for a, f in zip(accounts, flagged) if f)
    purged_fp = sum(1 for a, f in zip(accounts, flagged) if f and a.purged and a.story not in CAMPAIGNS)
    purged_negatives = sum(1 for a in accounts if a.purged and a.story not in CAMPAIGNS)
    flag_counts = Counter(flag for v in verdicts for flag in v.flags)

    print(f"{args.accounts} accounts x {args.days} days (seed {args.seed}); generated in {generated:.1f} s, "
          f"assessed in {elapsed:.2f} s ({elapsed / args.accounts * 1000:.2f} ms per account)")
    print(f"stories: {dict(sorted(stories.items()))}")
    print(f"precision {precision:.3f} (target >= 0.9, ratio {precision / 0.9:.2f}); "
          f"recall {recall:.3f} (target >= 0.8, ratio {recall / 0.8:.2f}); TP {tp}, FP {fp}, FN {fn}")
    for kind in CAMPAIGNS:
        print(f"  recall {kind:6}: {hits[kind] / stories[kind]:.3f} ({hits[kind]}/{stories[kind]})")
    print(f"  flagged organic: {hits['organic']}/{stories['organic']}; benign viral spikes flagged: "
          f"{hits['viral']}/{stories['viral']} (target 0); organic hit by the purge flagged: {purged_fp}/{purged_negatives}")
    print(f"  flags raised: {dict(sorted(flag_counts.items()))}")
    if args.show:
        shown = 0
        for a, v, f in zip(accounts, verdicts, flagged):
            if f != (a.story in CAMPAIGNS) and shown < args.show:
                shown += 1
                print(f"--- {a.story} purged={a.purged} flags={v.flags}")
                for finding in v.findings:
                    print("   ", finding.flag, finding.dates[:5], finding.sizes[:5],
                          {k: finding.numbers[k] for k in list(finding.numbers)[-8:]})


if __name__ == "__main__":
    main()
