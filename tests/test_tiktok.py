"""TikTok: account input, exact-over-rounded counts, and the plain-then-browser chain."""

from __future__ import annotations

import json

import pytest

from crawler.items import AccountRef, Failure, FailureKind, Profile
from spiders.tiktok import TikTokSpider, normalize_account, parse


@pytest.mark.parametrize(
    ("text", "handle"),
    [("@zg.520", "zg.520"), ("Zg.520", "zg.520"), ("https://www.tiktok.com/@zg.520", "zg.520"),
     ("tiktok.com/@zg.520/video/123", "zg.520"), ("https://m.tiktok.com/@odd_animal", "odd_animal")],
)
def test_accepted_account_forms(text: str, handle: str) -> None:
    assert normalize_account(text) == AccountRef(platform="tiktok", handle=handle)


@pytest.mark.parametrize("text", ["", "@", "https://www.tiktok.com/video/123", "https://x.com/@a", "a b"])
def test_rejected_account_forms(text: str) -> None:
    with pytest.raises(ValueError, match="TikTok"):
        normalize_account(text)


def _api(stats: dict | None, stats_v2: dict | None) -> bytes:
    info: dict = {"user": {"id": "1", "uniqueId": "Someone", "nickname": "S"}}
    if stats is not None:
        info["stats"] = stats
    if stats_v2 is not None:
        info["statsV2"] = stats_v2
    return json.dumps({"statusCode": 0, "userInfo": info}).encode()


def test_exact_stats_v2_win_over_rounded_stats() -> None:
    profile = parse(_api({"followerCount": 427700, "heartCount": 6800000}, {"followerCount": "427682", "heartCount": "6764096"}),
                    "https://www.tiktok.com/api/user/detail/?uniqueId=someone")
    assert (profile.followers, profile.likes, profile.approximate, profile.handle) == (427_682, 6_764_096, (), "someone")


def test_rounded_stats_alone_are_marked_approximate_from_one_thousand() -> None:
    profile = parse(_api({"followerCount": 2600000, "followingCount": 6, "videoCount": 124, "heart": 44600000}, None),
                    "https://www.tiktok.com/api/user/detail/?uniqueId=someone")
    assert isinstance(profile, Profile)
    assert (profile.followers, profile.following, profile.posts, profile.likes) == (2_600_000, 6, 124, 44_600_000)
    assert profile.approximate == ("followers", "likes")


def test_missing_counts_stay_none() -> None:
    profile = parse(_api(None, None), "https://www.tiktok.com/api/user/detail/?uniqueId=someone")
    assert (profile.followers, profile.following, profile.posts, profile.likes) == (None, None, None, None)


def test_rehydration_without_user_detail_is_blocked() -> None:
    page = b'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{"__DEFAULT_SCOPE__": {}}</script>'
    result = parse(page, "https://www.tiktok.com/@someone")
    assert isinstance(result, Failure) and result.kind is FailureKind.BLOCKED


def test_plain_page_first_then_the_browser() -> None:
    chain = TikTokSpider().sources(AccountRef("tiktok", handle="zg.520"))
    assert [s.url for s in chain] == ["https://www.tiktok.com/@zg.520"] * 2
    assert "playwright" not in chain[0].meta and chain[1].meta["playwright"] is True
