"""Taobao Live and Youku rendered-page readers: labelled numbers only, never a guess."""

from __future__ import annotations

import pytest

from records import Failure, FailureKind, Profile
from spiders.pages import taobao_live, youku

YOUKU = "https://www.youku.com/profile/index?uid=UMTIzNDU2Nzg5MA=="
TAOBAO = "https://huodong.m.taobao.com/act/talent/live.html?id=2200123456789"


@pytest.mark.parametrize(("html", "followers", "approximate"), [
    ("<div>粉丝 1.2万</div>", 12_000, ("followers",)),
    ("<div>粉丝：345</div>", 345, ()),
    ("<div>1,234粉丝</div>", 1234, ()),
    ("<div><b>10万+</b><i>粉丝</i></div>", 100_000, ("followers",)),
    ("<div><i>粉丝</i><b>3亿</b></div>", 300_000_000, ("followers",)),
])
def test_number_beside_its_label(html: str, followers: int, approximate: tuple[str, ...]) -> None:
    profile = youku.parse(f"<html><body>{html}</body></html>".encode(), YOUKU)
    assert isinstance(profile, Profile)
    assert (profile.followers, profile.approximate) == (followers, approximate)


def test_lower_bound_is_marked() -> None:
    profile = taobao_live.parse("<html><div><b>10万+</b><i>粉丝</i></div></html>".encode(), TAOBAO)
    assert isinstance(profile, Profile) and profile.lower_bound == ("followers",)


@pytest.mark.parametrize("html", [
    "<p>粉丝很多</p>",  # a label without a number
    "<p>她有1.2万粉丝和很多视频，欢迎关注</p>",  # a sentence, not a labelled number
    "<div><span>12</span><span>粉丝</span></div><div><span>13</span><span>粉丝</span></div>",  # ambiguous
    "<p>关注 12</p>",  # no followers count
])
def test_unlabelled_or_ambiguous_pages_are_unrecognized(html: str) -> None:
    for module, url in ((youku, YOUKU), (taobao_live, TAOBAO)):
        result = module.parse(f"<html><body>{html}</body></html>".encode(), url)
        assert isinstance(result, Failure) and result.kind == FailureKind.UNRECOGNIZED, (module.__name__, html)


def test_other_counts_stay_unread() -> None:
    profile = taobao_live.parse("<html><div>粉丝 7</div></html>".encode(), TAOBAO)
    assert isinstance(profile, Profile)
    assert (profile.followers, profile.following, profile.likes, profile.posts) == (7, None, None, None)


@pytest.mark.parametrize(("module", "text", "expected"), [
    (youku, "UMTIzNDU2Nzg5MA==", "UMTIzNDU2Nzg5MA=="),
    (youku, YOUKU, "UMTIzNDU2Nzg5MA=="),
    (youku, "https://i.youku.com/i/UMTIzNDU2Nzg5MA==", "UMTIzNDU2Nzg5MA=="),
    (taobao_live, "2200123456789", "2200123456789"),
    (taobao_live, TAOBAO, "2200123456789"),
    (taobao_live, "https://taobaolive.taobao.com/room/index.htm?userId=2200123456789", "2200123456789"),
])
def test_account_inputs(module, text: str, expected: str) -> None:
    assert module.normalize_account(text).platform_user_id == expected


@pytest.mark.parametrize(("module", "text"), [
    (youku, "小林的日本生活"), (taobao_live, "https://m.tb.cn/h.abc"), (taobao_live, "https://item.taobao.com/item.htm?id=123456789"),
])
def test_other_inputs_are_refused(module, text: str) -> None:
    with pytest.raises(ValueError):
        module.normalize_account(text)


def test_http_errors_are_typed() -> None:
    assert youku.parse(b"", YOUKU, 404).kind == FailureKind.NOT_FOUND
    assert taobao_live.parse(b"", TAOBAO, 403).kind == FailureKind.BLOCKED
    assert taobao_live.parse(b"garbage", TAOBAO).kind == FailureKind.UNRECOGNIZED
