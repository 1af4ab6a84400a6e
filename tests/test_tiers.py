"""Follower tiers: one function both the ranking and the growth detector read."""

from __future__ import annotations

import pytest

from enrichment.tiers import TIERS, follower_tier


@pytest.mark.parametrize(("followers", "tier"), [
    (0, "nano"), (9_999, "nano"), (10_000, "micro"), (99_999, "micro"), (100_000, "mid"), (499_999, "mid"),
    (500_000, "macro"), (1_000_000, "macro"), (1_000_001, "mega"), (50_000_000, "mega"),
])
def test_each_bound_belongs_to_the_tier_above_except_a_million_which_is_still_macro(followers: int, tier: str) -> None:
    assert follower_tier(followers) == tier


def test_tiers_are_listed_smallest_first() -> None:
    assert TIERS == ("nano", "micro", "mid", "macro", "mega")
