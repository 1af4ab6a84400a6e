"""YouTube: account input, which requests the spider makes, and the count rules the parser applies."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from records import AccountRef, Failure, FailureKind, PostPage, Profile, merge_profiles
from spiders.pages import youtube
from spiders import youtube as youtube_spider
from spiders.youtube import YouTubeSpider
from spiders.pages.youtube import about_continuation, normalize_account, parse
from tests.helpers import make_spider

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
    monkeypatch.setattr(youtube_spider, "api_key", lambda: key)
    return make_spider(YouTubeSpider).sources(ref)


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


# --------------------------------------------------------------------------- about panel request

FIXTURES = Path(__file__).parent / "fixtures" / "youtube"
HOSPITAL = "UCw49uOTAJjGUdoAeUcp7tOg"


def _fixture(case: str) -> bytes:
    (response,) = (FIXTURES / case).glob("response.*")
    return response.read_bytes()


def _token_section(token: str) -> bytes:
    """The engagement-panel section a browse continuation token points at (base64 in base64)."""
    outer = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    params = unquote(outer.split(b"\x1aD", 1)[1].decode())
    return base64.urlsafe_b64decode(params + "=" * (-len(params) % 4))


def test_the_real_channel_page_names_the_about_panel_token_and_its_client_version() -> None:
    page = _fixture("channel_page_html_pageheader_hospitalrecords")
    token, version = about_continuation(page)
    assert version == "2.20250618.01.00"  # ytcfg INNERTUBE_CLIENT_VERSION of the sample
    # The description's "...more" panel: section 69fb5cdc of channel UCw49uOT..., not the
    # "and 5 more links" panel (69fb5cde) and not the videos grid's continuation.
    assert HOSPITAL.encode() in base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"69fb5cdc-0000-296c-a730-582429c4c024" in _token_section(token)
    data = youtube.initial_data(page.decode("utf-8"))
    grid = json.dumps(data["contents"])
    assert token not in grid


@pytest.mark.parametrize(
    ("case", "version"),
    [("browse_pageheader_randomchannel_2026", "2.20260123.01.00"),  # description preview
     ("browse_c4tabbedheader_randomchannel_2023", "2.20231208.01.00")],  # old header: the tagline's "more"
)
def test_both_header_generations_name_the_about_panel_token(case: str, version: str) -> None:
    token, found_version = about_continuation(_fixture(case))
    assert found_version == version  # responseContext CSI cver
    assert b"UCUaQMQS9lY5lit3vurpXQ6w" in base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


@pytest.mark.parametrize("case", ["browse_about_panel_synthetic", "garbage", "page_without_initial_data",
                                  "channel_page_pageheader_zh_locale_synthetic"])
def test_no_about_token_without_a_header_panel(case: str) -> None:
    assert about_continuation(_fixture(case)) is None


def _page_profile(payload: bytes) -> Profile:
    profile = parse(payload, "https://www.youtube.com/@hospitalrecords/videos")
    assert isinstance(profile, Profile)
    return profile


def test_after_the_channel_page_the_about_panel_is_posted_before_the_feed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(youtube_spider, "api_key", lambda: None)
    spider = make_spider(YouTubeSpider)
    account = AccountRef("youtube", handle="hospitalrecords")
    (page_source,) = spider.sources(account)
    payload = _fixture("channel_page_html_pageheader_hospitalrecords")
    chain = spider.next_sources(account, page_source, _page_profile(payload), payload, [])
    assert [s.name for s in chain] == ["youtube.about_panel", "youtube.rss"]
    about = chain[0]
    assert (about.method, about.url) == ("POST", "https://www.youtube.com/youtubei/v1/browse?prettyPrint=false")
    assert about.headers["Content-Type"] == "application/json"
    assert about.cookies == {"SOCS": "CAI"}
    token, _ = about_continuation(payload)
    assert json.loads(about.body) == {
        "context": {"client": {"clientName": "WEB", "clientVersion": "2.20250618.01.00", "hl": "en", "gl": "US"}},
        "continuation": token,
    }
    assert chain[1].url == f"https://www.youtube.com/feeds/videos.xml?channel_id={HOSPITAL}"


def test_a_page_without_the_token_asks_no_about_panel_and_stores_no_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(youtube_spider, "api_key", lambda: None)
    spider = make_spider(YouTubeSpider)
    account = AccountRef("youtube", platform_user_id=CHANNEL)
    page_source, rss = spider.sources(account)
    payload = _fixture("browse_about_panel_synthetic")
    chain = spider.next_sources(account, page_source, parse(payload, page_source.url), payload, [rss])
    assert [s.name for s in chain] == ["youtube.rss"]


def test_without_a_client_version_the_default_is_sent() -> None:
    body = json.loads(youtube.about_request_body("tok", None))
    assert body["context"]["client"]["clientVersion"] == youtube.DEFAULT_CLIENT_VERSION
    assert body["continuation"] == "tok"


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (404, b"<html><body>404 Not Found</body></html>", FailureKind.HTTP_ERROR),  # stale token, not a missing channel
        (400, b'{"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}}',
         FailureKind.HTTP_ERROR),
        (429, b"", FailureKind.RATE_LIMITED),
        (200, b'{"responseContext": {}, "onResponseReceivedEndpoints": [{"appendContinuationItemsAction": '
              b'{"continuationItems": []}}]}', FailureKind.UNRECOGNIZED),
        (200, b"<html>not json</html>", FailureKind.UNRECOGNIZED),
    ],
)
def test_about_panel_failures_are_typed_and_never_not_found(status: int, body: bytes, kind: FailureKind) -> None:
    result = youtube.parse_about_panel(body, youtube.ABOUT_URL, status)
    assert isinstance(result, Failure) and result.kind is kind


def test_an_about_panel_failure_never_ends_the_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(youtube_spider, "api_key", lambda: None)
    spider = make_spider(YouTubeSpider)
    account = AccountRef("youtube", platform_user_id=HOSPITAL)
    about = spider._about_source("tok", None)
    rss = spider._rss_source(HOSPITAL)
    for failure in (Failure(FailureKind.NOT_FOUND, "x", 404), Failure(FailureKind.HTTP_ERROR, "x", 400)):
        assert spider.next_sources(account, about, failure, b"", [rss]) == [rss]


def test_the_page_counts_win_and_the_about_panel_fills_country_links_and_views() -> None:
    page = _page_profile(_fixture("channel_page_html_pageheader_hospitalrecords"))
    about = parse(_fixture("browse_about_continuation_scrapfly_values_synthetic"), youtube.ABOUT_URL)
    merged = merge_profiles([page, about])
    assert (merged.followers, merged.posts, merged.handle) == (551_000, 3_400, "hospitalrecords")
    assert (merged.views, merged.country, merged.links[0]) == (1_677, "FR", "scrapfly.io")
    assert sorted(merged.approximate) == ["followers", "posts"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Joined Feb 27, 2023", (2023, 2, 27)),
        ("Joined 9 Jul 2013", (2013, 7, 9)),
        ("2013年7月9日に登録", (2013, 7, 9)),
        ("Beigetreten am 09.07.2013", (2013, 7, 9)),
        ("가입일: 2013. 7. 9.", (2013, 7, 9)),
        ("Beigetreten am 9. Juli 2013", None),  # a month name not in English: not guessed
        ("Joined Sep 31, 2020", None),  # no such day
        (None, None),
    ],
)
def test_the_about_panels_joined_date_in_several_locales(text: str | None, expected: tuple[int, int, int] | None) -> None:
    from datetime import datetime, timezone

    from spiders.pages.youtube import joined_date

    assert joined_date(text) == (datetime(*expected, tzinfo=timezone.utc) if expected else None)


# --------------------------------------------------------------------------- exact over rounded


def _about_answer(videos: str, subscribers: str = "551K subscribers", views: str = "123,456,789 views") -> bytes:
    """A continuation answer in the about panel's shape (documented path, see
    tests/fixtures/youtube/browse_about_continuation_scrapfly_values_synthetic/meta.json)."""
    about = {"subscriberCountText": subscribers, "videoCountText": videos, "viewCountText": views, "country": "United Kingdom"}
    return json.dumps({"onResponseReceivedEndpoints": [{"appendContinuationItemsAction": {"continuationItems": [
        {"aboutChannelRenderer": {"metadata": {"aboutChannelViewModel": about}}}]}}]}).encode()


def _crawled_profile(monkeypatch: pytest.MonkeyPatch, about_body: bytes) -> Profile:
    from records import ProfileItem, Provenance

    monkeypatch.setattr(youtube_spider, "api_key", lambda: None)
    spider = make_spider(YouTubeSpider)
    account = AccountRef("youtube", handle="hospitalrecords")
    (page_source,) = spider.sources(account)
    about_source = spider._about_source("tok", None)
    results = []
    for source, body in ((page_source, _fixture("channel_page_html_pageheader_hospitalrecords")), (about_source, about_body)):
        result = parse(body, source.url) if source is page_source else youtube.parse_about_panel(body, source.url)
        results.append((source, result, Provenance.of(source.url, source.name, "1", body, 200), source.url))
    (item,) = spider.finish_account(account, results)
    assert isinstance(item, ProfileItem)
    return item.profile


def test_the_about_panels_exact_video_count_beats_the_headers_rounded_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real page's header says "3.4K videos"; the about panel says "3,412 videos" (exact).
    profile = _crawled_profile(monkeypatch, _about_answer("3,412 videos"))
    assert (profile.posts, profile.followers, profile.views, profile.country) == (3_412, 551_000, 123_456_789, "GB")
    assert profile.approximate == ("followers",)  # both sources rounded the subscribers: the page's stays


def test_when_every_source_rounded_a_count_the_earliest_still_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    profile = _crawled_profile(monkeypatch, _about_answer("3.5K videos", subscribers="552K subscribers"))
    assert (profile.posts, profile.followers) == (3_400, 551_000)
    assert profile.approximate == ("followers", "posts")


def test_a_browse_answer_with_header_and_about_panel_keeps_the_exact_count() -> None:
    page = json.loads(_header_page(["551K subscribers", "3.4K videos"]))
    page["contents"] = json.loads(_about_answer("3,412 videos"))
    profile = parse(json.dumps(page).encode(), "https://www.youtube.com/youtubei/v1/browse")
    assert (profile.posts, profile.followers, profile.approximate) == (3_412, 551_000, ("followers",))


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [(429, b"<html>Too Many Requests</html>", FailureKind.RATE_LIMITED),
     (503, b"<html>Service Unavailable</html>", FailureKind.HTTP_ERROR),
     (429, b'{"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}',
      FailureKind.RATE_LIMITED),
     (200, b"<html>?</html>", FailureKind.UNRECOGNIZED)],
)
def test_data_api_answers_that_are_not_a_channel_list_keep_their_http_meaning(status: int, body: bytes, kind: FailureKind) -> None:
    result = parse(body, "https://youtube.googleapis.com/youtube/v3/channels?part=statistics&id=" + CHANNEL, status)
    assert isinstance(result, Failure) and result.kind is kind, result


def test_an_exact_count_far_from_the_rounded_one_does_not_replace_it() -> None:
    page = Profile(platform="youtube", followers=551_000, posts=3_400, approximate=("followers", "posts"))
    about = Profile(platform="youtube", followers=47, posts=3_395)  # 47 is not "551K": another reading
    merged = merge_profiles(youtube.prefer_exact_counts([page, about]))
    assert (merged.followers, merged.posts, merged.approximate) == (551_000, 3_395, ("followers",))


def test_a_data_api_answer_gives_the_channel_the_url_asked_for() -> None:
    # The real two-channel channels.list answer: Google first, Google Developers second.
    listed = _fixture("dataapi_channels_list_google")
    api = "https://youtube.googleapis.com/youtube/v3/channels?part=snippet,statistics,brandingSettings"
    developers = parse(listed, f"{api}&id=UC_x5XG1OV2P6uZZ5FSM9Ttw")
    assert (developers.platform_user_id, developers.handle, developers.country) == ("UC_x5XG1OV2P6uZZ5FSM9Ttw", "googledevelopers", "US")
    assert (developers.followers, developers.posts, developers.views) == (2_260_000, 5652, 208_790_084)
    assert parse(listed, f"{api}&forHandle=%40GoogleDevelopers").platform_user_id == "UC_x5XG1OV2P6uZZ5FSM9Ttw"
    assert parse(listed, f"{api}&id=UCK8sQmJBp8GCxrOtXWBpyEA,UC_x5XG1OV2P6uZZ5FSM9Ttw").handle == "google"
    assert parse(listed, None).handle == "google"  # no URL: the first item


FIXTURES = Path(__file__).parent / "fixtures" / "youtube"


def test_an_age_gated_channel_page_is_login_required_in_html_too() -> None:
    """The channel page embeds the same ytInitialData as the browse answer NewPipeExtractor saved."""
    gate = (FIXTURES / "restricted_channel_age_gate_laphroaig_2026" / "response.json").read_text(encoding="utf-8")
    page = f"<html><script>var ytInitialData = {gate};</script></html>".encode()
    result = parse(page, "https://www.youtube.com/channel/UCbfnHqxXs_K3kvaH-WlNlig", 200)
    assert isinstance(result, Failure) and result.kind is FailureKind.LOGIN_REQUIRED
    assert "Laphroaig Whisky" in result.detail


@pytest.mark.parametrize(
    ("case", "followers"),
    [
        ("browse_carouselheader_sports_topic_2026", 74_400_000),
        ("browse_interactivetabbedheader_minecraft_gaming_2026", None),
        ("browse_pageheader_hidden_subscriber_count_synthetic", None),
        ("browse_pageheader_system_channel_without_metadata_rows_synthetic", None),
    ],
)
def test_every_channel_header_gives_a_profile_and_an_unshown_count_stays_none(case: str, followers: int | None) -> None:
    payload = (FIXTURES / case / "response.json").read_bytes()
    result = parse(payload, youtube.ABOUT_URL, 200)
    assert isinstance(result, Profile) and result.platform_user_id
    assert result.followers == followers


def test_a_topic_channel_without_metadata_takes_its_id_from_the_subscribe_button() -> None:
    document = json.loads((FIXTURES / "browse_carouselheader_sports_topic_2026" / "response.json").read_bytes())
    assert "metadata" not in document and "microformat" not in document
    for item in document["header"]["carouselHeaderRenderer"]["contents"]:
        item.get("topicChannelDetailsRenderer", {}).pop("navigationEndpoint", None)
    result = parse(json.dumps(document).encode(), youtube.ABOUT_URL, 200)
    assert isinstance(result, Profile) and result.platform_user_id == "UCEgdi0XIXXZ-qJOFPf4JSKw"
