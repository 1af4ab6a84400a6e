"""Follower tiers: nano, micro, mid, macro, mega — the one place their bounds are written.

The ranking (tiers shown next to a candidate, scores compared within a tier) and the
suspicious-growth detector (:mod:`enrichment.features.authenticity`, which scales a day's
follower change by what is usual for accounts of that size) both read them from here.

| tier | followers |
|---|---|
| nano | < 10,000 |
| micro | 10,000 – 99,999 |
| mid | 100,000 – 499,999 |
| macro | 500,000 – 1,000,000 |
| mega | > 1,000,000 |

Each bound belongs to the tier above it (10,000 is micro, 100,000 mid, 500,000 macro), except
1,000,000 itself, which is still macro: "mega" is *more than* a million.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

#: Tier names, smallest first.
TIERS: tuple[str, ...] = ("nano", "micro", "mid", "macro", "mega")

#: The lowest follower count of each tier above nano (mega starts above 1,000,000).
_MICRO, _MID, _MACRO, _MEGA_ABOVE = 10_000, 100_000, 500_000, 1_000_000


def follower_tier(followers: int | float) -> str:
    """The tier of an account (or a candidate) with this many followers.

    >>> [follower_tier(n) for n in (0, 9_999, 10_000, 100_000, 500_000, 1_000_000, 1_000_001)]
    ['nano', 'nano', 'micro', 'mid', 'macro', 'macro', 'mega']
    """
    if followers < _MICRO:
        return "nano"
    if followers < _MID:
        return "micro"
    if followers < _MACRO:
        return "mid"
    if followers <= _MEGA_ABOVE:
        return "macro"
    return "mega"


#: The same bounds as the lowest follower count of micro, mid, macro and mega, in that order
#: ("a tier starts at its edge"; mega starts at 1,000,001). ``[tiers]`` of the weights file
#: (``enrichment/data/weights.toml``) may replace them, for every platform or for one.
TIER_EDGES: tuple[int, ...] = (_MICRO, _MID, _MACRO, _MEGA_ABOVE + 1)


def tier_at(followers: int | float, edges: Sequence[float] = TIER_EDGES) -> str:
    """The tier of this many followers for a list of edges (each the lowest count of the next
    tier up); with the default edges the same as :func:`follower_tier`."""
    return TIERS[bisect.bisect_right(edges, followers)]
