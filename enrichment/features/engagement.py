"""Engagement and cadence of recent posts: median engagement per post and per follower, and
posts per week."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from enrichment.features.rows import (
    RECENT_DAYS,
    PostRow,
    in_days,
    median,
    recent_posts,
    utc,
)


def engagement_features(posts: Sequence[PostRow], followers_by_account: Mapping[int, int], as_of: datetime) -> dict[str, Any]:
    """Median engagement per recent post and per follower, and posts per week.

    Cadence per account = posts in the recent window / the weeks the stored posts cover
    (from the oldest stored post, at most the window), summed over accounts; accounts
    whose posts were never collected add nothing and, if none were, cadence is NULL.
    """
    recent = recent_posts(posts, as_of)
    per_follower = []
    for post in recent:
        followers = followers_by_account.get(post.account_id)
        if post.engagement is not None and followers:
            per_follower.append(post.engagement / followers)
    rates: list[float] = []
    by_account: dict[int, list[PostRow]] = defaultdict(list)
    for post in posts:
        if post.when is not None and utc(post.when) <= as_of:
            by_account[post.account_id].append(post)
    recent_ids = {id(p) for p in recent}
    for account_posts in by_account.values():
        oldest = min(utc(p.when) for p in account_posts)  # type: ignore[arg-type]
        covered = min(float(RECENT_DAYS), max(in_days(as_of - oldest), 1.0))
        in_window = sum(1 for p in account_posts if id(p) in recent_ids)
        rates.append(in_window / covered * 7.0)
    return {
        "posts_recent": len(recent) if by_account else None,
        "engagement_median": median(p.engagement for p in recent),
        "engagement_per_follower_median": median(per_follower),
        "posts_per_week": round(sum(rates), 4) if rates else None,
    }
