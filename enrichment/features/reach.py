"""Reach and freshness: followers per platform, domestic and overseas totals, how many counts
are rounded, and how old each platform's newest snapshot is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from enrichment.features.rows import (
    PLATFORMS,
    SnapshotRow,
    in_days,
    snapshots_by_account,
    utc,
)
from records import DOMESTIC_PLATFORMS, OVERSEAS_PLATFORMS

#: A platform whose newest snapshot is older than this is listed in ``stale_platforms``.
STALE_AFTER_DAYS = 14


def reach_features(snapshots: Sequence[SnapshotRow], accounts: Mapping[int, str], as_of: datetime,
                   *, grouped: Mapping[int, list[SnapshotRow]] | None = None) -> dict[str, Any]:
    """Followers per platform (newest snapshot with a follower count), domestic/overseas totals,
    how many are rounded, and how old each platform's newest snapshot is."""
    by_account = grouped if grouped is not None else snapshots_by_account(snapshots, as_of)
    followers: dict[str, int] = {}
    rounded: set[str] = set()
    lower: set[str] = set()
    newest: dict[str, datetime] = {}
    for rows in by_account.values():
        platform = rows[-1].platform
        seen = utc(rows[-1].captured_at)
        newest[platform] = max(newest[platform], seen) if platform in newest else seen
        counted = [r for r in rows if r.followers is not None]
        if not counted:
            continue
        last = counted[-1]
        followers[platform] = followers.get(platform, 0) + int(last.followers)  # type: ignore[arg-type]
        if last.rounded:
            rounded.add(platform)
        if "followers" in last.lower_bound:
            lower.add(platform)

    out: dict[str, Any] = {}
    for platform in PLATFORMS:
        out[f"followers_{platform}"] = followers.get(platform)
    domestic = [v for p, v in followers.items() if p in DOMESTIC_PLATFORMS]
    overseas = [v for p, v in followers.items() if p in OVERSEAS_PLATFORMS]
    out["followers_domestic"] = sum(domestic) if domestic else None
    out["followers_overseas"] = sum(overseas) if overseas else None
    known = domestic + overseas
    out["followers_total"] = sum(known) if known else None
    total = out["followers_total"]
    registered_overseas = any(p in OVERSEAS_PLATFORMS for p in accounts.values())
    if not total:
        out["overseas_share"] = None
    elif out["followers_overseas"] is not None:
        out["overseas_share"] = out["followers_overseas"] / total
    else:  # no overseas numbers: a share of 0 only when the candidate has no overseas account at all
        out["overseas_share"] = None if registered_overseas else 0.0
    out["platforms_with_data"] = len(followers)
    out["platforms_registered"] = len(set(accounts.values()))
    out["followers_approximate_platforms"] = len(rounded) if followers else None
    out["followers_lower_bound_platforms"] = len(lower) if followers else None
    ages = {p: round(in_days(as_of - t), 3) for p, t in newest.items()}
    for platform in PLATFORMS:
        out[f"snapshot_age_days_{platform}"] = ages.get(platform)
    out["newest_snapshot_age_days"] = min(ages.values()) if ages else None
    out["oldest_snapshot_age_days"] = max(ages.values()) if ages else None
    out["stale_platforms"] = sorted(p for p, age in ages.items() if age > STALE_AFTER_DAYS)
    out["missing_platforms"] = sorted(set(accounts.values()) - set(newest))
    return out
