"""The X and Instagram spiders end to end: the real spider, Scrapy's real download path to the
loopback replay server, the pure parsers, and what lands in SQLite (snapshots, posts, profile
links, typed failures)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path


from spiders.pages.x import USER_FEATURES, graphql_url, user_tweets_url
from tests.helpers import (
    Exchange,
    account_links,
    crawl_replayed,
    failures,
    fixture_exchange,
    json_output,
    posts,
    run_wangzi,
    runs,
    snapshots,
    write_har,
)

COOKIES = {"WANGZI_X_AUTH_TOKEN": "authtok-0123456789abcdef", "WANGZI_X_CT0": "ct0-fedcba9876543210"}
NO_COOKIES = {"WANGZI_X_AUTH_TOKEN": "", "WANGZI_X_CT0": "", "WANGZI_X_COOKIE_FILE": ""}
IG_PAGE = "https://www.instagram.com/nike/"
IG_API = "https://i.instagram.com/api/v1/users/web_profile_info/?username={}"


def _crawl(tmp_path: Path, database_url: str, platform: str, handle: str, exchanges: list[Exchange],
           env: dict[str, str] | None = None) -> str:
    return crawl_replayed(tmp_path, database_url, platform, handle, exchanges, env=env)


# --------------------------------------------------------------------------- X


def test_x_with_cookies_stores_counts_country_and_links(tmp_path: Path, sqlite_url: str) -> None:
    no_posts = {"data": {"user": {"result": {"__typename": "User", "timeline": {"timeline": {"instructions": []}}}}}}
    exchanges = [
        fixture_exchange("x", "user_by_screen_name_2026_05_core_legacy"),
        fixture_exchange("x", "about_account_2026_05"),
        Exchange(url=user_tweets_url("2244994945"), body=json.dumps(no_posts).encode()),
    ]
    output = _crawl(tmp_path, sqlite_url, "x", "https://x.com/XDevelopers", exchanges, env=COOKIES)
    assert "authtok-0123456789abcdef" not in output and "ct0-fedcba9876543210" not in output

    (account, snapshot), = snapshots(sqlite_url)
    assert (account.platform, account.handle) == ("x", "XDevelopers")
    assert (snapshot.followers, snapshot.following, snapshot.posts) == (683277, 759, 4273)
    assert (snapshot.ip_location, snapshot.country, snapshot.location) == ("United States", "US", "127.0.0.1")
    assert snapshot.joined_at == datetime(2013, 12, 14, 4, 35, 55, tzinfo=timezone.utc)  # legacy.created_at
    assert snapshot.verified is True
    assert snapshot.parser == "x.user_by_screen_name+x.about_account"
    assert snapshot.source_url.startswith("https://x.com/i/api/graphql/")
    assert account_links(sqlite_url) == ["https://docs.x.com/"]
    assert failures(sqlite_url) == []


def test_x_current_schema_without_legacy_block_and_recent_posts_are_stored(tmp_path: Path, sqlite_url: str) -> None:
    exchanges = [fixture_exchange("x", "user_by_screen_name_current_no_legacy_synthetic"),
                 fixture_exchange("x", "user_tweets_synthetic")]
    _crawl(tmp_path, sqlite_url, "x", "miachen_tokyo", exchanges, env=COOKIES)
    (account, snapshot), = snapshots(sqlite_url)
    assert (snapshot.followers, snapshot.following, snapshot.posts) == (128450, 612, 9876)
    assert account.platform_user_id == "1584209731400327168"  # learned from the answer
    assert account_links(sqlite_url) == ["https://www.youtube.com/@miachentokyo", "https://www.instagram.com/miachen.tokyo/"]
    # UserTweets, asked once the id was known: own posts only (no retweets, no other authors).
    stored = {post.post_id: post_snapshot for post, post_snapshot in posts(sqlite_url)}
    assert set(stored) == {"1850000000000000001", "1860000000000000002", "1860000000000000005", "1860000000000000006"}
    assert (stored["1850000000000000001"].likes, stored["1850000000000000001"].views) == (4161, 1990473)
    post = next(post for post, _ in posts(sqlite_url) if post.post_id == "1850000000000000001")
    assert post.url == "https://x.com/miachen_tokyo/status/1850000000000000001"
    assert post.published_at.replace(tzinfo=timezone.utc) == datetime(2024, 10, 30, 3, 17, 40, tzinfo=timezone.utc)
    assert post.text and post.text.endswith("where to buy it abroad…")  # the long note text
    snapshot_of = stored["1850000000000000001"]
    assert (snapshot_of.comments, snapshot_of.shares) == (97, 310)
    # The AboutAccountQuery was not recorded: a replay miss is a network failure, the profile stays.
    assert [f.kind for f in failures(sqlite_url)] == ["network"]


def test_x_account_registered_by_id_gets_its_country_from_the_about_query(tmp_path: Path, sqlite_url: str) -> None:
    by_id = graphql_url("UserByRestId", {"userId": "2244994945", "withSafetyModeUserFields": True}, USER_FEATURES)
    no_posts = {"data": {"user": {"result": {"__typename": "User", "timeline": {"timeline": {"instructions": []}}}}}}
    exchanges = [
        fixture_exchange("x", "user_by_screen_name_2026_05_core_legacy", url=by_id),
        fixture_exchange("x", "about_account_2026_05"),
        Exchange(url=user_tweets_url("2244994945"), body=json.dumps(no_posts).encode()),
    ]
    _crawl(tmp_path, sqlite_url, "x", "https://x.com/i/user/2244994945", exchanges, env=COOKIES)
    (account, snapshot), = snapshots(sqlite_url)
    assert (account.platform_user_id, account.handle) == ("2244994945", "XDevelopers")
    assert (snapshot.followers, snapshot.country, snapshot.ip_location) == (683277, "US", "United States")
    assert snapshot.parser == "x.user_by_rest_id+x.about_account"
    assert failures(sqlite_url) == []


def test_x_without_cookies_stores_login_required_and_sends_nothing(tmp_path: Path, sqlite_url: str) -> None:
    # An empty recording: any request the spider made would come back as a replay miss.
    _crawl(tmp_path, sqlite_url, "x", "XDevelopers", [], env=NO_COOKIES)
    assert snapshots(sqlite_url) == []
    (failure,) = failures(sqlite_url)
    assert (failure.platform, failure.kind, failure.url) == ("x", "login_required", "https://x.com/XDevelopers")
    assert "WANGZI_X_AUTH_TOKEN" in failure.detail


def test_x_rate_limit_is_a_typed_failure_not_a_snapshot(tmp_path: Path, sqlite_url: str) -> None:
    limited = fixture_exchange("x", "rate_limited_error_88")
    about = fixture_exchange("x", "about_account_2026_05", status=429, url=fixture_exchange("x", "about_account_2026_05").url)
    about.body = limited.body
    _crawl(tmp_path, sqlite_url, "x", "XDevelopers", [limited, about], env=COOKIES)
    assert snapshots(sqlite_url) == []
    # After error 88 the spider does not spend more of the quota on the about query.
    (failure,) = failures(sqlite_url)
    assert (failure.kind, failure.http_status) == ("rate_limited", 429)
    assert "/UserByScreenName?" in failure.url
    # Nor is the 429 retried: one request was sent in all.
    (run,) = runs(sqlite_url)
    assert run.stats["x"]["requests"] == 1


# --------------------------------------------------------------------------- Instagram


def test_instagram_api_answer_becomes_snapshot_posts_and_links_without_the_page(tmp_path: Path, sqlite_url: str) -> None:
    _crawl(tmp_path, sqlite_url, "instagram", "https://www.instagram.com/miachen.tokyo/",
           [fixture_exchange("instagram", "web_profile_info_synthetic")])
    (account, snapshot), = snapshots(sqlite_url)
    assert (account.handle, snapshot.followers, snapshot.following, snapshot.posts) == ("miachen.tokyo", 245310, 318, 812)
    assert snapshot.approximate == []
    assert snapshot.parser == "instagram.web_profile_info"
    stored = {post.post_id: post_snapshot for post, post_snapshot in posts(sqlite_url)}
    assert set(stored) == {"3481234567890123456", "3479876543210987654", "3478000000000000001"}
    assert stored["3479876543210987654"].views == 184002
    assert stored["3478000000000000001"].likes is None
    first = next(post for post, _ in posts(sqlite_url) if post.post_id == "3481234567890123456")
    assert first.url == "https://www.instagram.com/p/C_aBcDeFgHi/"
    assert first.published_at.replace(tzinfo=timezone.utc) == datetime(2024, 11, 18, 3, 20, tzinfo=timezone.utc)
    assert first.text and first.text.startswith("Shiseido's new summer sunscreen")
    assert (stored["3481234567890123456"].likes, stored["3481234567890123456"].comments) == (12840, 231)
    assert account_links(sqlite_url) == ["https://www.youtube.com/@miachentokyo", "https://x.com/miachen_tokyo"]
    assert failures(sqlite_url) == []  # the page was not requested (it is not in the recording)


def test_instagram_throttled_api_falls_back_to_the_page(tmp_path: Path, sqlite_url: str) -> None:
    exchanges = [
        fixture_exchange("instagram", "rate_limited_401_please_wait"),
        fixture_exchange("instagram", "profile_page_og_description"),
    ]
    _crawl(tmp_path, sqlite_url, "instagram", "nike", exchanges)
    (account, snapshot), = snapshots(sqlite_url)
    assert (snapshot.followers, snapshot.following, snapshot.posts) == (307_000_000, 190, 1407)
    assert snapshot.approximate == ["followers"]
    assert snapshot.source_url == IG_PAGE
    (failure,) = failures(sqlite_url)
    assert (failure.kind, failure.http_status) == ("rate_limited", 401)


def test_instagram_api_429_is_not_retried_and_the_page_is_asked_once(tmp_path: Path, sqlite_url: str) -> None:
    exchanges = [
        fixture_exchange("instagram", "rate_limited_429"),
        fixture_exchange("instagram", "profile_page_og_description"),
    ]
    _crawl(tmp_path, sqlite_url, "instagram", "nike", exchanges)
    (_, snapshot), = snapshots(sqlite_url)
    assert snapshot.followers == 307_000_000
    assert [(f.kind, f.http_status) for f in failures(sqlite_url)] == [("rate_limited", 429)]
    (run,) = runs(sqlite_url)
    assert run.stats["instagram"]["requests"] == 2


def test_instagram_login_redirects_are_login_required(tmp_path: Path, sqlite_url: str) -> None:
    api_login = "https://www.instagram.com/accounts/login/"
    page_login = "https://www.instagram.com/accounts/login/?next=%2Fnike%2F"
    exchanges = [
        Exchange(url=IG_API.format("nike"), status=302, headers={"Location": api_login}),
        Exchange(url=IG_PAGE, status=302, headers={"Location": page_login}),
        fixture_exchange("instagram", "login_redirect", url=api_login),
        fixture_exchange("instagram", "login_redirect", url=page_login),
    ]
    _crawl(tmp_path, sqlite_url, "instagram", "nike", exchanges)
    assert snapshots(sqlite_url) == []
    kinds = [(f.kind, f.url) for f in failures(sqlite_url)]
    assert kinds == [("login_required", api_login), ("login_required", page_login)]


def test_instagram_unknown_user_is_not_found_and_the_page_is_not_asked(tmp_path: Path, sqlite_url: str) -> None:
    _crawl(tmp_path, sqlite_url, "instagram", "no.such.user.zz",
           [fixture_exchange("instagram", "web_profile_info_user_null")])
    assert snapshots(sqlite_url) == []
    assert [f.kind for f in failures(sqlite_url)] == ["not_found"]


def test_lookup_of_an_instagram_url_prints_what_the_api_said(tmp_path: Path, sqlite_url: str) -> None:
    har = write_har(tmp_path / "lookup.har", [fixture_exchange("instagram", "web_profile_info_synthetic")])
    process = run_wangzi("lookup", "https://www.instagram.com/miachen.tokyo/", "--json", "--replay", str(har),
                         database_url=sqlite_url)
    assert process.returncode == 0, process.stderr
    result = json_output(process)
    (profile,) = result["profiles"]
    assert (profile["platform"], profile["followers"]) == ("instagram", 245310)
    assert result["failures"] == []
