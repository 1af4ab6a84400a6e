"""The YouTube spider end to end: the real spider, Scrapy's real download path to the
loopback replay server, the pure parsers, and what lands in SQLite (snapshots, recent videos as
posts, profile links, typed failures). TikTok: tests/test_replay_tiktok.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from spiders.youtube import API_URL, CHANNEL_URL, HANDLE_URL, RSS_URL
from storage.db import session_scope, upgrade
from storage.models import AccountLink
from tests.helpers import Exchange, failures, fixture_exchange, posts, run_wangzi, snapshots, write_har

KURZGESAGT = "UCsXVk37bltHxD1rDPwtNM8Q"
HOSPITAL = "UCw49uOTAJjGUdoAeUcp7tOg"
NO_KEY = {"YOUTUBE_API_KEY": ""}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wangzi.db'}"
    upgrade(url)
    return url


def _crawl(tmp_path: Path, database_url: str, platform: str, handle: str, exchanges: list[Exchange],
           env: dict[str, str] | None = None) -> str:
    har = write_har(tmp_path / f"{platform}.har", exchanges)
    added = run_wangzi("candidates", "add", "Someone", f"--{platform}", handle, database_url=database_url)
    assert added.returncode == 0, added.stderr
    crawled = run_wangzi("crawl", "--platform", platform, "--replay", str(har), database_url=database_url, env=env)
    assert crawled.returncode in (0, 1), crawled.stderr
    return crawled.stdout + crawled.stderr


def _links(database_url: str) -> list[str]:
    with session_scope(database_url) as session:
        return [link.url for link in session.exec(select(AccountLink).order_by(AccountLink.id)).all()]


# --------------------------------------------------------------------------- YouTube


def test_youtube_channel_page_about_panel_and_rss_videos_are_stored(tmp_path: Path, sqlite_url: str) -> None:
    exchanges = [
        fixture_exchange("youtube", "browse_about_panel_synthetic", url=CHANNEL_URL.format(channel_id=KURZGESAGT)),
        fixture_exchange("youtube", "rss_kurzgesagt", url=RSS_URL.format(channel_id=KURZGESAGT)),
    ]
    _crawl(tmp_path, sqlite_url, "youtube", f"https://www.youtube.com/channel/{KURZGESAGT}", exchanges, env=NO_KEY)
    (account, snapshot), = snapshots(sqlite_url)
    assert (account.platform, account.platform_user_id) == ("youtube", KURZGESAGT)
    assert (snapshot.followers, snapshot.posts, snapshot.views, snapshot.country) == (25_000_000, 337, 2_912_461_032, "DE")
    assert snapshot.approximate == ["followers"]  # "25 Mio. Abonnenten" is rounded
    stored = {post.post_id: post_snapshot for post, post_snapshot in posts(sqlite_url)}
    assert len(stored) == 15
    assert (stored["zg40FHOAqC0"].views, stored["zg40FHOAqC0"].likes) == (1_086_938, 58_314)
    assert _links(sqlite_url) == ["shop-us.kurzgesagt.org", "instagram.com/kurz_gesagt"]
    assert failures(sqlite_url) == []


def test_youtube_handle_page_learns_the_channel_id_and_then_asks_the_feed(tmp_path: Path, sqlite_url: str) -> None:
    # Only the page is recorded: the feed request (built from the id the page gave) is a replay miss.
    page = fixture_exchange("youtube", "channel_page_html_pageheader_hospitalrecords",
                            url=HANDLE_URL.format(handle="hospitalrecords"))
    _crawl(tmp_path, sqlite_url, "youtube", "@hospitalrecords", [page], env=NO_KEY)
    (account, snapshot), = snapshots(sqlite_url)
    assert (snapshot.followers, snapshot.posts, snapshot.verified) == (551_000, 3_400, True)
    assert sorted(snapshot.approximate) == ["followers", "posts"]
    assert account.platform_user_id == HOSPITAL
    (failure,) = failures(sqlite_url)
    assert failure.kind == "network" and failure.url == RSS_URL.format(channel_id=HOSPITAL)


def test_youtube_data_api_wins_when_a_key_is_configured(tmp_path: Path, sqlite_url: str) -> None:
    key = "AIzaTestKey0123456789"
    api = API_URL.format(key="id", value="UCK8sQmJBp8GCxrOtXWBpyEA")
    exchanges = [
        fixture_exchange("youtube", "dataapi_channels_list_google", url=api),
        fixture_exchange("youtube", "browse_pageheader_randomchannel_2026", url=CHANNEL_URL.format(channel_id="UCK8sQmJBp8GCxrOtXWBpyEA")),
    ]
    output = _crawl(tmp_path, sqlite_url, "youtube", "UCK8sQmJBp8GCxrOtXWBpyEA", exchanges, env={"YOUTUBE_API_KEY": key})
    assert key not in output
    (account, snapshot), = snapshots(sqlite_url)
    assert key not in snapshot.source_url  # sent as the X-Goog-Api-Key header, not in the URL
    # The API's numbers win over the page's (84 subscribers) field by field.
    assert (snapshot.followers, snapshot.posts, snapshot.views) == (10_700_000, 2678, 3_331_930_783)
    assert snapshot.parser.startswith("youtube.data_api")


def test_youtube_missing_channel_is_a_not_found_failure(tmp_path: Path, sqlite_url: str) -> None:
    exchanges = [fixture_exchange("youtube", "channel_page_http_404", url=HANDLE_URL.format(handle="nosuchhandle404"))]
    _crawl(tmp_path, sqlite_url, "youtube", "@nosuchhandle404", exchanges, env=NO_KEY)
    assert snapshots(sqlite_url) == []
    (failure,) = failures(sqlite_url)
    assert (failure.platform, failure.kind, failure.http_status) == ("youtube", "not_found", 404)
