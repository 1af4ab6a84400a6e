"""The TikTok spider end to end: the real spider, Scrapy's real download path to the loopback
replay server, the pure parsers, and what lands in SQLite (snapshots, profile links, typed failures)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import session_scope, upgrade
from storage.models import AccountLink
from tests.helpers import Exchange, failures, fixture_exchange, run_wangzi, snapshots, write_har


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wangzi.db'}"
    upgrade(url)
    return url


def _crawl(tmp_path: Path, database_url: str, handle: str, exchanges: list[Exchange]) -> str:
    har = write_har(tmp_path / "tiktok.har", exchanges)
    added = run_wangzi("candidates", "add", "Someone", "--tiktok", handle, database_url=database_url)
    assert added.returncode == 0, added.stderr
    crawled = run_wangzi("crawl", "--platform", "tiktok", "--replay", str(har), database_url=database_url)
    assert crawled.returncode in (0, 1), crawled.stderr
    return crawled.stdout + crawled.stderr


def _links(database_url: str) -> list[str]:
    with session_scope(database_url) as session:
        return [link.url for link in session.exec(select(AccountLink).order_by(AccountLink.id)).all()]


# --------------------------------------------------------------------------- TikTok


def test_tiktok_profile_page_exact_stats_and_bio_link(tmp_path: Path, sqlite_url: str) -> None:
    _crawl(tmp_path, sqlite_url, "https://www.tiktok.com/@zg.520",
           [fixture_exchange("tiktok", "profile_page_statsv2_synthetic")])
    (account, snapshot), = snapshots(sqlite_url)
    assert (account.handle, account.platform_user_id) == ("zg.520", "6799838955094836230")
    assert (snapshot.followers, snapshot.following, snapshot.likes, snapshot.posts) == (427_682, 176, 6_764_096, 1605)
    assert snapshot.approximate == []
    assert _links(sqlite_url) == ["zg520.example.com"]
    assert failures(sqlite_url) == []  # no browser fallback was needed


def test_tiktok_unknown_user_is_not_found_without_the_browser(tmp_path: Path, sqlite_url: str) -> None:
    _crawl(tmp_path, sqlite_url, "@nosuchuser123",
           [fixture_exchange("tiktok", "profile_page_status_10221_not_found_synthetic")])
    assert snapshots(sqlite_url) == []
    (failure,) = failures(sqlite_url)
    assert (failure.platform, failure.kind) == ("tiktok", "not_found")
    assert failure.url == "https://www.tiktok.com/@nosuchuser123"
