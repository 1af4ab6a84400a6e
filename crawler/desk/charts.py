"""Follower series for the desk's charts (drawn in the browser by uPlot, ``static/desk.js``).

A series is what was read, nothing in between: each point is a snapshot's (time, followers).
Where the history has a hole - two consecutive snapshots further apart than 1.5 times the
series' usual spacing (its median interval) and more than 36 hours - a ``null`` is put in the
middle, which uPlot draws as a break in the line: a gap is shown as a gap, never
interpolated. (Points the browser aligns from other series are ``undefined`` there and are
spanned over; only these nulls break a line.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from statistics import median
from typing import Any

#: Shortest hole drawn as a gap, in seconds.
MIN_GAP = 36 * 3600


def with_gaps(points: Sequence[tuple[datetime, int | None]]) -> list[list[Any]]:
    """``[[unix seconds, followers or None], ...]``, oldest first, with a ``None`` in each hole."""
    ordered = sorted(((t.timestamp(), v) for t, v in points), key=lambda p: p[0])
    if len(ordered) < 3:
        return [[round(t), v] for t, v in ordered]
    steps = [b[0] - a[0] for a, b in zip(ordered, ordered[1:]) if b[0] > a[0]]
    usual = median(steps) if steps else 0.0
    threshold = max(1.5 * usual, MIN_GAP)
    out: list[list[Any]] = [[round(ordered[0][0]), ordered[0][1]]]
    for (t0, _), (t1, v1) in zip(ordered, ordered[1:]):
        if t1 - t0 > threshold:
            out.append([round((t0 + t1) / 2), None])
        out.append([round(t1), v1])
    return out


def gap_count(series: list[list[Any]]) -> int:
    return sum(1 for _, value in series if value is None)


def chart_document(series: Sequence[tuple[str, Sequence[tuple[datetime, int | None]]]], *, log: bool = False,
                   title: str = "") -> dict[str, Any]:
    """What a chart element's JSON holds: labelled series with their gaps, and the y scale."""
    return {"title": title, "log": log,
            "series": [{"label": label, "points": with_gaps(points)} for label, points in series if points]}
