"""The TikTok spider end to end: the real spider, Scrapy's real download path to the loopback
replay server (and a real Chromium for the browser fallback), the pure parsers, and what lands
in SQLite (snapshots, profile links, recent videos, typed failures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spiders.pages.tiktok import item_list_url
from tests.helpers import (
    Exchange,
    account_links,
    crawl_replayed,
    failures,
    fixture_exchange,
    posts,
    register_candidates,
    snapshots,
)

PAGE = "https://www.tiktok.com/@zg.520"
SEC_UID = "MS4wLjABAAAAkagks5n_8XDIMWf94LZDUYs54FG5bJmEFJkWtjA__uRUN8QWaavHhzSyEO6WBPQj"
ITEM_LIST = item_list_url(SEC_UID, 20)  # WANGZI_RECENT_POSTS = 20
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _crawl(tmp_path: Path, database_url: str, handle: str, exchanges: list[Exchange], *args: str) -> str:
    return crawl_replayed(tmp_path, database_url, "tiktok", handle, exchanges, *args)


def _videos() -> Exchange:
    return fixture_exchange("tiktok", "item_list_statsv2_synthetic", url=ITEM_LIST)


# --------------------------------------------------------------------------- plain HTTP


def test_tiktok_profile_page_exact_stats_and_bio_link(tmp_path: Path, sqlite_url: str) -> None:
    _crawl(tmp_path, sqlite_url, "https://www.tiktok.com/@zg.520",
           [fixture_exchange("tiktok", "profile_page_statsv2_synthetic"), _videos()])
    (account, snapshot), = snapshots(sqlite_url)
    assert (account.handle, account.platform_user_id) == ("zg.520", "6799838955094836230")
    assert (snapshot.followers, snapshot.following, snapshot.likes, snapshot.posts) == (427_682, 176, 6_764_096, 1605)
    assert snapshot.approximate == []
    assert snapshot.parser == "tiktok.profile_page"
    assert account_links(sqlite_url) == ["zg520.example.com"]
    assert failures(sqlite_url) == []  # no browser fallback was needed


def test_tiktok_recent_videos_come_from_item_list_with_exact_counts(tmp_path: Path, sqlite_url: str) -> None:
    _crawl(tmp_path, sqlite_url, "@zg.520", [fixture_exchange("tiktok", "profile_page_statsv2_synthetic"), _videos()])
    stored = {post.post_id: (post, post_snapshot) for post, post_snapshot in posts(sqlite_url)}
    assert set(stored) == {"7563412987654321098", "7560123456789012345", "7558000000000000001"}
    post, counts = stored["7563412987654321098"]
    assert post.url == "https://www.tiktok.com/@zg.520/video/7563412987654321098"
    assert (counts.views, counts.likes, counts.comments, counts.shares) == (2_312_345, 98_765, 1234, 3456)  # statsV2
    assert sorted(stored["7560123456789012345"][1].approximate) == ["likes", "views"]  # stats only
    assert len(snapshots(sqlite_url)) == 1 and failures(sqlite_url) == []


def test_a_walled_item_list_keeps_the_profile_and_is_a_blocked_failure(tmp_path: Path, sqlite_url: str) -> None:
    """TikTok's usual answer to an unsigned item_list: an empty 200. Not "0 videos"."""
    _crawl(tmp_path, sqlite_url, "@zg.520", [fixture_exchange("tiktok", "profile_page_statsv2_synthetic"),
                                             fixture_exchange("tiktok", "item_list_empty_body_blocked_synthetic", url=ITEM_LIST)])
    (_, snapshot), = snapshots(sqlite_url)
    assert snapshot.followers == 427_682
    assert posts(sqlite_url) == []
    (failure,) = failures(sqlite_url)
    assert (failure.kind, failure.url) == ("blocked", ITEM_LIST)
    assert "item_list" in failure.detail and "not zero" in failure.detail


def test_walled_item_lists_do_not_open_the_circuit_breaker(tmp_path: Path, sqlite_url: str) -> None:
    """Four accounts whose profiles are read and whose videos are walled, with a breaker that
    opens after two refused accounts in a row: none of them is a refused account."""
    handles = [f"acc{i}" for i in range(4)]
    recording = [fixture_exchange("tiktok", "profile_page_statsv2_synthetic", url=f"https://www.tiktok.com/@{h}") for h in handles]
    recording.append(fixture_exchange("tiktok", "item_list_empty_body_blocked_synthetic", url=ITEM_LIST))
    register_candidates(sqlite_url, "tiktok", [(f"Other {n}", h) for n, h in enumerate(handles[1:])])
    output = _crawl(tmp_path, sqlite_url, handles[0], recording, "-s", "WANGZI_CIRCUIT_THRESHOLD=2")
    assert "circuit open" not in output
    assert len(snapshots(sqlite_url)) == 4
    assert [(f.kind, f.url) for f in failures(sqlite_url)] == [("blocked", ITEM_LIST)] * 4


