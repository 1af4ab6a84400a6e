"""Follower growth over 7, 30 and 90 days, per platform and in total.

Growth compares real snapshots only: the end is the newest snapshot with a follower count at
or before ``as_of`` (inside the window), the base the nearest one at or before the window
start, never interpolated, and NULL when that base is more than one window older than the
start (a gap longer than the window) or missing.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from enrichment.features.rows import PLATFORMS, SnapshotRow, snapshots_by_account, utc

GROWTH_WINDOWS = (7, 30, 90)


@dataclass(frozen=True)
class Growth:
    absolute: int
    relative: float | None
    base_followers: int
    base_at: datetime
    end_at: datetime
    approximate: bool


def account_growth(rows: Sequence[SnapshotRow], as_of: datetime, days: int) -> Growth | None:
    """Follower change over the ``days`` before ``as_of`` for one account's history.

    End: the newest snapshot with a follower count at or before ``as_of``; it must fall
    inside the window. Base: the nearest snapshot at or before the window start; it may
    be at most one window older than the start (no bridging of longer gaps). Otherwise None.
    """
    counted = sorted((r for r in rows if r.followers is not None and utc(r.captured_at) <= as_of),
                     key=lambda r: (utc(r.captured_at), r.id or 0))
    return _growth(counted, [utc(r.captured_at) for r in counted], as_of, days)


def _growth(counted: Sequence[SnapshotRow], times: Sequence[datetime], as_of: datetime, days: int) -> Growth | None:
    """account_growth over rows already filtered (followers known, <= as_of) and sorted by time."""
    if not counted:
        return None
    start = as_of - timedelta(days=days)
    end = counted[-1]
    if times[-1] <= start:
        return None
    position = bisect.bisect_right(times, start) - 1
    if position < 0 or start - times[position] > timedelta(days=days):
        return None
    base = counted[position]
    base_value, end_value = int(base.followers), int(end.followers)  # type: ignore[arg-type]
    absolute = end_value - base_value
    return Growth(absolute, absolute / base_value if base_value else None, base_value,
                  times[position], times[-1], end.rounded or base.rounded)


def growth_features(snapshots: Sequence[SnapshotRow], as_of: datetime, windows: Sequence[int] = GROWTH_WINDOWS,
                    *, grouped: Mapping[int, list[SnapshotRow]] | None = None) -> dict[str, Any]:
    """Absolute and relative follower change per platform and in total for each window.

    A platform with several accounts has growth only when every one of them has it. The
    total sums the platforms that have growth (``growth_<N>d_platforms`` says how many).
    """
    by_account = grouped if grouped is not None else snapshots_by_account(snapshots, as_of)
    histories = []
    for rows in by_account.values():
        counted = [r for r in rows if r.followers is not None]
        histories.append((rows[-1].platform, counted, [utc(r.captured_at) for r in counted]))
    out: dict[str, Any] = {}
    for days in windows:
        per_platform: dict[str, list[Growth | None]] = defaultdict(list)
        for platform, counted, times in histories:
            per_platform[platform].append(_growth(counted, times, as_of, days))
        total_abs, total_base, approximate, platforms = 0, 0, False, 0
        for platform in PLATFORMS:
            found = per_platform.get(platform)
            growths = [g for g in found or [] if g is not None]
            if not found or len(growths) != len(found):
                out[f"growth_{days}d_{platform}_abs"] = None
                out[f"growth_{days}d_{platform}_rel"] = None
                continue
            absolute = sum(g.absolute for g in growths)
            base = sum(g.base_followers for g in growths)
            out[f"growth_{days}d_{platform}_abs"] = absolute
            out[f"growth_{days}d_{platform}_rel"] = absolute / base if base else None
            total_abs += absolute
            total_base += base
            approximate = approximate or any(g.approximate for g in growths)
            platforms += 1
        out[f"growth_{days}d_abs"] = total_abs if platforms else None
        out[f"growth_{days}d_rel"] = total_abs / total_base if platforms and total_base else None
        out[f"growth_{days}d_platforms"] = platforms
        out[f"growth_{days}d_approximate"] = approximate if platforms else None
    return out
