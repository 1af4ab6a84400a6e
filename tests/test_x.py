"""X: account input, the parser's edge cases beyond the fixtures, cookie configuration and
what the spider requests (or refuses to request)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from records import AccountRef, Failure, FailureItem, FailureKind, Profile
from spiders.credentials import InsecureSecretsFile
from spiders.pages import x
from spiders.pages.x import USER_FEATURES, normalize_account, parse
from spiders.x import CookieProblem, XSpider, configured_cookies, cookie_pairs
from tests.helpers import make_spider

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "x"
FIXTURES = Path(__file__).parent / "fixtures" / "x"
BY_NAME = x.graphql_url("UserByScreenName", {"screen_name": "XDevelopers", "withSafetyModeUserFields": True}, USER_FEATURES)


@pytest.mark.parametrize(
    ("text", "handle", "user_id"),
    [
        ("XDevelopers", "XDevelopers", None),
        ("@XDevelopers", "XDevelopers", None),
        ("https://x.com/XDevelopers", "XDevelopers", None),
        ("https://twitter.com/XDevelopers/status/1851463451929186504", "XDevelopers", None),
        ("mobile.twitter.com/XDevelopers", "XDevelopers", None),
        ("x.com/XDevelopers?lang=en", "XDevelopers", None),
        ("https://x.com/i/user/2244994945", None, "2244994945"),
        ("1584209731400327168", None, "1584209731400327168"),
    ],
)
def test_normalize_account_accepts_handles_urls_and_ids(text: str, handle: str | None, user_id: str | None) -> None:
    ref = normalize_account(text)
    assert (ref.platform, ref.handle, ref.platform_user_id) == ("x", handle, user_id)


@pytest.mark.parametrize("text", ["https://x.com/home", "https://x.com/search?q=a", "https://example.com/XDevelopers",
                                  "this handle is too long", "名字", "https://x.com/"])
def test_normalize_account_rejects_what_is_not_an_account(text: str) -> None:
    with pytest.raises(ValueError, match="X"):
        normalize_account(text)


def test_three_schema_generations_give_the_same_fields() -> None:
    old = parse((SAMPLES / "graphql-UserByScreenName-XDevelopers-2025-03-legacy.json").read_bytes(), BY_NAME)
    mid = parse((SAMPLES / "graphql-UserByScreenName-XDevelopers-2026-05-core+legacy.json").read_bytes(), BY_NAME)
    # The 2026-05 sample with its legacy block removed and the counts moved where the
    # current schema keeps them: the parser must not need legacy at all.
    current = json.loads((SAMPLES / "graphql-UserByScreenName-XDevelopers-2026-05-core+legacy.json").read_text())
    result = current["data"]["user"]["result"]
    legacy = result.pop("legacy")
    result["relationship_counts"] = {"followers": legacy["followers_count"], "following": legacy["friends_count"]}
    result["tweet_counts"] = {"tweets": legacy["statuses_count"]}
    new = parse(json.dumps(current).encode(), BY_NAME)
    assert isinstance(old, Profile) and isinstance(mid, Profile) and isinstance(new, Profile)
    for profile in (old, mid, new):
        assert (profile.handle, profile.platform_user_id, profile.display_name) == ("XDevelopers", "2244994945", "Developers")
        assert profile.verified is True and profile.location == "127.0.0.1"
    assert (mid.followers, mid.following, mid.posts) == (new.followers, new.following, new.posts) == (683277, 759, 4273)
    assert (old.followers, old.following, old.posts) == (700242, 746, 4079)
    assert new.links == ()  # its website was only in legacy.entities, which is gone


def test_counts_missing_stay_none_never_zero() -> None:
    payload = {"data": {"user": {"result": {"__typename": "User", "rest_id": "1", "core": {"screen_name": "a", "name": "A"}}}}}
    profile = parse(json.dumps(payload).encode(), BY_NAME)
    assert isinstance(profile, Profile)
    assert (profile.followers, profile.following, profile.posts, profile.verified) == (None, None, None, None)


def test_protected_account_with_counts_is_still_a_profile() -> None:
    payload = {"data": {"user": {"result": {"__typename": "User", "rest_id": "1", "privacy": {"protected": True},
                                            "core": {"screen_name": "a"}, "relationship_counts": {"followers": 5, "following": 0}}}}}
    profile = parse(json.dumps(payload).encode(), BY_NAME)
    assert isinstance(profile, Profile) and (profile.followers, profile.following) == (5, 0)


def test_partial_errors_next_to_a_user_do_not_hide_it() -> None:
    payload = json.loads((SAMPLES / "graphql-UserByScreenName-XDevelopers-2025-03-legacy.json").read_text())
    payload["errors"] = [{"message": "Dependency: Unspecified", "code": 0, "path": ["user", "result", "highlights_info"]}]
    assert isinstance(parse(json.dumps(payload).encode(), BY_NAME), Profile)


@pytest.mark.parametrize(
    ("body", "status", "kind", "in_detail"),
    [
        ({"errors": [{"code": 63, "message": "User has been suspended."}]}, 403, FailureKind.NOT_FOUND, "suspended"),
        ({"data": {"user": {"result": {"__typename": "UserUnavailable", "reason": "Suspended"}}}}, 200,
         FailureKind.NOT_FOUND, "suspended"),
        ({"data": {"user": {"result": {"__typename": "UserUnavailable", "reason": "Protected"}}}}, 200,
         FailureKind.PRIVATE, "protected"),
        ({"data": {"user": {"result": {"__typename": "UserUnavailable", "reason": "NoReason"}}}}, 200,
         FailureKind.NOT_FOUND, "unavailable"),
        ({"errors": [{"code": 32, "message": "Could not authenticate you."}]}, 401, FailureKind.LOGIN_REQUIRED, "32"),
        ({"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, 200, FailureKind.RATE_LIMITED, "88"),
        ({"errors": [{"message": "Query: Unspecified", "code": 0}]}, 400, FailureKind.UNRECOGNIZED, "error 0"),
    ],
)
def test_error_answers_are_typed(body: dict, status: int, kind: FailureKind, in_detail: str) -> None:
    result = parse(json.dumps(body).encode(), BY_NAME, status)
    assert isinstance(result, Failure) and result.kind is kind and in_detail in result.detail
    assert result.status == status


def test_v2_problem_objects_are_typed() -> None:
    url = "https://api.x.com/2/users/by/username/nobody_here_42"
    not_found = {"errors": [{"value": "nobody_here_42", "detail": "Could not find user with username: [nobody_here_42].",
                             "title": "Not Found Error", "resource_type": "user", "parameter": "username",
                             "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    suspended = {"errors": [{"detail": "User has been suspended: [spam].", "title": "Forbidden",
                             "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    assert parse(json.dumps(not_found).encode(), url).kind is FailureKind.NOT_FOUND  # type: ignore[union-attr]
    result = parse(json.dumps(suspended).encode(), url)
    assert isinstance(result, Failure) and result.kind is FailureKind.NOT_FOUND and "suspended" in result.detail


def test_shape_decides_without_a_url() -> None:
    about = parse((SAMPLES / "graphql-AboutAccountQuery-XDevelopers-2026-05.json").read_bytes())
    v2 = parse((SAMPLES / "api-v2-users-lookup-public_metrics-XDevelopers-xdocs-example.json").read_bytes())
    assert isinstance(about, Profile) and (about.country, about.ip_location) == ("US", "United States")
    assert isinstance(v2, Profile) and v2.followers == 583423


def test_parser_never_raises_on_mangled_input() -> None:
    sample = (SAMPLES / "graphql-UserByScreenName-XDevelopers-2026-05-core+legacy.json").read_bytes()
    for cut in range(0, len(sample), 97):
        assert isinstance(parse(sample[:cut], BY_NAME), (Profile, Failure))
    for body in (b"[]", b"null", b'"x"', b'{"data": []}', b'{"data": {"user": []}}', b'{"data": {"user": {"result": 5}}}',
                 b'{"data": {"user": {"result": {"legacy": [], "core": 3, "relationship_counts": {"followers": "many"}}}}}'):
        assert isinstance(parse(body, BY_NAME), (Profile, Failure)), body


# --------------------------------------------------------------------------- configuration


def test_cookies_from_environment_need_both_values() -> None:
    assert configured_cookies({}) is None
    assert configured_cookies({"WANGZI_X_AUTH_TOKEN": "tok123456", "WANGZI_X_CT0": "ct0abcdef"}) == {
        "auth_token": "tok123456", "ct0": "ct0abcdef"}
    with pytest.raises(CookieProblem, match="WANGZI_X_CT0"):
        configured_cookies({"WANGZI_X_AUTH_TOKEN": "tok123456"})


@pytest.mark.parametrize(
    "content",
    [
        "auth_token=tok123456; ct0=ct0abcdef; lang=en",
        "Cookie: auth_token=tok123456; ct0=ct0abcdef",
        "# Netscape HTTP Cookie File\n.x.com\tTRUE\t/\tTRUE\t1999999999\tauth_token\ttok123456\n"
        ".x.com\tTRUE\t/\tTRUE\t1999999999\tct0\tct0abcdef\n",
        json.dumps([{"name": "auth_token", "value": "tok123456", "domain": ".x.com"}, {"name": "ct0", "value": "ct0abcdef"}]),
        json.dumps({"auth_token": "tok123456", "ct0": "ct0abcdef"}),
    ],
)
def test_cookie_file_formats(tmp_path: Path, content: str) -> None:
    file = tmp_path / "x-cookies"
    file.write_text(content)
    file.chmod(0o600)
    assert configured_cookies({"WANGZI_X_COOKIE_FILE": str(file)}) == {"auth_token": "tok123456", "ct0": "ct0abcdef"}


def test_cookie_file_readable_by_others_or_incomplete_is_refused_without_its_values(tmp_path: Path) -> None:
    file = tmp_path / "x-cookies"
    file.write_text("auth_token=tok123456")
    file.chmod(0o644)
    with pytest.raises(InsecureSecretsFile, match="chmod 600"):
        configured_cookies({"WANGZI_X_COOKIE_FILE": str(file)})
    file.chmod(0o600)
    with pytest.raises(CookieProblem, match="no ct0 cookie") as error:
        configured_cookies({"WANGZI_X_COOKIE_FILE": str(file)})
    assert "tok123456" not in str(error.value)
    assert cookie_pairs("garbage without pairs") == {}


# --------------------------------------------------------------------------- spider


def _start_items(spider: XSpider) -> list[object]:
    async def collect() -> list[object]:
        return [item async for item in spider.start()]

    return asyncio.run(collect())


def test_without_cookies_every_account_fails_login_required_and_nothing_is_requested(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WANGZI_X_AUTH_TOKEN", "WANGZI_X_CT0", "WANGZI_X_COOKIE_FILE"):
        monkeypatch.delenv(name, raising=False)
    targets = [AccountRef("x", handle="XDevelopers"), AccountRef("x", platform_user_id="2244994945")]
    items = _start_items(make_spider(XSpider, targets=targets))
    assert all(isinstance(item, FailureItem) for item in items) and len(items) == 2
    assert {item.failure.kind for item in items} == {FailureKind.LOGIN_REQUIRED}  # type: ignore[attr-defined]
    assert [item.url for item in items] == ["https://x.com/XDevelopers", "https://x.com/i/user/2244994945"]  # type: ignore[attr-defined]
    assert "WANGZI_X_AUTH_TOKEN" in items[0].failure.detail  # type: ignore[attr-defined]


def test_with_cookies_the_graphql_requests_carry_them_and_the_csrf_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANGZI_X_AUTH_TOKEN", "tok123456")
    monkeypatch.setenv("WANGZI_X_CT0", "ct0abcdef")
    monkeypatch.delenv("WANGZI_X_COOKIE_FILE", raising=False)
    requests = _start_items(make_spider(XSpider, targets=[AccountRef("x", handle="XDevelopers")]))
    (request,) = requests
    assert request.url == BY_NAME  # type: ignore[attr-defined]
    query = parse_qs(urlsplit(request.url).query)  # type: ignore[attr-defined]
    assert json.loads(query["variables"][0]) == {"screen_name": "XDevelopers", "withSafetyModeUserFields": True}
    assert request.headers[b"x-csrf-token"] == b"ct0abcdef"  # type: ignore[attr-defined]
    assert request.headers[b"Authorization"].startswith(b"Bearer AAAA")  # type: ignore[attr-defined]
    assert request.cookies == {"auth_token": "tok123456", "ct0": "ct0abcdef"}  # type: ignore[attr-defined]
    chain = request.meta["wangzi_chain"]  # type: ignore[attr-defined]
    assert [source.name for source in chain] == ["x.user_by_screen_name", "x.about_account"]
    assert "/AboutAccountQuery?" in chain[1].url


def test_an_id_only_account_is_read_with_user_by_rest_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANGZI_X_AUTH_TOKEN", "tok123456")
    monkeypatch.setenv("WANGZI_X_CT0", "ct0abcdef")
    (source,) = make_spider(XSpider).sources(AccountRef("x", platform_user_id="2244994945"))
    assert source.name == "x.user_by_rest_id" and "/UserByRestId?" in source.url


def test_an_unusable_cookie_file_is_a_login_required_failure_naming_the_problem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    file = tmp_path / "x-cookies"
    file.write_text("auth_token=tok123456; ct0=ct0abcdef")
    file.chmod(0o644)
    for name in ("WANGZI_X_AUTH_TOKEN", "WANGZI_X_CT0"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WANGZI_X_COOKIE_FILE", str(file))
    (item,) = _start_items(make_spider(XSpider, targets=[AccountRef("x", handle="XDevelopers")]))
    assert isinstance(item, FailureItem) and item.failure.kind is FailureKind.LOGIN_REQUIRED
    assert "chmod 600" in item.failure.detail and "tok123456" not in item.failure.detail
    assert os.environ["WANGZI_X_COOKIE_FILE"] == str(file)


def test_user_tweets_from_either_timeline_key_keep_only_the_accounts_own_posts() -> None:
    case = FIXTURES / "user_tweets_synthetic"
    url = json.loads((case / "meta.json").read_text())["url"]
    payload = json.loads((case / "response.json").read_text())
    result = payload["data"]["user"]["result"]
    result["timeline_v2"] = result.pop("timeline")  # the key until 2025
    page = parse(json.dumps(payload).encode(), url)
    from records import PostPage

    assert isinstance(page, PostPage) and page.platform_user_id == "1584209731400327168"
    assert [p.post_id for p in page.posts] == [
        "1850000000000000001", "1860000000000000006", "1860000000000000005", "1860000000000000002"]
    assert page.posts[0].text and page.posts[0].text.endswith("where to buy it abroad…")  # the note text, not the cut one
    assert page.posts[2].views is None  # no view count shown -> not read


def test_after_a_profile_the_spider_asks_for_the_accounts_posts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANGZI_X_AUTH_TOKEN", "tok123456")
    monkeypatch.setenv("WANGZI_X_CT0", "ct0abcdef")
    spider = make_spider(XSpider)
    account = AccountRef("x", handle="XDevelopers")
    chain = spider.sources(account)
    profile = parse((SAMPLES / "graphql-UserByScreenName-XDevelopers-2025-03-legacy.json").read_bytes(), BY_NAME)
    grown = spider.next_sources(account, chain[0], profile, None, chain[1:])
    assert [s.name for s in grown] == ["x.about_account", "x.user_tweets"]
    assert json.loads(parse_qs(urlsplit(grown[1].url).query)["variables"][0])["userId"] == "2244994945"
    # A profile that was not found still lets the about query run, but asks for no posts.
    failed = spider.next_sources(account, chain[0], Failure(FailureKind.HTTP_ERROR, "500", 500), None, chain[1:])
    assert [s.name for s in failed] == ["x.about_account"]


def test_an_id_only_account_gets_its_country_query_once_the_handle_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANGZI_X_AUTH_TOKEN", "tok123456")
    monkeypatch.setenv("WANGZI_X_CT0", "ct0abcdef")
    spider = make_spider(XSpider)
    account = AccountRef("x", platform_user_id="2244994945")
    (by_id,) = spider.sources(account)
    profile = parse((SAMPLES / "graphql-UserByScreenName-XDevelopers-2026-05-core+legacy.json").read_bytes(),
                    by_id.url.split("?")[0])
    grown = spider.next_sources(account, by_id, profile, None, [])
    assert [s.name for s in grown] == ["x.about_account", "x.user_tweets"]
    assert json.loads(parse_qs(urlsplit(grown[0].url).query)["variables"][0]) == {"screenName": "XDevelopers"}
    assert grown[0].cookies == {"auth_token": "tok123456", "ct0": "ct0abcdef"}


@pytest.mark.parametrize("kind", [FailureKind.RATE_LIMITED, FailureKind.LOGIN_REQUIRED, FailureKind.BLOCKED])
def test_after_a_rate_limit_or_refused_session_nothing_more_is_asked(monkeypatch: pytest.MonkeyPatch, kind: FailureKind) -> None:
    from records import FailureItem as Item

    monkeypatch.setenv("WANGZI_X_AUTH_TOKEN", "tok123456")
    monkeypatch.setenv("WANGZI_X_CT0", "ct0abcdef")
    spider = make_spider(XSpider)
    account = AccountRef("x", handle="XDevelopers")
    chain = spider.sources(account)
    meta = {"wangzi_account": account, "wangzi_chain": chain, "wangzi_index": 0, "wangzi_results": []}
    items = list(spider._advance(meta, (chain[0], Failure(kind, "refused", 429), None, chain[0].url), None))
    assert [type(item) for item in items] == [Item]


def test_graphql_urls_fit_the_spiders_url_length_limit() -> None:
    """Scrapy drops longer URLs silently (UrlLengthMiddleware); the spider raises its limit."""
    longest = max(len(x.user_tweets_url("1584209731400327168", 100)), len(BY_NAME))
    assert 2083 < longest < XSpider.custom_settings["URLLENGTH_LIMIT"]


def test_cookies_can_come_from_the_secrets_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('WANGZI_X_AUTH_TOKEN = "tok123456"\nWANGZI_X_CT0 = "ct0abcdef"\n')
    secrets.chmod(0o600)
    for name in ("WANGZI_X_AUTH_TOKEN", "WANGZI_X_CT0", "WANGZI_X_COOKIE_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WANGZI_SECRETS_FILE", str(secrets))
    assert configured_cookies() == {"auth_token": "tok123456", "ct0": "ct0abcdef"}


def test_the_current_schemas_website_is_read_expanded_from_profile_bio_entities() -> None:
    """twscrape's real 2026-08 answer: ``website.url`` is a t.co link, its target is in
    ``profile_bio.entities.url.urls[].expanded_url``."""
    case = Path(__file__).parent / "fixtures" / "x" / "user_by_screen_name_2026_08_current_no_legacy"
    result = x.parse((case / "response.json").read_bytes(), json.loads((case / "meta.json").read_text())["url"], 200)
    assert isinstance(result, Profile)
    assert result.links == ("https://docs.x.com/",)
    assert not any("t.co/" in link for link in result.links)