def test_no_videos_are_asked_when_recent_posts_is_zero(tmp_path: Path, sqlite_url: str) -> None:
    # No item_list exchange is recorded: asking for it would be a replay miss (a network failure).
    _crawl(tmp_path, sqlite_url, "@zg.520", [fixture_exchange("tiktok", "profile_page_statsv2_synthetic")],
           "-s", "WANGZI_RECENT_POSTS=0")
    assert len(snapshots(sqlite_url)) == 1
    assert failures(sqlite_url) == [] and posts(sqlite_url) == []


def test_tiktok_unknown_user_is_not_found_without_the_browser(tmp_path: Path, sqlite_url: str) -> None:
    _crawl(tmp_path, sqlite_url, "@nosuchuser123",
           [fixture_exchange("tiktok", "profile_page_status_10221_not_found_synthetic")])
    assert snapshots(sqlite_url) == []
    (failure,) = failures(sqlite_url)
    assert (failure.platform, failure.kind) == ("tiktok", "not_found")
    assert failure.url == "https://www.tiktok.com/@nosuchuser123"


def test_a_private_account_is_a_snapshot_and_its_hidden_videos_are_not_asked(tmp_path: Path, sqlite_url: str) -> None:
    # privateAccount: true with userInfo. No item_list is recorded: asking for it would be a
    # replay miss, stored as a network failure.
    _crawl(tmp_path, sqlite_url, "@private.one", [fixture_exchange("tiktok", "profile_page_private_account_synthetic")])
    (account, snapshot), = snapshots(sqlite_url)
    assert (account.handle, snapshot.followers, snapshot.parser) == ("private.one", 427_682, "tiktok.profile_page")
    assert failures(sqlite_url) == [] and posts(sqlite_url) == []


def test_a_private_profile_without_user_info_is_a_private_failure_without_the_browser(tmp_path: Path, sqlite_url: str) -> None:
    # Only the plain page is recorded: a Chromium request would be a second failure (a miss).
    _crawl(tmp_path, sqlite_url, "@hiddenuser", [fixture_exchange("tiktok", "profile_page_status_10222_private_synthetic")])
    assert snapshots(sqlite_url) == []
    (failure,) = failures(sqlite_url)
    assert (failure.kind, failure.url) == ("private", "https://www.tiktok.com/@hiddenuser")


# --------------------------------------------------------------------------- browser fallback


@pytest.mark.browser
def test_a_wall_the_browser_gets_past_is_a_snapshot_and_no_failure(tmp_path: Path, sqlite_url: str) -> None:
    """The plain request gets the WAF challenge; Chromium, asking the same URL next, gets the
    real page (the replay server answers repeated requests in recorded order)."""
    _crawl(tmp_path, sqlite_url, "@zg.520", [
        fixture_exchange("tiktok", "waf_challenge_blocked", headers=HTML),
        fixture_exchange("tiktok", "profile_page_statsv2_synthetic", headers=HTML),
        _videos(),
    ])
    (account, snapshot), = snapshots(sqlite_url)
    assert (account.handle, snapshot.followers, snapshot.likes) == ("zg.520", 427_682, 6_764_096)
    assert snapshot.parser == "tiktok.profile_page_browser"
    assert snapshot.source_url == PAGE  # the real URL, not the loopback one Chromium loaded
    assert len(posts(sqlite_url)) == 3  # the secUid Chromium's page named led to item_list
    assert failures(sqlite_url) == []


@pytest.mark.browser
def test_a_wall_both_times_is_blocked_and_no_snapshot(tmp_path: Path, sqlite_url: str) -> None:
    _crawl(tmp_path, sqlite_url, "@zg.520", [
        fixture_exchange("tiktok", "empty_page_blocked", headers=HTML),
        fixture_exchange("tiktok", "waf_challenge_blocked", headers=HTML),
    ])
    assert snapshots(sqlite_url) == [] and posts(sqlite_url) == []
    (failure,) = failures(sqlite_url)  # one verdict for the page, naming both answers
    assert (failure.kind, failure.url) == ("blocked", PAGE)
    assert failure.detail.startswith("plain request: empty page") and "Chromium: TikTok's WAF challenge" in failure.detail
