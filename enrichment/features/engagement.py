"""Engagement and cadence of recent posts: median engagement per post and per follower, the
engagement rate per platform, and posts per week.

What each platform shows per post (``spiders/pages``): Weibo likes, comments, reposts;
Xiaohongshu likes, comments, shares (note cards); Douyin and TikTok likes, comments, shares;
Instagram likes, comments; X likes, replies (comments), reposts; YouTube (RSS) likes only;
Bilibili, Taobao Live and Youku no post counts. The engagement rate uses likes and comments
where shown, so on YouTube it is likes / followers and Bilibili, Taobao Live and Youku have none.
"""

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
    posts_by_account,
    recent_posts,
    utc,
)


#: The engagement rate is the median over this many of a platform's newest recent posts.
ENGAGEMENT_RATE_POSTS = 12


def engagement_rates(recent: Sequence[PostRow], followers_by_account: Mapping[int, int]) -> dict[str, Any]:
    """Per platform, (likes + comments) / the account's followers, median over the platform's
    :data:`ENGAGEMENT_RATE_POSTS` newest recent posts showing likes or comments (posts of an
    account with no follower count skipped); ``engagement_rate`` is the rate of the platform
    whose accounts have the most followers."""
    by_platform: dict[str, list[PostRow]] = defaultdict(list)
    for post in recent:
        if (post.likes is not None or post.comments is not None) and followers_by_account.get(post.account_id):
            by_platform[post.platform].append(post)
    rates: dict[str, float] = {}
    reach: dict[str, int] = {}
    for platform, posts in by_platform.items():
        newest = sorted(posts, key=lambda p: utc(p.when), reverse=True)[:ENGAGEMENT_RATE_POSTS]  # type: ignore[arg-type]
        rates[platform] = round(median(((p.likes or 0) + (p.comments or 0)) / followers_by_account[p.account_id]
                                       for p in newest), 8)  # type: ignore[arg-type]
        reach[platform] = sum(followers_by_account[a] for a in {p.account_id for p in posts})
    primary = max(rates, key=lambda p: (reach[p], p), default=None)
    return {"engagement_rate": rates[primary] if primary else None,
            "engagement_rate_by_platform": dict(sorted(rates.items())) if rates else None}


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
    by_account = posts_by_account(p for p in posts if p.when is not None and utc(p.when) <= as_of)
    recent_ids = {id(p) for p in recent}
    for account_posts in by_account.values():
        oldest = min(utc(p.when) for p in account_posts)  # type: ignore[arg-type]
        covered = min(float(RECENT_DAYS), max(in_days(as_of - oldest), 1.0))
        in_window = sum(1 for p in account_posts if id(p) in recent_ids)
        rates.append(in_window / covered * 7.0)
    return {
        **engagement_rates(recent, followers_by_account),
        "posts_recent": len(recent) if by_account else None,
        "engagement_median": median(p.engagement for p in recent),
        "engagement_per_follower_median": median(per_follower),
        "posts_per_week": round(sum(rates), 4) if rates else None,
    }
