"""The Xiaohongshu spider end to end: a real Chromium (through scrapy-playwright) loads the
recorded profile page from the loopback replay server, the pure parser reads its
``__INITIAL_STATE__``, and the snapshot, posts or typed failure land in SQLite.

The page's own sub-requests (scripts on fe-static.xhscdn.com) go to real hosts and fail at
once offline; the HTML state path needs none of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    Exchange,
    crawl_replayed,
    failures,
    fixture_exchange,
    json_output,
    posts,
    run_wangzi,
    snapshots,
    write_har,
)

pytestmark = pytest.mark.browser

UID = "5a1b2c3d4e5f60718293a4b5"
PROFILE = f"https://www.xiaohongshu.com/user/profile/{UID}"
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _crawl(tmp_path: Path, database_url: str, exchanges: list[Exchange], *args: str,
           env: dict[str, str] | None = None) -> str:
    """Register Lena's account, crawl it from the recording; returns the crawl's output."""
    return crawl_replayed(tmp_path, database_url, "xiaohongshu", PROFILE, exchanges, *args, name="Lena", env=env)


def test_recorded_profile_page_becomes_a_snapshot_with_posts(tmp_path: Path, sqlite_url: str) -> None:
    cookie = "web_session=0400697a6b2c3d4e5f-secret"
    output = _crawl(tmp_path, sqlite_url, [fixture_exchange("xiaohongshu", "profile_page_synthetic", headers=HTML)],
                    "--verbose", env={"WANGZI_XIAOHONGSHU_COOKIE": cookie})
    assert "0400697a6b2c3d4e5f-secret" not in output  # the configured login cookie is never logged

    (account, snapshot), = snapshots(sqlite_url)
    assert (account.platform, account.platform_user_id) == ("xiaohongshu", UID)
    assert (snapshot.display_name, snapshot.followers, snapshot.following, snapshot.likes) == ("Lena在纽约", 100_000, 215, 12_000)
    assert snapshot.posts is None
    assert (snapshot.ip_location, snapshot.country) == ("美国", "US")
    assert sorted(snapshot.lower_bound) == ["followers"]
    assert snapshot.source_url == PROFILE  # the real URL, not the loopback one Chromium loaded
    assert snapshot.parser == "xiaohongshu.profile_page"
    stored = {post.post_id: post_snapshot for post, post_snapshot in posts(sqlite_url)}
    assert set(stored) == {"6740a1b2000000000c01d2e3", "6731f0c4000000001a03b4c5", "6722e0d5000000001b02a3b6"}
    assert stored["6731f0c4000000001a03b4c5"].likes == 15_000
    assert failures(sqlite_url) == []


def test_risk_control_status_is_a_blocked_failure_not_a_snapshot(tmp_path: Path, sqlite_url: str) -> None:
    _crawl(tmp_path, sqlite_url, [fixture_exchange("xiaohongshu", "blocked_http_471_page", headers=HTML)])

    assert snapshots(sqlite_url) == []
    (failure,) = failures(sqlite_url)
    assert (failure.kind, failure.http_status, failure.url) == ("blocked", 471, PROFILE)


def test_page_without_state_is_unrecognized(tmp_path: Path, sqlite_url: str) -> None:
    _crawl(tmp_path, sqlite_url, [fixture_exchange("xiaohongshu", "html_without_state", headers=HTML)])

    assert snapshots(sqlite_url) == []
    assert [f.kind for f in failures(sqlite_url)] == ["unrecognized"]


def test_lookup_by_profile_url_prints_what_the_page_said(tmp_path: Path, sqlite_url: str) -> None:
    har = write_har(tmp_path / "lookup.har", [fixture_exchange("xiaohongshu", "profile_page_synthetic", headers=HTML)])
    process = run_wangzi("lookup", PROFILE, "--json", "--replay", str(har), database_url=sqlite_url)
    assert process.returncode == 0, process.stderr
    result = json_output(process)
    (profile,) = result["profiles"]
    assert (profile["platform"], profile["display_name"], profile["followers"]) == ("xiaohongshu", "Lena在纽约", 100_000)
    assert result["failures"] == []
