"""TikTok: account input, exact-over-rounded counts, recent videos (page and item_list), and the
plain-then-browser-then-videos chain, including what a walled item_list does to the circuit breaker."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from records import AccountRef, Failure, FailureItem, FailureKind, PostPage, Profile, ProfileItem, Provenance
from spiders.base import Source
from spiders.tiktok import TikTokSpider
from spiders.pages.tiktok import item_list_url, normalize_account, parse, parse_item_list, profile_user
from tests.helpers import FIXTURES, json_output, make_spider, run_wangzi


@pytest.mark.parametrize(
    ("text", "handle"),
    [("@zg.520", "zg.520"), ("Zg.520", "zg.520"), ("https://www.tiktok.com/@zg.520", "zg.520"),
     ("tiktok.com/@zg.520/video/123", "zg.520"), ("https://m.tiktok.com/@odd_animal", "odd_animal")],
)
def test_accepted_account_forms(text: str, handle: str) -> None:
    assert normalize_account(text) == AccountRef(platform="tiktok", handle=handle)


@pytest.mark.parametrize("text", ["", "@", "https://www.tiktok.com/video/123", "https://x.com/@a", "a b"])
def test_rejected_account_forms(text: str) -> None:
    with pytest.raises(ValueError, match="TikTok"):
        normalize_account(text)


def _api(stats: dict | None, stats_v2: dict | None) -> bytes:
    info: dict = {"user": {"id": "1", "uniqueId": "Someone", "nickname": "S"}}
    if stats is not None:
        info["stats"] = stats
    if stats_v2 is not None:
        info["statsV2"] = stats_v2
    return json.dumps({"statusCode": 0, "userInfo": info}).encode()


def test_exact_stats_v2_win_over_rounded_stats() -> None:
    profile = parse(_api({"followerCount": 427700, "heartCount": 6800000}, {"followerCount": "427682", "heartCount": "6764096"}),
                    "https://www.tiktok.com/api/user/detail/?uniqueId=someone")
    assert (profile.followers, profile.likes, profile.approximate, profile.handle) == (427_682, 6_764_096, (), "someone")


def test_rounded_stats_alone_are_marked_approximate_from_one_thousand() -> None:
    profile = parse(_api({"followerCount": 2600000, "followingCount": 6, "videoCount": 124, "heart": 44600000}, None),
                    "https://www.tiktok.com/api/user/detail/?uniqueId=someone")
    assert isinstance(profile, Profile)
    assert (profile.followers, profile.following, profile.posts, profile.likes) == (2_600_000, 6, 124, 44_600_000)
    assert profile.approximate == ("followers", "likes")


def test_missing_counts_stay_none() -> None:
    profile = parse(_api(None, None), "https://www.tiktok.com/api/user/detail/?uniqueId=someone")
    assert (profile.followers, profile.following, profile.posts, profile.likes) == (None, None, None, None)


def test_rehydration_without_user_detail_is_blocked() -> None:
    page = b'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{"__DEFAULT_SCOPE__": {}}</script>'
    result = parse(page, "https://www.tiktok.com/@someone")
    assert isinstance(result, Failure) and result.kind is FailureKind.BLOCKED


def test_plain_page_first_then_the_browser() -> None:
    chain = make_spider(TikTokSpider).sources(AccountRef("tiktok", handle="zg.520"))
    assert [s.url for s in chain] == ["https://www.tiktok.com/@zg.520"] * 2
    assert "playwright" not in chain[0].meta and chain[1].meta["playwright"] is True


# --------------------------------------------------------------------------- recent videos

SEC_UID = "MS4wLjABAAAAkagks5n_8XDIMWf94LZDUYs54FG5bJmEFJkWtjA__uRUN8QWaavHhzSyEO6WBPQj"
ITEM_LIST = item_list_url(SEC_UID, 20)
PAGE = "https://www.tiktok.com/@zg.520"


def _fixture(case: str) -> bytes:
    (response,) = (FIXTURES / "tiktok" / case).glob("response.*")
    return response.read_bytes()


def test_item_list_url_names_the_sec_uid_and_caps_the_count() -> None:
    assert ITEM_LIST == f"https://www.tiktok.com/api/post/item_list/?aid=1988&secUid={SEC_UID}&count=20&cursor=0"
    assert "count=35" in item_list_url(SEC_UID, 200) and "count=1&" in item_list_url(SEC_UID, 0)


def test_item_list_exact_stats_v2_win_and_rounded_stats_are_approximate() -> None:
    page = parse(_fixture("item_list_statsv2_synthetic"), ITEM_LIST)
    assert isinstance(page, PostPage)
    first, second, third = page.posts
    assert (first.views, first.likes, first.comments, first.shares, first.approximate) == (2_312_345, 98_765, 1234, 3456, ())
    assert (second.views, second.likes, second.approximate) == (61_200, 4500, ("views", "likes"))
    assert (first.kind, first.text, second.text) == ("video", "长城日出 #travel #china", None)
    assert first.published_at.isoformat() == "2025-10-20T05:57:04+00:00"
    assert third.published_at.isoformat() == "2025-10-03T14:00:00+00:00"  # createTime as a string


def test_item_list_without_author_builds_urls_from_the_known_handle() -> None:
    body = json.dumps({"statusCode": 0, "hasMore": False, "itemList": [{"id": "7563412987654321098", "stats": {"playCount": 5}}]})
    page = parse_item_list(body.encode(), ITEM_LIST, 200, handle="zg.520")
    assert page.posts[0].url == "https://www.tiktok.com/@zg.520/video/7563412987654321098"
    assert parse(body.encode(), ITEM_LIST).posts[0].url is None  # `wangzi parse` knows no handle: no guessed URL


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b"", FailureKind.BLOCKED), (b"  \n", FailureKind.BLOCKED),
     (b'{"statusCode": 0, "hasMore": false, "cursor": "0"}', FailureKind.BLOCKED),
     (b'{"statusCode": 0, "hasMore": true, "cursor": "0", "itemList": []}', FailureKind.BLOCKED),
     (b'{"statusCode": 10221, "statusMsg": "user not exist"}', FailureKind.NOT_FOUND),
     (b'{"statusCode": 10222}', FailureKind.PRIVATE),
     (b'{"statusCode": 0, "itemList": {"a": 1}}', FailureKind.UNRECOGNIZED),
     (b'{"statusCode": 0, "itemList": [{"desc": "no id"}]}', FailureKind.UNRECOGNIZED),
     (b"<html><body>Internal</body></html>", FailureKind.UNRECOGNIZED)],
)
def test_an_item_list_without_videos_is_a_typed_failure_never_zero_videos(body: bytes, kind: FailureKind) -> None:
    result = parse(body, ITEM_LIST)
    assert isinstance(result, Failure) and result.kind is kind, result


def test_an_explicitly_empty_last_page_is_an_empty_page() -> None:
    result = parse(b'{"statusCode": 0, "hasMore": false, "cursor": "0", "itemList": []}', ITEM_LIST)
    assert result == PostPage(platform="tiktok", platform_user_id=None, posts=())


def test_videos_embedded_in_the_page_become_recent_posts() -> None:
    data = {"__DEFAULT_SCOPE__": {"webapp.user-detail": {
        "statusCode": 0,
        "userInfo": {"user": {"id": "1", "uniqueId": "Someone", "secUid": "MS4wabc"}, "statsV2": {"followerCount": "5"}},
        "itemList": [{"id": "7000000000000000001", "desc": "hi", "createTime": 1700000000,
                      "statsV2": {"playCount": "1234567"}, "stats": {"playCount": 1200000}}]}}}
    page = ('<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">' + json.dumps(data) + "</script>").encode()
    profile = parse(page, "https://www.tiktok.com/@someone")
    (post,) = profile.recent_posts
    assert (post.url, post.views, post.approximate) == ("https://www.tiktok.com/@someone/video/7000000000000000001", 1_234_567, ())


def test_sigi_state_page_gives_the_profile_and_its_videos_in_page_order() -> None:
    profile = parse(_fixture("profile_page_sigi_state_item_module_synthetic"), "https://www.tiktok.com/@oddanimalspecimens")
    assert (profile.handle, profile.followers, profile.country) == ("oddanimalspecimens", 2_600_000, "US")
    assert [p.post_id for p in profile.recent_posts] == ["7100000000000000002", "7100000000000000001"]


def test_the_sec_uid_is_read_from_every_profile_answer() -> None:
    assert profile_user(_fixture("profile_page_statsv2_synthetic"))["secUid"] == SEC_UID
    assert profile_user(_fixture("api_user_detail_statsv2_zg520"))["secUid"].startswith("MS4wLjABAAAA")
    assert profile_user(_fixture("profile_page_sigi_state_item_module_synthetic"))["secUid"].startswith("MS4wLjABAAAA")
    assert profile_user(b"") == {} and profile_user(None) == {} and profile_user(b"<html></html>") == {}


def test_wangzi_parse_reads_a_saved_item_list(tmp_path: Path) -> None:
    saved = tmp_path / "item_list.json"
    saved.write_bytes(_fixture("item_list_statsv2_synthetic"))
    printed = run_wangzi("parse", "tiktok", str(saved), "--url", ITEM_LIST, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    assert printed.returncode == 0, printed.stderr
    assert [p["views"] for p in json_output(printed)["posts"]] == [2_312_345, 61_200, 980]
    saved.write_bytes(b"")
    walled = run_wangzi("parse", "tiktok", str(saved), "--url", ITEM_LIST, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    assert walled.returncode == 1 and json_output(walled)["error"] == "blocked"


# --------------------------------------------------------------------------- the chain


def _spider(recent_posts: int = 20) -> TikTokSpider:
    return make_spider(TikTokSpider, {"WANGZI_RECENT_POSTS": recent_posts})


def _after_profile(spider: TikTokSpider, case: str = "profile_page_statsv2_synthetic") -> list[Source]:
    payload = _fixture(case)
    account = AccountRef("tiktok", handle="zg.520")
    page, browser = spider.sources(account)
    return spider.next_sources(account, page, parse(payload, PAGE), payload, [browser])


def test_a_profile_ends_the_page_sources_and_asks_for_the_videos() -> None:
    (videos,) = _after_profile(_spider())
    assert (videos.name, videos.url) == ("tiktok.item_list", ITEM_LIST)
    assert "playwright" not in videos.meta and videos.headers["Referer"] == PAGE
    assert _after_profile(_spider(recent_posts=0)) == []


def test_no_videos_are_asked_for_a_private_account_or_one_without_videos() -> None:
    assert _after_profile(_spider(), "profile_page_private_account_synthetic") == []
    spider, account = _spider(), AccountRef("tiktok", handle="zg.520")
    page, browser = spider.sources(account)
    no_videos = Profile(platform="tiktok", handle="zg.520", posts=0)
    assert spider.next_sources(account, page, no_videos, _fixture("profile_page_statsv2_synthetic"), [browser]) == []


def test_the_chain_ends_after_item_list_and_after_the_breaker_refused() -> None:
    spider, account = _spider(), AccountRef("tiktok", handle="zg.520")
    page, browser = spider.sources(account)
    (videos,) = _after_profile(spider)
    assert spider.next_sources(account, videos, Failure(FailureKind.BLOCKED, "empty"), b"", []) == []
    refused = Failure(FailureKind.BLOCKED, "circuit open: tiktok refused 5 accounts in a row; not asking again for 600s")
    assert spider.next_sources(account, page, refused, None, [browser]) == []
    assert spider.next_sources(account, page, Failure(FailureKind.BLOCKED, "empty page"), b"", [browser]) == [browser]


def _outcome(source: Source, result: Any, url: str) -> tuple[Any, ...]:
    provenance = Provenance.of(url, source.name, "1", b"x", 200) if not isinstance(result, Failure) else None
    return (source, result, provenance, url)


def _items(spider: TikTokSpider, walled_posts: bool = False, profile: bool = True) -> list[Any]:
    account = AccountRef("tiktok", handle="zg.520")
    page, browser = spider.sources(account)
    if not profile:
        return list(spider.finish_account(account, [
            _outcome(page, Failure(FailureKind.BLOCKED, "empty page (TikTok's answer to a suspected bot)", 200), PAGE),
            _outcome(browser, Failure(FailureKind.BLOCKED, "TikTok's WAF challenge page instead of the profile", 200), PAGE)]))
    (videos,) = _after_profile(spider)
    posts = parse(_fixture("item_list_empty_body_blocked_synthetic" if walled_posts else "item_list_statsv2_synthetic"), ITEM_LIST)
    return list(spider.finish_account(account, [
        _outcome(page, Failure(FailureKind.BLOCKED, "TikTok's WAF challenge page instead of the profile", 200), PAGE),
        _outcome(browser, parse(_fixture("profile_page_statsv2_synthetic"), PAGE), PAGE),
        _outcome(videos, posts, ITEM_LIST)]))


def test_a_wall_both_times_is_one_failure_naming_both_answers() -> None:
    (item,) = _items(_spider(), profile=False)
    assert isinstance(item, FailureItem) and item.failure.kind is FailureKind.BLOCKED
    assert item.failure.detail == ("plain request: empty page (TikTok's answer to a suspected bot); "
                                   "Chromium: TikTok's WAF challenge page instead of the profile")


def test_the_page_verdict_is_the_plain_one_when_chromium_got_no_answer() -> None:
    spider, account = _spider(), AccountRef("tiktok", handle="zg.520")
    page, browser = spider.sources(account)
    (item,) = spider.finish_account(account, [
        _outcome(page, Failure(FailureKind.CAPTCHA, "a captcha", 200), PAGE),
        _outcome(browser, Failure(FailureKind.NETWORK, "TimeoutError: page.goto"), PAGE)])
    assert item.failure.kind is FailureKind.CAPTCHA and "Chromium: TimeoutError" in item.failure.detail


def test_a_walled_item_list_keeps_the_profile_and_comes_before_it() -> None:
    failure, profile = _items(_spider(), walled_posts=True)
    assert isinstance(failure, FailureItem) and (failure.failure.kind, failure.url) == (FailureKind.BLOCKED, ITEM_LIST)
    assert isinstance(profile, ProfileItem) and profile.profile.followers == 427_682
    kinds = [type(i).__name__ for i in _items(_spider())]
    assert kinds == ["PostsItem", "ProfileItem"]  # the browser got past the wall: no failure


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count


def _breaker(threshold: int) -> Any:
    from crawler.middlewares.circuit import CircuitBreakerMiddleware

    crawler = SimpleNamespace(stats=_Stats(), spider=None)
    return CircuitBreakerMiddleware(crawler, threshold, 600.0, {"rate_limited", "blocked", "captcha"})  # type: ignore[arg-type]


def test_a_walled_item_list_does_not_count_toward_the_circuit_breaker() -> None:
    """The breaker counts refused *accounts* in a row: an account whose profile was read is not
    one, even when its videos were walled; a fully walled account counts once."""
    spider = _spider()
    breaker = _breaker(threshold=3)
    for items in (_items(spider, profile=False), _items(spider, walled_posts=True), _items(spider, profile=False),
                  _items(spider, walled_posts=True), _items(spider, profile=False), _items(spider, profile=False)):
        for item in items:
            breaker.item_scraped(item, spider=spider)
    state = breaker.states["tiktok"]
    assert (state.refusals, state.open_until) == (2, None)  # the last two walled accounts only
    assert "wangzi/circuit/opened" not in breaker.crawler.stats.values


def test_with_threshold_minus_one_refusals_before_it_a_walled_item_list_does_not_open_the_breaker() -> None:
    """The walled item_list's failure says the profile was read (``profile_read``): the breaker
    ignores it, so it never opens - not even for the moment before the profile item arrives."""
    spider = _spider()
    breaker = _breaker(threshold=2)
    items = _items(spider, profile=False) + _items(spider, walled_posts=True)
    assert [getattr(i, "profile_read", None) for i in items if type(i).__name__ == "FailureItem"] == [False, True]
    for item in items:
        breaker.item_scraped(item, spider=spider)
    state = breaker.states["tiktok"]
    assert (state.refusals, state.open_until) == (0, None)
    assert "wangzi/circuit/opened" not in breaker.crawler.stats.values


def test_embedded_videos_of_another_author_are_not_the_accounts() -> None:
    data = {"__DEFAULT_SCOPE__": {"webapp.user-detail": {
        "statusCode": 0, "userInfo": {"user": {"id": "1", "uniqueId": "someone"}, "statsV2": {"followerCount": "5"}},
        "itemList": [{"id": "7000000000000000001", "author": {"uniqueId": "someone"}},
                     {"id": "7000000000000000002", "author": {"uniqueId": "somebody.else", "id": "2"}},
                     {"id": "7000000000000000003", "author": "SomeOne"}]}}}
    page = ('<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">' + json.dumps(data) + "</script>").encode()
    profile = parse(page, "https://www.tiktok.com/@someone")
    assert [p.post_id for p in profile.recent_posts] == ["7000000000000000001", "7000000000000000003"]


def test_both_store_ids_of_older_pages_are_read_and_the_sec_uid_is_kept() -> None:
    fixtures = Path(__file__).parent / "fixtures" / "tiktok"
    results = [parse((fixtures / case / "response.html").read_bytes(), "https://www.tiktok.com/@oddanimalspecimens")
               for case in ("profile_page_sigi_state_item_module_synthetic", "profile_page_sigi_persisted_data_synthetic")]
    assert isinstance(results[0], Profile) and results[0] == results[1]
    assert results[0].other_user_id == "MS4wLjABAAAA-VASjiXTh7wDDyXvjk10VFhMWUAoxr8bgfO1kAL1-9s"
