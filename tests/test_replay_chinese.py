"""Weibo, Douyin, Taobao Live and Youku end to end through replay into SQLite.

Weibo runs through Scrapy's plain HTTP download path (its m.weibo.cn JSON chain); Douyin,
Taobao Live and Youku through a real Chromium (scrapy-playwright) that loads the recorded
page from the loopback replay server. The pure parsers read what the recordings answer and
the snapshots, posts or typed failures land in the database.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Exchange, crawl_replayed, failures, fixture_exchange, posts, snapshots

JSON = {"Content-Type": "application/json; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}

UID = "1669879400"
USER_INDEX = f"https://m.weibo.cn/api/container/getIndex?type=uid&value={UID}"
INFO = f"https://m.weibo.cn/api/container/getIndex?containerid=230283{UID}_-_INFO"
POSTS_1 = f"https://m.weibo.cn/api/container/getIndex?containerid=107603{UID}&page=1"
POSTS_2 = f"https://m.weibo.cn/api/container/getIndex?containerid=107603{UID}&page=2"
SEC_UID = "MS4wLjABAAAAsyntheticLenaNY_0123456789abcdefGHIJ"


def _crawl(tmp_path: Path, database_url: str, platform: str, account: str, exchanges: list[Exchange],
           *args: str, env: dict[str, str] | None = None) -> str:
    return crawl_replayed(tmp_path, database_url, platform, account, exchanges, *args, name=f"Creator ({platform})", env=env)


def _weibo_recording(user_index: Exchange) -> list[Exchange]:
    return [
        user_index,
        fixture_exchange("weibo", "info_container_ip_us_synthetic", url=INFO, headers=JSON),
        fixture_exchange("weibo", "posts_1076031669879400", url=POSTS_1, headers=JSON),
        fixture_exchange("weibo", "posts_absolute_time_synthetic", url=POSTS_2, headers=JSON),
    ]


def test_weibo_chain_becomes_one_snapshot_with_ip_location_and_posts(tmp_path: Path, sqlite_url: str) -> None:
    recording = _weibo_recording(fixture_exchange("weibo", "user_index_1669879400", url=USER_INDEX, headers=JSON))
    _crawl(tmp_path, sqlite_url, "weibo", f"https://weibo.com/u/{UID}", recording)

    (account, snapshot), = snapshots(sqlite_url)
    assert (account.platform, account.platform_user_id) == ("weibo", UID)
    assert (snapshot.display_name, snapshot.followers, snapshot.following, snapshot.posts) == ("Dear-迪丽热巴", 63357736, 240, 1008)
    assert (snapshot.ip_location, snapshot.country) == ("美国", "US")  # from the INFO container
    assert snapshot.source_url == USER_INDEX
    stored = {post.post_id: post_snapshot for post, post_snapshot in posts(sqlite_url)}
    assert len(stored) == 12  # 10 from page 1 (the real 2019 sample) + 2 from page 2
    assert stored["4383183661430868"].likes == 348872
    assert stored["4432100000000001"].likes == 100000  # "10万+" read as its lower bound
    assert failures(sqlite_url) == []


def test_weibo_captcha_is_a_failure_and_stops_the_chain(tmp_path: Path, sqlite_url: str) -> None:
    recording = _weibo_recording(fixture_exchange("weibo", "ok-100_geetest_captcha", url=USER_INDEX, headers=JSON))
    _crawl(tmp_path, sqlite_url, "weibo", UID, recording)

    assert snapshots(sqlite_url) == []
    assert posts(sqlite_url) == []  # the posts pages were not asked for after the captcha
    assert [(f.kind, f.url) for f in failures(sqlite_url)] == [("captcha", USER_INDEX)]


def test_weibo_http_418_is_blocked(tmp_path: Path, sqlite_url: str) -> None:
    recording = _weibo_recording(Exchange(url=USER_INDEX, status=418, body=b""))
    _crawl(tmp_path, sqlite_url, "weibo", UID, recording)

    assert snapshots(sqlite_url) == []
    assert [(f.kind, f.http_status) for f in failures(sqlite_url)] == [("blocked", 418)]


def test_weibo_cookie_adds_weibo_com_profile_and_is_never_logged(tmp_path: Path, sqlite_url: str) -> None:
    recording = _weibo_recording(fixture_exchange("weibo", "user_index_1669879400", url=USER_INDEX, headers=JSON)) + [
        fixture_exchange("weibo", "ajax_profile_info_synthetic", headers=JSON),
        fixture_exchange("weibo", "ajax_profile_detail_synthetic", headers=JSON),
    ]
    output = _crawl(tmp_path, sqlite_url, "weibo", UID, recording, "--verbose",
                    env={"WANGZI_WEIBO_COOKIE": "SUB=_2A25secret-weibo-cookie; SUBP=0033"})
    assert "secret-weibo-cookie" not in output

    (_, snapshot), = snapshots(sqlite_url)
    assert snapshot.followers == 78123456  # weibo.com's exact count comes first
    assert (snapshot.ip_location, snapshot.country) == ("北京", "CN")  # ajax/profile/detail


@pytest.mark.browser
def test_douyin_page_through_chromium_becomes_a_snapshot_with_videos(tmp_path: Path, sqlite_url: str) -> None:
    page = f"https://www.douyin.com/user/{SEC_UID}"
    _crawl(tmp_path, sqlite_url, "douyin", page,
           [fixture_exchange("douyin", "profile_page_render_data_synthetic", url=page, headers=HTML)])

    (account, snapshot), = snapshots(sqlite_url)
    assert (account.platform, account.platform_user_id) == ("douyin", SEC_UID)
    assert (snapshot.followers, snapshot.likes, snapshot.ip_location, snapshot.country) == (1234567, 98765432, "美国", "US")
    assert snapshot.source_url == page
    assert {post.post_id for post, _ in posts(sqlite_url)} == {"7301234567890123456", "7301234567890123457"}
    assert failures(sqlite_url) == []


@pytest.mark.browser
def test_douyin_verification_page_is_a_captcha_failure(tmp_path: Path, sqlite_url: str) -> None:
    page = f"https://www.douyin.com/user/{SEC_UID}"
    _crawl(tmp_path, sqlite_url, "douyin", SEC_UID,
           [fixture_exchange("douyin", "profile_page_captcha_synthetic", url=page, headers=HTML)])

    assert snapshots(sqlite_url) == []
    assert [f.kind for f in failures(sqlite_url)] == ["captcha"]


@pytest.mark.browser
def test_youku_and_taobao_live_pages_through_chromium(tmp_path: Path, sqlite_url: str) -> None:
    youku = "https://www.youku.com/profile/index?uid=UMTIzNDU2Nzg5MA=="
    _crawl(tmp_path, sqlite_url, "youku", youku, [fixture_exchange("youku", "creator_page_synthetic", headers=HTML)])
    taobao = "https://huodong.m.taobao.com/act/talent/live.html?id=2200123456789"
    _crawl(tmp_path, sqlite_url, "taobao_live", taobao,
           [fixture_exchange("taobao_live", "page_without_counts_synthetic", headers=HTML)])

    (account, snapshot), = snapshots(sqlite_url)
    assert (account.platform, snapshot.followers, snapshot.views) == ("youku", 123000, 120000000)
    assert {post.post_id for post, _ in posts(sqlite_url)} == {"XNjAwMDAwMDAwMA==", "XNjAwMDAwMDAwMQ=="}
    assert [(f.kind, f.url) for f in failures(sqlite_url)] == [("unrecognized", taobao)]  # never a guessed number
