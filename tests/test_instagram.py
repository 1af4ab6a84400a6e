"""Instagram: account input, the parser's edge cases beyond the fixtures, and the spider's
two sources (the API first, the profile page only as a fallback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from records import AccountRef, Failure, FailureKind, Profile
from spiders.instagram import InstagramSpider
from spiders.pages.instagram import API_URL, PAGE_URL, WEB_APP_ID, normalize_account, parse
from tests.helpers import make_spider

FIXTURES = Path(__file__).parent / "fixtures" / "instagram"
API = API_URL.format(handle="miachen.tokyo")


def _fixture(case: str) -> bytes:
    (payload,) = [p for p in (FIXTURES / case).iterdir() if p.name.startswith("response.")]
    return payload.read_bytes()


@pytest.mark.parametrize(
    ("text", "handle"),
    [
        ("nike", "nike"),
        ("@Nike", "nike"),
        ("miachen.tokyo", "miachen.tokyo"),
        ("https://www.instagram.com/nike/", "nike"),
        ("instagram.com/Nike?hl=en", "nike"),
        ("https://instagram.com/nike/reels/", "nike"),
    ],
)
def test_normalize_account_accepts_usernames_and_profile_urls(text: str, handle: str) -> None:
    ref = normalize_account(text)
    assert (ref.platform, ref.handle, ref.platform_user_id) == ("instagram", handle, None)


@pytest.mark.parametrize("text", ["https://www.instagram.com/p/C_aBcDeFgHi/", "https://www.instagram.com/explore/",
                                  "https://example.com/nike", "two words", ".nike", "a" * 31])
def test_normalize_account_rejects_what_is_not_an_account(text: str) -> None:
    with pytest.raises(ValueError, match="Instagram"):
        normalize_account(text)


def test_web_profile_info_reads_counts_links_and_recent_posts() -> None:
    profile = parse(_fixture("web_profile_info_synthetic"), API)
    assert isinstance(profile, Profile)
    assert (profile.followers, profile.following, profile.posts) == (245310, 318, 812)
    assert profile.approximate == ()  # exact counts from the API
    first, video, hidden = profile.recent_posts
    assert first.text and first.text.startswith("Shiseido") and first.likes == 12840 and first.comments == 231
    assert first.published_at is not None and first.published_at.isoformat() == "2024-11-18T03:20:00+00:00"
    assert (video.kind, video.views) == ("video", 184002)
    assert hidden.likes is None  # a hidden like count (-1) is "not shown", never a number


def test_counts_missing_from_the_api_stay_none() -> None:
    payload = {"data": {"user": {"id": "1", "username": "a", "edge_followed_by": {}, "edge_owner_to_timeline_media": None}}}
    profile = parse(json.dumps(payload).encode(), API)
    assert isinstance(profile, Profile) and (profile.followers, profile.following, profile.posts) == (None, None, None)
    assert profile.recent_posts == ()


def test_profile_page_prefers_exact_inline_json_over_rounded_og_counts() -> None:
    page = _fixture("profile_page_xig_user_by_username_synthetic").decode()
    page = page.replace("<title>", '<meta property="og:description" content="16M Followers, 45 Following, 2,100 Posts - '
                                   'See Instagram photos and videos from Google (@google)" /><title>')
    profile = parse(page.encode(), PAGE_URL.format(handle="google"))
    assert isinstance(profile, Profile)
    assert profile.followers == 15689074 and "followers" not in profile.approximate  # from follower_count, exact
    assert profile.posts == 2100  # only the og text had it


def test_og_description_counts_in_other_shapes() -> None:
    page = ('<meta content="1.2M Followers, 1,001 Following, 37 Posts - See Instagram photos and videos from '
            'Lena &amp; Co (@lena.co)" property="og:description">').encode()
    profile = parse(page, PAGE_URL.format(handle="lena.co"))
    assert isinstance(profile, Profile)
    assert (profile.handle, profile.display_name) == ("lena.co", "Lena & Co")
    assert (profile.followers, profile.following, profile.posts, profile.approximate) == (1_200_000, 1001, 37, ("followers",))


@pytest.mark.parametrize(
    ("body", "status", "url", "kind"),
    [
        ({"message": "Please wait a few minutes before you try again.", "require_login": True, "status": "fail"}, 401, API,
         FailureKind.RATE_LIMITED),
        ({"message": "useragent mismatch", "status": "fail"}, 400, API, FailureKind.HTTP_ERROR),
        ({"message": "login_required", "status": "fail"}, 403, API, FailureKind.LOGIN_REQUIRED),
        ({"message": "challenge_required", "status": "fail"}, 400, API, FailureKind.CAPTCHA),
        ({}, 200, "https://www.instagram.com/challenge/?next=/nike/", FailureKind.CAPTCHA),
        ({"data": {"user": None}, "status": "ok"}, 200, API, FailureKind.NOT_FOUND),
        ({"error": {"message": "Invalid OAuth access token", "code": 190}}, 400,
         "https://graph.facebook.com/v21.0/1?fields=business_discovery.username(nike){followers_count}", FailureKind.LOGIN_REQUIRED),
        ({"error": {"message": "user not found", "code": 100, "error_subcode": 2207013}}, 400,
         "https://graph.facebook.com/v21.0/1?fields=business_discovery.username(nike){followers_count}", FailureKind.NOT_FOUND),
    ],
)
def test_failure_answers_are_typed(body: dict, status: int, url: str, kind: FailureKind) -> None:
    result = parse(json.dumps(body).encode(), url, status)
    assert isinstance(result, Failure) and result.kind is kind, result


def test_parser_never_raises_on_mangled_input() -> None:
    for case in ("web_profile_info_synthetic", "profile_page_xig_user_by_username_synthetic"):
        sample = _fixture(case)
        url = API if case.startswith("web") else PAGE_URL.format(handle="google")
        for cut in range(0, len(sample), 89):
            assert isinstance(parse(sample[:cut], url), (Profile, Failure))
    for body in (b"[]", b"null", b'{"data": []}', b'{"data": {"user": []}}',
                 b'{"data": {"user": {"edge_owner_to_timeline_media": {"edges": [1, {"node": []}, {"node": {"id": 5}}]}}}}'):
        assert isinstance(parse(body, API), (Profile, Failure)), body


# --------------------------------------------------------------------------- spider


def test_spider_asks_the_api_with_the_web_app_id_then_the_page() -> None:
    api, page = make_spider(InstagramSpider).sources(AccountRef("instagram", handle="Nike"))
    assert api.url == "https://i.instagram.com/api/v1/users/web_profile_info/?username=nike"
    assert api.headers["x-ig-app-id"] == WEB_APP_ID
    assert page.url == "https://www.instagram.com/nike/"
    assert make_spider(InstagramSpider).sources(AccountRef("instagram", platform_user_id="123")) == []


def _advance(result: object) -> list[object]:
    spider = make_spider(InstagramSpider)
    account = AccountRef("instagram", handle="nike")
    chain = spider.sources(account)
    meta = {"wangzi_account": account, "wangzi_chain": chain, "wangzi_index": 0, "wangzi_results": []}
    return list(spider._advance(meta, (chain[0], result, None, chain[0].url), None))


def test_the_page_is_only_requested_when_the_api_gave_no_follower_count() -> None:
    from scrapy.http import Request

    from records import ProfileItem

    answered = _advance(parse(_fixture("web_profile_info_synthetic"), API))
    assert [type(item) for item in answered] == [ProfileItem]
    refused = _advance(Failure(FailureKind.LOGIN_REQUIRED, "make sure you are logged in", 400))
    assert [type(item) for item in refused] == [Request]
    assert refused[0].url == "https://www.instagram.com/nike/"  # type: ignore[attr-defined]


def test_the_older_graphql_user_envelope_is_read_like_web_profile_info() -> None:
    payload = json.loads(_fixture("web_profile_info_synthetic"))
    older = {"graphql": payload["data"], "logging_page_id": "profilePage_58421937465"}
    profile = parse(json.dumps(older).encode(), "https://www.instagram.com/miachen.tokyo/?__a=1")
    assert isinstance(profile, Profile) and (profile.handle, profile.followers) == ("miachen.tokyo", 245310)


def test_an_impossible_timestamp_is_not_read() -> None:
    payload = json.loads(_fixture("web_profile_info_synthetic"))
    payload["data"]["user"]["edge_owner_to_timeline_media"]["edges"][0]["node"]["taken_at_timestamp"] = 10**30
    profile = parse(json.dumps(payload).encode(), API)
    assert isinstance(profile, Profile) and profile.recent_posts[0].published_at is None


@pytest.mark.parametrize("envelope", ["data", "graphql"])
def test_the_newer_user_schema_counts_are_read_where_the_edges_are_missing(envelope: str) -> None:
    user = {"pk": 42, "username": "Someone", "follower_count": 1500, "following_count": 3, "media_count": 0}
    result = parse(json.dumps({envelope: {"user": user}}).encode(), "https://www.instagram.com/graphql/query")
    assert isinstance(result, Profile)
    assert (result.platform_user_id, result.handle, result.followers, result.following, result.posts) == ("42", "someone", 1500, 3, 0)


def test_the_edges_win_over_the_plain_counts_when_both_are_sent() -> None:
    user = {"id": "1", "username": "a", "edge_followed_by": {"count": 10}, "follower_count": 99}
    result = parse(json.dumps({"data": {"user": user}}).encode(), API_URL.format(handle="a"))
    assert isinstance(result, Profile) and result.followers == 10


@pytest.mark.parametrize(("address", "location", "country"), [
    ('{"city_name": "Toronto, Ontario", "street_address": null}', "Toronto, Ontario", "CA"),
    ('{"city_name": "Austin, TX"}', "Austin, TX", "US"),
    ('{"city_name": null, "city_id": null, "latitude": null, "longitude": null, "street_address": null, "zip_code": null}', None, None),
    ("not json", None, None),
])
def test_a_business_address_gives_location_and_country(address: str, location: str | None, country: str | None) -> None:
    user = {"id": "1", "username": "shop", "edge_followed_by": {"count": 5}, "business_address_json": address}
    result = parse(json.dumps({"data": {"user": user}}).encode(), API_URL.format(handle="shop"))
    assert isinstance(result, Profile) and (result.location, result.country) == (location, country)


def test_the_app_api_user_info_answer_is_a_profile() -> None:
    body = {"user": {"pk": 7, "username": "app", "follower_count": 12, "city_name": "Sydney, New South Wales"}, "status": "ok"}
    result = parse(json.dumps(body).encode(), "https://i.instagram.com/api/v1/users/7/info/")
    assert isinstance(result, Profile) and (result.followers, result.country) == (12, "AU")
    empty = parse(json.dumps({"user": {}, "status": "ok"}).encode(), "https://i.instagram.com/api/v1/users/7/info/")
    assert isinstance(empty, Failure) and empty.kind is FailureKind.UNRECOGNIZED
