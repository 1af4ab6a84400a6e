"""Douyin parser special cases: RENDER_DATA search, status codes, account input, post counts."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from records import Failure, FailureKind, PostPage, Profile
from spiders.pages.douyin import normalize_account, parse, render_data

SEC = "MS4wLjABAAAAsyntheticLenaNY_0123456789abcdefGHIJ"
PAGE = f"https://www.douyin.com/user/{SEC}"
API = f"https://www.douyin.com/aweme/v1/web/user/profile/other/?sec_user_id={SEC}"


def _page(store: object) -> bytes:
    return f'<html><script id="RENDER_DATA" type="application/json">{quote(json.dumps(store))}</script></html>'.encode()


def test_render_data_is_url_decoded_json() -> None:
    assert render_data(_page({"a": {"b": 1}}).decode()) == {"a": {"b": 1}}


def test_user_object_is_found_under_any_store_key() -> None:
    store = {"app": {}, "73": {"user": {"statusCode": 0, "user": {"secUid": SEC, "followerCount": "1.2万"}}}}
    profile = parse(_page(store), PAGE)
    assert isinstance(profile, Profile)
    assert (profile.followers, profile.approximate, profile.likes) == (12_000, ("followers",), None)


def test_render_data_status_code_is_a_failure() -> None:
    store = {"41": {"user": {"statusCode": 2053, "statusMsg": "用户不存在", "user": {"secUid": SEC, "nickname": ""}}}}
    result = parse(_page(store), PAGE)
    assert isinstance(result, Failure) and result.kind == FailureKind.NOT_FOUND


@pytest.mark.parametrize(("document", "kind"), [
    ({"status_code": 5, "status_msg": "请先登录"}, FailureKind.LOGIN_REQUIRED),
    ({"status_code": 5, "status_msg": "操作太频繁，请稍后再试"}, FailureKind.RATE_LIMITED),
    ({"status_code": 0}, FailureKind.UNRECOGNIZED),
    ({"status_code": 0, "user": {}}, FailureKind.UNRECOGNIZED),
])
def test_api_failures_are_typed(document: dict, kind: FailureKind) -> None:
    result = parse(json.dumps(document, ensure_ascii=False).encode(), API)
    assert isinstance(result, Failure) and result.kind == kind


def test_play_count_zero_is_not_read_but_other_zeros_are() -> None:
    document = {"status_code": 0, "aweme_list": [{"aweme_id": "7301", "create_time": 1700000000,
                "statistics": {"digg_count": 0, "comment_count": 3, "share_count": 1, "play_count": 0}}]}
    page = parse(json.dumps(document).encode(), f"https://www.douyin.com/aweme/v1/web/aweme/post/?sec_user_id={SEC}")
    assert isinstance(page, PostPage)
    (post,) = page.posts
    assert (post.likes, post.comments, post.views) == (0, 3, None)
    assert post.published_at is not None and post.published_at.year == 2023


def test_missing_counts_stay_unread() -> None:
    profile = parse(json.dumps({"status_code": 0, "user": {"sec_uid": SEC, "nickname": "x"}}).encode(), API)
    assert isinstance(profile, Profile)
    assert (profile.followers, profile.following, profile.posts, profile.likes, profile.verified) == (None,) * 5


@pytest.mark.parametrize("text", [SEC, PAGE, f"{PAGE}?vid=7206519665021996303", f"douyin.com/user/{SEC}"])
def test_account_inputs(text: str) -> None:
    assert normalize_account(text).platform_user_id == SEC


def test_short_links_ask_for_the_full_url() -> None:
    with pytest.raises(ValueError, match="paste the full profile URL"):
        normalize_account("https://v.douyin.com/JMEYBmB/")


@pytest.mark.parametrize("text", ["lena_ny", "https://www.douyin.com/video/7301234567890123456"])
def test_other_inputs_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        normalize_account(text)


@pytest.mark.parametrize(("fields", "verified", "reason"), [
    ({"custom_verify": "时尚博主", "enterprise_verify_reason": ""}, True, "时尚博主"),
    ({"custom_verify": "", "enterprise_verify_reason": "央视新闻官方抖音号"}, True, "央视新闻官方抖音号"),
    ({"custom_verify": "", "enterprise_verify_reason": ""}, False, None),
    ({"custom_verify": ""}, False, None),
    ({}, None, None),
    ({"custom_verify": None, "verification_type": 0}, None, None),
])
def test_verification_is_false_only_when_the_answer_says_so(fields: dict, verified: bool | None, reason: str | None) -> None:
    profile = parse(json.dumps({"status_code": 0, "user": {"sec_uid": SEC, "nickname": "x", **fields}},
                               ensure_ascii=False).encode(), API)
    assert isinstance(profile, Profile)
    assert (profile.verified, profile.verified_reason) == (verified, reason)


def test_both_ids_are_kept_from_the_api_and_the_page() -> None:
    api = parse(json.dumps({"status_code": 0, "user": {"sec_uid": SEC, "uid": "66598046050"}}).encode(), API)
    store = {"9": {"user": {"statusCode": 0, "user": {"secUid": SEC, "uid": "66598046050", "nickname": "x",
                                                        "customVerify": "", "enterpriseVerifyReason": ""}}}}
    page = parse(_page(store), PAGE)
    for profile in (api, page):
        assert isinstance(profile, Profile)
        assert (profile.platform_user_id, profile.other_user_id) == (SEC, "66598046050")
    assert isinstance(page, Profile) and page.verified is False
    zero = parse(json.dumps({"status_code": 0, "user": {"sec_uid": SEC, "uid": "0"}}).encode(), API)
    assert isinstance(zero, Profile) and zero.other_user_id is None


def test_storage_keeps_the_numeric_uid_beside_the_sec_uid(database_url: str) -> None:
    """The account learns the second id from its first profile that names it, and keeps it."""
    from sqlmodel import select

    from records import AccountRef, ProfileItem, Provenance
    from storage.db import session_scope
    from storage.models import Account
    from storage.runs import start_run
    from storage.writer import write_items

    def item(uid: str, payload: bytes) -> ProfileItem:
        profile = parse(json.dumps({"status_code": 0, "user": {"sec_uid": SEC, "uid": uid, "nickname": "x",
                                                                 "follower_count": 3}}).encode(), API)
        assert isinstance(profile, Profile)
        return ProfileItem(account=AccountRef(platform="douyin", platform_user_id=SEC), profile=profile,
                           provenance=Provenance.of(API, "douyin.profile_other", "2", payload, 200))

    with session_scope(database_url) as session:
        run = start_run(session, "manual")
        write_items(session, [item("66598046050", b"1"), item("1", b"2")], run.id)
    with session_scope(database_url) as session:
        account = session.exec(select(Account).where(Account.platform == "douyin")).one()
        assert (account.platform_user_id, account.other_user_id) == (SEC, "66598046050")
