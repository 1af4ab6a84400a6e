"""The YouTube spider end to end: the real spider, Scrapy's real download path to the
loopback replay server, the pure parsers, and what lands in SQLite (snapshots, recent videos as
posts, profile links, typed failures). TikTok: tests/test_replay_tiktok.py.

The replay server matches method + URL and ignores POST bodies and request headers, so the first
and the Data API test also record what the spider sent (WANGZI_RECORD, after Scrapy's cookie
middleware) and assert the SOCS cookie, the about panel's JSON body and the API key header on
the wire; tests/test_youtube.py pins the body's construction. Every
request a crawl makes here is either recorded or asserted as a stored ``network`` failure, so
no test passes on an unnoticed replay miss.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path


from spiders.pages.youtube import ABOUT_URL, API_URL, CHANNEL_URL, HANDLE_URL, RSS_URL
from tests.helpers import Exchange, account_links, crawl_replayed, failures, fixture_exchange, posts, snapshots

KURZGESAGT = "UCsXVk37bltHxD1rDPwtNM8Q"
HOSPITAL = "UCw49uOTAJjGUdoAeUcp7tOg"
NO_KEY = {"YOUTUBE_API_KEY": ""}


def _crawl(tmp_path: Path, database_url: str, platform: str, handle: str, exchanges: list[Exchange],
           *args: str, env: dict[str, str] | None = None) -> str:
    return crawl_replayed(tmp_path, database_url, platform, handle, exchanges, *args, env=env)


def _sent(har: Path) -> list[dict]:
    """The requests as they left Scrapy's downloader middlewares (after the cookie middleware),
    recorded with WANGZI_RECORD and WANGZI_RECORD_SECRETS: method, URL, headers, body."""
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    return [{"method": e["request"]["method"], "url": e["request"]["url"],
             "headers": {h["name"].lower(): h["value"] for h in e["request"]["headers"]},
             "body": e["request"].get("postData", {}).get("text")} for e in entries]


def _about(case: str, status: int | None = None) -> Exchange:
    """The about panel's answer, recorded for the spider's POST to youtubei/v1/browse."""
    return dataclasses.replace(fixture_exchange("youtube", case, url=ABOUT_URL, status=status), method="POST")


SCRAPFLY_LINKS = ["scrapfly.io", "github.com/scrapfly", "reddit.com/r/scrapfly", "linkedin.com/company/scrapfly",
                  "twitter.com/scrapfly_dev", "scrapfly.medium.com"]


# --------------------------------------------------------------------------- YouTube


def test_youtube_channel_page_then_about_panel_post_then_feed(tmp_path: Path, sqlite_url: str) -> None:
    # The real @hospitalrecords page names its about panel's continuation token; the spider POSTs
    # it and then asks the feed. The about answer is synthetic (scrapfly's derived @scrapfly values)
    # and the feed is Kurzgesagt's: no sample set of one channel exists, so the three answers are
    # of three channels, and the test pins which source wins each field, not a coherent channel.
    exchanges = [
        fixture_exchange("youtube", "channel_page_html_pageheader_hospitalrecords", url=HANDLE_URL.format(handle="hospitalrecords")),
        _about("browse_about_continuation_scrapfly_values_synthetic"),
        fixture_exchange("youtube", "rss_kurzgesagt", url=RSS_URL.format(channel_id=HOSPITAL)),
    ]
    sent_har = tmp_path / "sent.har"
    _crawl(tmp_path, sqlite_url, "youtube", "@hospitalrecords", exchanges,
           "-s", f"WANGZI_RECORD={sent_har}", "-s", "WANGZI_RECORD_SECRETS=true", env=NO_KEY)
    page, about, feed = _sent(sent_har)
    assert [(r["method"], r["url"]) for r in (page, about, feed)] == [
        ("GET", HANDLE_URL.format(handle="hospitalrecords")), ("POST", ABOUT_URL), ("GET", RSS_URL.format(channel_id=HOSPITAL))]
    assert all("SOCS=CAI" in r["headers"].get("cookie", "") for r in (page, about, feed))  # on the wire, not just planned
    body = json.loads(about["body"])
    assert body["context"]["client"]["clientVersion"] == "2.20250618.01.00" and body["continuation"].startswith("4qmFsgJg")
    assert about["headers"]["x-youtube-client-version"] == "2.20250618.01.00"
    (account, snapshot), = snapshots(sqlite_url)
    assert account.platform_user_id == HOSPITAL
    # The page's counts win (earlier source): the about answer's exact "47 subscribers" / "4
    # videos" are another channel's and far from the header's "551K" / "3.4K", so they do not
    # replace them (tests/test_youtube.py pins that an agreeing exact count does). The about
    # panel fills views, country and links.
    assert (snapshot.followers, snapshot.posts, snapshot.verified) == (551_000, 3_400, True)
    assert sorted(snapshot.approximate) == ["followers", "posts"]
    assert (snapshot.views, snapshot.country) == (1_677, "FR")
    assert snapshot.parser == "youtube.channel_page+youtube.about_panel"
    assert account_links(sqlite_url) == SCRAPFLY_LINKS
    assert len(posts(sqlite_url)) == 15
    assert failures(sqlite_url) == []


def test_youtube_page_that_embeds_the_about_panel_asks_no_continuation(tmp_path: Path, sqlite_url: str) -> None:
    # A browse answer carrying the about panel itself (and no header naming a token): no POST.
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
    assert account_links(sqlite_url) == ["shop-us.kurzgesagt.org", "instagram.com/kurz_gesagt"]
    assert failures(sqlite_url) == []


def test_youtube_about_panel_404_keeps_the_page_snapshot_and_the_feed_is_still_asked(tmp_path: Path, sqlite_url: str) -> None:
    # The about POST answers 404 (a stale token); the feed (built from the id the page gave) is
    # deliberately not recorded: a replay miss, stored as a network failure naming its URL.
    page = fixture_exchange("youtube", "channel_page_html_pageheader_hospitalrecords",
                            url=HANDLE_URL.format(handle="hospitalrecords"))
    _crawl(tmp_path, sqlite_url, "youtube", "@hospitalrecords", [page, _about("channel_page_http_404", status=404)], env=NO_KEY)
    (account, snapshot), = snapshots(sqlite_url)
    assert (snapshot.followers, snapshot.posts, snapshot.verified) == (551_000, 3_400, True)
    assert sorted(snapshot.approximate) == ["followers", "posts"]
    assert (snapshot.views, snapshot.country) == (None, None)  # never read, never invented
    assert snapshot.parser == "youtube.channel_page"
    assert account.platform_user_id == HOSPITAL
    about, feed = failures(sqlite_url)
    assert (about.kind, about.http_status, about.url) == ("http_error", 404, ABOUT_URL)  # not not_found
    assert feed.kind == "network" and feed.url == RSS_URL.format(channel_id=HOSPITAL)


def test_youtube_data_api_wins_when_a_key_is_configured(tmp_path: Path, sqlite_url: str) -> None:
    key = "AIzaTestKey0123456789"
    api = API_URL.format(key="id", value="UCK8sQmJBp8GCxrOtXWBpyEA")
    exchanges = [
        fixture_exchange("youtube", "dataapi_channels_list_google", url=api),
        fixture_exchange("youtube", "browse_pageheader_randomchannel_2026", url=CHANNEL_URL.format(channel_id="UCK8sQmJBp8GCxrOtXWBpyEA")),
        _about("browse_about_continuation_scrapfly_values_synthetic"),
        # The feed is not recorded: its miss is asserted below.
    ]
    sent_har = tmp_path / "sent.har"
    output = _crawl(tmp_path, sqlite_url, "youtube", "UCK8sQmJBp8GCxrOtXWBpyEA", exchanges,
                    "-s", f"WANGZI_RECORD={sent_har}", "-s", "WANGZI_RECORD_SECRETS=true", env={"YOUTUBE_API_KEY": key})
    assert key not in output
    api_request = _sent(sent_har)[0]
    assert (api_request["url"], api_request["headers"]["x-goog-api-key"]) == (api, key)
    assert "cookie" not in api_request["headers"]  # the consent cookie is YouTube's, not googleapis.com's
    (account, snapshot), = snapshots(sqlite_url)
    assert key not in snapshot.source_url  # sent as the X-Goog-Api-Key header, not in the URL
    # The API's numbers win over the page's (84 subscribers) and the about panel's (1,677 views):
    # the API is asked first, and the exact 84 is far from its rounded 10.7M (another channel's
    # page), so it does not replace it. Only the API's subscribers are rounded.
    assert (snapshot.followers, snapshot.posts, snapshot.views) == (10_700_000, 2678, 3_331_930_783)
    assert snapshot.approximate == ["followers"]
    assert snapshot.parser == "youtube.data_api+youtube.channel_page+youtube.about_panel"
    assert account_links(sqlite_url) == SCRAPFLY_LINKS  # only the about panel has links
    (feed,) = failures(sqlite_url)
    assert feed.kind == "network" and feed.url == RSS_URL.format(channel_id="UCK8sQmJBp8GCxrOtXWBpyEA")


def test_youtube_missing_channel_is_a_not_found_failure(tmp_path: Path, sqlite_url: str) -> None:
    exchanges = [fixture_exchange("youtube", "channel_page_http_404", url=HANDLE_URL.format(handle="nosuchhandle404"))]
    _crawl(tmp_path, sqlite_url, "youtube", "@nosuchhandle404", exchanges, env=NO_KEY)
    assert snapshots(sqlite_url) == []
    (failure,) = failures(sqlite_url)
    assert (failure.platform, failure.kind, failure.http_status) == ("youtube", "not_found", 404)
