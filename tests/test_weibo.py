"""Weibo parser special cases: display-text counts, times, HTML text, account input, failures."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from records import Failure, FailureKind, PostPage, Profile
from spiders.pages.payload import parse_created_at
from spiders.pages.weibo import html_text, normalize_account, parse
from spiders.weibo import WeiboSpider, configured_cookie
from tests.helpers import make_spider

INDEX = "https://m.weibo.cn/api/container/getIndex?type=uid&value=5876543210"


def _index(followers: object) -> bytes:
    return json.dumps({"ok": 1, "data": {"userInfo": {"id": 5876543210, "followers_count": followers}}}).encode()


@pytest.mark.parametrize(("raw", "value", "approximate"), [
    (63357736, 63357736, []), ("87万", 870_000, ["followers"]), ("1533.6万", 15_336_000, ["followers"]),
    ("63357736", 63357736, []),
])
def test_followers_count_integer_or_display_text(raw: object, value: int, approximate: list[str]) -> None:
    profile = parse(_index(raw), INDEX)
    assert isinstance(profile, Profile)
    assert profile.followers == value
    assert list(profile.approximate) == approximate


def test_missing_counts_stay_unread() -> None:
    profile = parse(_index(None), INDEX)
    assert isinstance(profile, Profile)
    assert (profile.followers, profile.following, profile.posts) == (None, None, None)


@pytest.mark.parametrize(("text", "expected"), [
    ("Tue Oct 29 20:15:00 +0800 2019", datetime(2019, 10, 29, 12, 15, tzinfo=timezone.utc)),
    ("5分钟前", None), ("昨天 12:00", None), ("刚刚", None), ("06-14", None), ("2019-06-14", None), (None, None),
    ("Tue Feb 30 20:15:00 +0800 2019", None),
])
def test_only_absolute_times_are_read(text: str | None, expected: datetime | None) -> None:
    assert parse_created_at(text) == expected


def test_post_html_becomes_text_with_emoticon_names() -> None:
    html = '好<span class="url-icon"><img alt=[偷笑] src="x.png" /></span><br />看<a href="/n/a">@某品牌</a>'
    assert html_text(html) == "好[偷笑]\n看@某品牌"


@pytest.mark.parametrize("text", [
    "1669879400", "https://weibo.com/u/1669879400", "weibo.com/1669879400", "https://m.weibo.cn/u/1669879400",
    "https://m.weibo.cn/profile/1669879400", "https://m.weibo.cn/u/1669879400?uid=1669879400&luicode=10000011",
])
def test_account_inputs(text: str) -> None:
    assert normalize_account(text).platform_user_id == "1669879400"


@pytest.mark.parametrize("text", ["https://weibo.com/n/迪丽热巴", "dilireba", "https://example.com/u/1669879400"])
def test_unresolvable_accounts_say_what_to_paste(text: str) -> None:
    with pytest.raises(ValueError, match="numeric uid"):
        normalize_account(text)


@pytest.mark.parametrize(("payload", "status", "kind"), [
    (b'{"ok":-100,"url":"https://m.weibo.cn/api/geetest?testType=1"}', 200, FailureKind.CAPTCHA),
    ('{"ok":0,"msg":"这里还没有内容"}'.encode(), 200, FailureKind.NOT_FOUND),
    (b"", 418, FailureKind.BLOCKED), (b"", 432, FailureKind.BLOCKED), (b"", 403, FailureKind.BLOCKED),
    (b"", 200, FailureKind.UNRECOGNIZED), (b"[1,2]", 200, FailureKind.UNRECOGNIZED),
    (b'{"ok":1,"data":{"userInfo":"x"}}', 200, FailureKind.UNRECOGNIZED),
    (b'{"data":{}}', 200, FailureKind.UNRECOGNIZED),
])
def test_failures_are_typed(payload: bytes, status: int, kind: FailureKind) -> None:
    result = parse(payload, INDEX, status)
    assert isinstance(result, Failure) and result.kind == kind


def test_post_page_dispatch_without_url() -> None:
    payload = json.dumps({"ok": 1, "data": {"cards": [{"card_type": 9, "mblog": {"id": "1", "attitudes_count": 0}}]}}).encode()
    page = parse(payload, None)
    assert isinstance(page, PostPage)
    assert page.posts[0].likes == 0  # a zero the platform said is kept


def test_cookie_from_file_must_be_owner_only(tmp_path) -> None:
    secret = tmp_path / "weibo.cookie"
    secret.write_text("SUB=abc\n")
    secret.chmod(0o600)
    assert configured_cookie({"WANGZI_WEIBO_COOKIE_FILE": str(secret)}) == "SUB=abc"
    secret.chmod(0o644)
    with pytest.raises(Exception, match="chmod 600"):
        configured_cookie({"WANGZI_WEIBO_COOKIE_FILE": str(secret)})


def test_spider_chain_pages_posts_and_adds_weibo_com_only_with_a_cookie(monkeypatch: pytest.MonkeyPatch) -> None:
    from records import AccountRef

    monkeypatch.delenv("WANGZI_WEIBO_COOKIE", raising=False)
    monkeypatch.delenv("WANGZI_WEIBO_COOKIE_FILE", raising=False)
    names = [s.name for s in make_spider(WeiboSpider).sources(AccountRef(platform="weibo", platform_user_id="1669879400"))]
    assert names == ["weibo.user_index", "weibo.info_container", "weibo.posts", "weibo.posts"]
    monkeypatch.setenv("WANGZI_WEIBO_COOKIE", "SUB=x")
    names = [s.name for s in make_spider(WeiboSpider).sources(AccountRef(platform="weibo", platform_user_id="1669879400"))]
    assert names[:2] == ["weibo.ajax_profile_info", "weibo.ajax_profile_detail"]


def test_python_repr_dump_is_named_not_parsed() -> None:
    result = parse(b"{'ok': -100, 'url': 'https://m.weibo.cn/api/geetest'}", INDEX)
    assert isinstance(result, Failure) and result.kind == FailureKind.UNRECOGNIZED
    assert "Python repr" in result.detail
