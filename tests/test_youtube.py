"""YouTube: account input, which requests the spider makes, and the count rules the parser applies."""

from __future__ import annotations

import json

import pytest

from crawler.items import AccountRef, Failure, FailureKind, PostPage, Profile
from spiders import youtube
from spiders.youtube import YouTubeSpider, normalize_account, parse

CHANNEL = "UCsXVk37bltHxD1rDPwtNM8Q"


@pytest.mark.parametrize(
    ("text", "handle", "channel_id"),
    [
        ("@kurzgesagt", "kurzgesagt", None),
        ("kurzgesagt", "kurzgesagt", None),
        (CHANNEL, None, CHANNEL),
        ("https://www.youtube.com/@kurzgesagt", "kurzgesagt", None),
        ("youtube.com/@kurzgesagt/videos", "kurzgesagt", None),
        (f"https://www.youtube.com/channel/{CHANNEL}", None, CHANNEL),
        ("https://m.youtube.com/c/Kurzgesagt", "c/Kurzgesagt", None),
        ("https://www.youtube.com/user/Kurzgesagt", "user/Kurzgesagt", None),
    ],
)
def test_accepted_account_forms(text: str, handle: str | None, channel_id: str | None) -> None:
    assert normalize_account(text) == AccountRef(platform="youtube", handle=handle, platform_user_id=channel_id)


@pytest.mark.parametrize("text", ["", "@a", "https://www.youtube.com/watch?v=zg40FHOAqC0", "https://vimeo.com/@x", "has space"])
def test_rejected_account_forms_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="YouTube"):
        normalize_account(text)


def _spider_sources(monkeypatch: pytest.MonkeyPatch, ref: AccountRef, key: str | None) -> list:
    monkeypatch.setattr(youtube, "api_key", lambda: key)
    return YouTubeSpider().sources(ref)


def test_without_a_key_the_page_then_the_feed_both_with_the_consent_cookie(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = _spider_sources(monkeypatch, AccountRef("youtube", platform_user_id=CHANNEL), None)
    assert [s.name for s in chain] == ["youtube.channel_page", "youtube.rss"]
    assert chain[0].url == f"https://www.youtube.com/channel/{CHANNEL}"
    assert chain[1].url == f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"
    assert all(s.cookies == {"SOCS": "CAI"} for s in chain)


def test_with_a_key_the_data_api_comes_first_by_handle(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = _spider_sources(monkeypatch, AccountRef("youtube", handle="kurzgesagt"), "k3y")
    assert [s.name for s in chain] == ["youtube.data_api", "youtube.channel_page"]  # feed added once the id is known
    assert chain[0].url.endswith("forHandle=%40kurzgesagt") and "k3y" not in chain[0].url
    assert chain[0].headers["X-Goog-Api-Key"] == "k3y"
    assert chain[1].url == "https://www.youtube.com/@kurzgesagt"


def test_legacy_names_ask_the_legacy_page(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = _spider_sources(monkeypatch, AccountRef("youtube", handle="user/Kurzgesagt"), "k3y")
    assert [s.url for s in chain] == ["https://www.youtube.com/user/Kurzgesagt"]  # no forHandle for legacy names


def _header_page(rows: list[str]) -> bytes:
    data = {"header": {"pageHeaderRenderer": {"content": {"pageHeaderViewModel": {
        "title": {"dynamicTextViewModel": {"text": {"content": "T"}}},
        "metadata": {"contentMetadataViewModel": {"metadataRows": [{"metadataParts": [{"text": {"content": r}} for r in rows]}]}}}}}},
        "metadata": {"channelMetadataRenderer": {"externalId": CHANNEL}}}
    return json.dumps(data, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("row", "followers", "approximate"),
    [
        ("21.5M subscribers", 21_500_000, True),
        ("\u200e\u206825m\u2069 subscribers", 25_000_000, True),
        ("2120万位订阅者", 21_200_000, True),
        ("25 Mio. Abonnenten", 25_000_000, True),
        ("84 subscribers", 84, False),
    ],
)
def test_subscriber_rows_in_many_locales(row: str, followers: int, approximate: bool) -> None:
    profile = parse(_header_page([row]), "https://www.youtube.com/youtubei/v1/browse")
    assert isinstance(profile, Profile)
    assert profile.followers == followers
    assert ("followers" in profile.approximate) is approximate
    assert profile.verified is False


def test_data_api_subscribers_are_approximate_but_videos_and_views_exact() -> None:
    body = json.dumps({"kind": "youtube#channelListResponse", "items": [{"id": CHANNEL, "statistics": {
        "subscriberCount": "24100000", "videoCount": "213", "viewCount": "3000000123", "hiddenSubscriberCount": False}}]}).encode()
    profile = parse(body, "https://youtube.googleapis.com/youtube/v3/channels?part=statistics&id=" + CHANNEL)
    assert (profile.followers, profile.posts, profile.views, profile.approximate) == (24_100_000, 213, 3_000_000_123, ("followers",))


def test_a_channel_without_videos_has_an_empty_feed_not_a_failure() -> None:
    feed = (b'<?xml version="1.0" encoding="UTF-8"?><feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" '
            b'xmlns="http://www.w3.org/2005/Atom"><yt:channelId>sXVk37bltHxD1rDPwtNM8Q</yt:channelId><title>K</title></feed>')
    page = parse(feed, f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}")
    assert page == PostPage(platform="youtube", platform_user_id=CHANNEL, posts=())


def test_consent_page_is_blocked_and_says_why() -> None:
    result = parse(b'<html><form action="https://consent.youtube.com/save"></form></html>', "https://www.youtube.com/@x")
    assert isinstance(result, Failure) and result.kind is FailureKind.BLOCKED and "consent" in result.detail
