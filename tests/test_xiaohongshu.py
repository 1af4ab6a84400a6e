"""Xiaohongshu: accounts, the page state reader, API failure codes and the spider's requests.

The fixture folders (tests/fixtures/xiaohongshu/) pin whole outputs; these tests pin the
rules behind them. The ReaJason sample's basic_info values are the upstream author's
placeholders ("nickname", "ip_location"), so only its counts are evidence.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from records import Failure, FailureKind, Profile
from spiders import xiaohongshu as xhs
from spiders.credentials import InsecureSecretsFile
from spiders.pages import xiaohongshu as page
from spiders.pages.parsing import limit_posts
from spiders.pages.registry import normalize_account
from spiders.playwright_spider import abort_unneeded_requests
from tests.helpers import make_spider

FIXTURES = Path(__file__).parent / "fixtures" / "xiaohongshu"
UID = "5a1b2c3d4e5f60718293a4b5"
PAGE = (FIXTURES / "profile_page_synthetic" / "response.html").read_bytes()


# --------------------------------------------------------------------------- accounts


@pytest.mark.parametrize(
    "text",
    [
        UID,
        UID.upper(),
        f"https://www.xiaohongshu.com/user/profile/{UID}",
        f"https://www.xiaohongshu.com/user/profile/{UID}?xsec_token=AB%3D&xsec_source=pc_note",
        f"www.xiaohongshu.com/user/profile/{UID}/",
        f"xiaohongshu.com/user/profile/{UID}#notes",
    ],
)
def test_user_ids_and_profile_urls_become_the_24_hex_id(text: str) -> None:
    account = normalize_account("xiaohongshu", text)
    assert account.platform == "xiaohongshu"
    assert account.platform_user_id == UID
    assert account.handle is None


def test_short_links_ask_for_the_full_profile_url() -> None:
    with pytest.raises(ValueError, match="short link.*full profile URL"):
        normalize_account("xiaohongshu", "http://xhslink.com/a/AbCdEf123")


@pytest.mark.parametrize("text", ["95412345", "Xx11_08", "@lena"])
def test_a_red_id_alone_is_refused_with_what_to_paste(text: str) -> None:
    with pytest.raises(ValueError, match="red_id.*profile URL"):
        normalize_account("xiaohongshu", text)


@pytest.mark.parametrize(
    "text", ["https://www.xiaohongshu.com/explore/6740a1b2000000000c01d2e3", "https://www.xiaohongshu.com/user/profile/123"]
)
def test_other_xiaohongshu_urls_are_not_profiles(text: str) -> None:
    with pytest.raises(ValueError, match="not a Xiaohongshu profile URL"):
        normalize_account("xiaohongshu", text)


# --------------------------------------------------------------------------- page state


def test_undefined_is_replaced_outside_strings_only() -> None:
    html = (
        '<script>window.__INITIAL_STATE__={"a":undefined,"b":"undefined text","c":[undefined,1],'
        '"d":"say \\"undefined\\"","e":true};</script>'
    )
    assert page.initial_state(html) == {
        "a": None, "b": "undefined text", "c": [None, 1], "d": 'say "undefined"', "e": True,
    }


def test_the_first_readable_state_assignment_wins() -> None:
    html = ('<script>window.__INITIAL_STATE__=window.__INITIAL_STATE__||{}</script>'
            '<script>window.__INITIAL_STATE__={"user":{"n":1}}</script>')
    assert page.initial_state(html) == {"user": {"n": 1}}


def test_a_page_without_or_with_broken_state_is_unrecognized() -> None:
    assert page.initial_state("<html></html>") is None
    assert page.initial_state("<script>window.__INITIAL_STATE__={\"a\":</script>") is None
    result = page.parse(b"<html><body>hi</body></html>", f"https://www.xiaohongshu.com/user/profile/{UID}")
    assert isinstance(result, Failure) and result.kind is FailureKind.UNRECOGNIZED


def test_profile_page_reads_counts_place_and_only_the_users_own_notes() -> None:
    profile = page.parse(PAGE, f"https://www.xiaohongshu.com/user/profile/{UID}")
    assert isinstance(profile, Profile)
    assert (profile.followers, profile.following, profile.likes) == (100_000, 215, 12_000)
    assert profile.lower_bound == ("followers",)  # "10万+"
    assert set(profile.approximate) == {"followers", "likes"}  # "1.2万"
    assert profile.posts is None  # the page shows no note count: never 0
    assert (profile.ip_location, profile.country, profile.location) == ("美国", "US", "美国纽约")
    ids = [post.post_id for post in profile.recent_posts]
    assert ids == ["6740a1b2000000000c01d2e3", "6731f0c4000000001a03b4c5", "6722e0d5000000001b02a3b6"]
    assert "66f0a0a0000000001c000001" not in ids  # the "liked" tab holds other people's notes
    video = profile.recent_posts[1]
    assert (video.kind, video.likes, video.approximate) == ("video", 15_000, ("likes",))
    assert profile.recent_posts[2].likes is None  # likedCount: undefined


def test_vue_ref_wrapped_state_is_unwrapped() -> None:
    state = {
        "user": {
            "userPageData": {"_value": {"basicInfo": {"nickname": "n", "ipLocation": "IP属地：日本"},
                                        "interactions": [{"type": "fans", "count": "42"}]}},
            "notes": {"_value": [[{"id": "6740a1b2000000000c01d2e3", "noteCard": {"displayTitle": "t"}}]]},
        }
    }
    html = f"<script>window.__INITIAL_STATE__={json.dumps(state)}</script>".encode()
    profile = page.parse(html, f"https://www.xiaohongshu.com/user/profile/{UID}")
    assert isinstance(profile, Profile)
    assert (profile.display_name, profile.followers, profile.ip_location, profile.country) == ("n", 42, "日本", "JP")
    assert [p.title for p in profile.recent_posts] == ["t"]


def test_state_without_user_data_is_unrecognized_or_not_found_when_the_page_says_so() -> None:
    empty = b'<script>window.__INITIAL_STATE__={"user":{"userPageData":{}}}</script>'
    assert page.parse(empty, f"https://www.xiaohongshu.com/user/profile/{UID}").kind is FailureKind.UNRECOGNIZED
    gone = empty + "<div>用户不存在</div>".encode()
    assert page.parse(gone, f"https://www.xiaohongshu.com/user/profile/{UID}").kind is FailureKind.NOT_FOUND


def test_payload_shape_picks_the_parser_when_no_url_is_given() -> None:
    assert isinstance(page.parse(PAGE), Profile)
    otherinfo = (FIXTURES / "otherinfo_submato" / "response.json").read_bytes()
    assert page.parse(otherinfo).display_name == "我要去捉鱼"
    search = (FIXTURES / "usersearch_by_red_id" / "response.json").read_bytes()
    assert page.parse(search).kind is FailureKind.UNRECOGNIZED  # two users, no keyword
    assert page.parse(b"").kind is FailureKind.UNRECOGNIZED
    assert page.parse(b"[1, 2]").kind is FailureKind.UNRECOGNIZED


# --------------------------------------------------------------------------- API failures


API = f"https://edith.xiaohongshu.com/api/sns/web/v1/user/otherinfo?target_user_id={UID}"


@pytest.mark.parametrize(
    ("code", "msg", "kind"),
    [
        (300012, "IP存在风险，请切换可靠网络环境后重试", FailureKind.BLOCKED),
        (300011, "当前账号存在异常，请切换账号后重试", FailureKind.BLOCKED),
        (300015, "浏览器异常，请尝试关闭/卸载风险插件或重启试试！", FailureKind.BLOCKED),
        (300013, "访问频次异常，请勿频繁操作或重启试试", FailureKind.RATE_LIMITED),
        (-100, "登录已过期", FailureKind.LOGIN_REQUIRED),
        (-101, "无登录信息", FailureKind.LOGIN_REQUIRED),
        (-510001, "当前内容无法展示", FailureKind.NOT_FOUND),
        (-1, "用户不存在", FailureKind.NOT_FOUND),
        (-1, "something new", FailureKind.UNRECOGNIZED),
    ],
)
def test_api_codes_become_typed_failures(code: int, msg: str, kind: FailureKind) -> None:
    payload = json.dumps({"code": code, "success": False, "msg": msg, "data": {}}, ensure_ascii=False).encode()
    result = page.parse(payload, API, 200)
    assert isinstance(result, Failure)
    assert result.kind is kind
    assert str(code) in result.detail


@pytest.mark.parametrize(("status", "kind"), [(461, FailureKind.BLOCKED), (471, FailureKind.BLOCKED),
                                              (429, FailureKind.RATE_LIMITED), (404, FailureKind.NOT_FOUND),
                                              (500, FailureKind.HTTP_ERROR)])
def test_statuses_win_over_any_body(status: int, kind: FailureKind) -> None:
    assert page.parse(PAGE, f"https://www.xiaohongshu.com/user/profile/{UID}", status).kind is kind


def test_the_final_url_says_login_or_captcha_whatever_the_body() -> None:
    login = page.parse(PAGE, "https://www.xiaohongshu.com/login?redirectPath=x", 200)
    assert login.kind is FailureKind.LOGIN_REQUIRED
    captcha = page.parse(PAGE, "https://www.xiaohongshu.com/website-login/captcha?verifyType=124", 200)
    assert captcha.kind is FailureKind.CAPTCHA


def test_interaction_counts_are_none_when_absent_never_zero() -> None:
    payload = json.dumps({"code": 0, "success": True, "data": {"basic_info": {"nickname": "x"},
                                                               "interactions": [{"type": "fans", "count": ""}]}}).encode()
    profile = page.parse(payload, API)
    assert isinstance(profile, Profile)
    assert (profile.followers, profile.following, profile.likes) == (None, None, None)
    assert profile.platform_user_id == UID


# --------------------------------------------------------------------------- configuration and spider


def test_cookie_comes_from_environment_or_an_owner_only_file(tmp_path: Path) -> None:
    assert xhs.configured_cookie({}) is None
    assert xhs.configured_cookie({"WANGZI_XIAOHONGSHU_COOKIE": " a1=x; web_session=y "}) == "a1=x; web_session=y"
    file = tmp_path / "xhs.cookie"
    file.write_text("web_session=from-file\n", encoding="utf-8")
    os.chmod(file, 0o600)
    assert xhs.configured_cookie({"WANGZI_XIAOHONGSHU_COOKIE_FILE": str(file)}) == "web_session=from-file"
    os.chmod(file, 0o644)
    with pytest.raises(InsecureSecretsFile):
        xhs.configured_cookie({"WANGZI_XIAOHONGSHU_COOKIE_FILE": str(file)})
    assert xhs.cookie_dict("a1=x; web_session=y=z; junk") == {"a1": "x", "web_session": "y=z"}


def test_spider_opens_the_profile_page_in_chromium_and_closes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANGZI_XIAOHONGSHU_COOKIE", raising=False)
    monkeypatch.delenv("WANGZI_XIAOHONGSHU_COOKIE_FILE", raising=False)
    spider = make_spider(xhs.XiaohongshuSpider, targets=[])
    (source,) = spider.sources(normalize_account("xiaohongshu", UID))
    assert source.url == f"https://www.xiaohongshu.com/user/profile/{UID}"
    assert source.meta["playwright"] is True
    assert source.meta["playwright_include_page"] is False  # scrapy-playwright closes the page
    assert source.cookies is None
    # The spider's parser checks status and final URL before reading the page.
    assert source.parser(PAGE, source.url, 471).kind is FailureKind.BLOCKED
    assert source.parser(PAGE, "https://www.xiaohongshu.com/website-login/error?x=1", 200).kind is FailureKind.LOGIN_REQUIRED
    assert spider.sources(xhs.AccountRef(platform="xiaohongshu", handle="95412345")) == []


def test_spider_sends_a_configured_cookie_and_limits_posts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANGZI_XIAOHONGSHU_COOKIE", "web_session=abc123456")
    spider = make_spider(xhs.XiaohongshuSpider, targets=[])
    (source,) = spider.sources(normalize_account("xiaohongshu", UID))
    assert source.cookies == {"web_session": "abc123456"}
    limited = limit_posts(page.parse_profile_page, 2)(PAGE, source.url, 200)
    assert [p.post_id for p in limited.recent_posts] == ["6740a1b2000000000c01d2e3", "6731f0c4000000001a03b4c5"]


def test_an_unreadable_cookie_file_is_reported_and_the_crawl_goes_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    file = tmp_path / "xhs.cookie"
    file.write_text("web_session=secretvalue123", encoding="utf-8")
    os.chmod(file, 0o644)
    monkeypatch.delenv("WANGZI_XIAOHONGSHU_COOKIE", raising=False)
    monkeypatch.setenv("WANGZI_XIAOHONGSHU_COOKIE_FILE", str(file))
    spider = make_spider(xhs.XiaohongshuSpider, targets=[])
    (source,) = spider.sources(normalize_account("xiaohongshu", UID))
    assert source.cookies is None
    assert "chmod 600" in caplog.text
    assert "secretvalue123" not in caplog.text


def test_only_heavy_resources_are_aborted() -> None:
    class Request:
        def __init__(self, resource_type: str) -> None:
            self.resource_type = resource_type

    assert abort_unneeded_requests(Request("image"))
    assert abort_unneeded_requests(Request("stylesheet"))
    assert not abort_unneeded_requests(Request("document"))
    assert not abort_unneeded_requests(Request("script"))
    assert not abort_unneeded_requests(Request("xhr"))
