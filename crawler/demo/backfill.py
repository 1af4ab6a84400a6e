"""The demo's synthetic history: invented daily follower counts for the days before the demo
crawl, so the demo database's charts, growth (7, 30, 90 days) and growth-authenticity features
have a past to show. For the demo only, and marked so (storage/synthetic.py: a run with trigger
``synthetic``, snapshots with parser ``synthetic.backfill``; the features that read them say
``synthetic_history: true``).

Per account with a follower count in the demo crawl, :data:`DAYS` earlier daily counts are
walked back from that count: each day's gain is a steady share of the followers (a rate of its
own per account, from 0.05 % to 0.35 % a day) plus noise larger than independent follows and
unfollows make (so no drip-fed regularity is invented). One account, :data:`BOUGHT` (Mia
Chen's Instagram), gets what bought followers look like: a one-day jump of a round 20,000
thirty days back, which the growth detector flags. Everything is a pure function of the account and its count: a second demo run
adds nothing (accounts that have synthetic history are skipped).
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import timedelta

from storage.candidates import latest_snapshots
from storage.db import session_scope
from storage.synthetic import SyntheticPoint, add_synthetic_history, synthetic_accounts

#: Days of invented history before each account's demo snapshot (the 90-day growth window and
#: the growth detector's weeks fit in it).
DAYS = 120
#: (platform, handle or id) of the account whose history shows a bought-followers jump, and
#: the jump: days before the demo crawl, followers.
BOUGHT = ("instagram", "miachen.tokyo")
JUMP_DAYS, JUMP = 30, 20_000


def _rate(key: str) -> float:
    """The account's daily growth rate, 0.05 % to 0.35 %, fixed by its key."""
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    return 0.0005 + (digest % 3001) / 1_000_000


def history(key: str, followers: int, *, days: int = DAYS, jump: tuple[int, int] | None = None) -> list[int]:
    """``days`` daily counts before ``followers`` (oldest first), walked back from it."""
    rng = random.Random(key)
    rate = _rate(key)
    counts = []
    current = float(followers)
    for day in range(1, days + 1):
        gain = current * rate
        noise = rng.gauss(0.0, 3.0 * math.sqrt(max(gain, 1.0)) + 0.0004 * current)
        current = max(0.0, current - max(0.0, gain + noise))
        if jump is not None and day == jump[0]:
            current = max(0.0, current - jump[1])
        counts.append(int(round(current)))
    return counts[::-1]


def backfill(database_url: str | None, candidate_ids: list[int], *, days: int = DAYS) -> int:
    """Add the synthetic history of the candidates' accounts (those with a follower count and
    no synthetic history yet); returns how many snapshots were added."""
    points: list[SyntheticPoint] = []
    with session_scope(database_url) as session:
        newest = [(account, snapshot) for account, snapshot in latest_snapshots(session, candidate_ids)
                  if snapshot.followers is not None]
        done = synthetic_accounts(session, [account.id for account, _ in newest])  # type: ignore[misc]
        for account, snapshot in sorted(newest, key=lambda pair: pair[0].id):  # type: ignore[arg-type, return-value]
            if account.id in done:
                continue
            key = f"{account.platform}:{account.handle or account.platform_user_id or ''}"
            names = {account.handle, account.platform_user_id}
            jump = (JUMP_DAYS, JUMP) if account.platform == BOUGHT[0] and BOUGHT[1] in names else None
            for offset, count in enumerate(history(key, snapshot.followers, days=days, jump=jump)):  # type: ignore[arg-type]
                when = snapshot.captured_at - timedelta(days=days - offset)
                points.append(SyntheticPoint(account.id, when, count))  # type: ignore[arg-type]
        add_synthetic_history(session, points, note=f"wangzi demo: {days} invented days before each demo snapshot")
    return len(points)
