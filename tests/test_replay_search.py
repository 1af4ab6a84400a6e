"""The search spiders end to end: ``wangzi discover`` through Scrapy's real download path,
served from recordings of real (or marked synthetic) search answers, into the leads queue.

Each platform's search is replayed with its answers and with a wall (block, captcha, login)
that must become a typed failure stored under ``<platform>_search`` and stop that platform's
other queries. Xiaohongshu's search page goes through a real Chromium (marked ``browser``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from spiders.pages.bilibili_search import SEARCH_URL as BILIBILI_SEARCH
from spiders.pages.weibo_search import search_url as weibo_url
from spiders.pages.xiaohongshu_search import search_page_url
from spiders.pages.youtube_search import INNERTUBE_URL, data_api_url
from storage.db import session_scope
from storage.models import Lead, LeadSighting
from tests.helpers import Exchange, failures, fixture_exchange, json_output, run_wangzi, write_har

JSON = {"Content-Type": "application/json; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _discover(tmp_path: Path, database_url: str, exchanges: list[Exchange], *args: str) -> tuple[int, dict[str, Any]]:
    har = write_har(tmp_path / "search.har", exchanges)
    process = run_wangzi("discover", *args, "--replay", str(har), "--json", database_url=database_url)
    assert process.returncode in (0, 1), process.stderr
    return process.returncode, json_output(process)


def _leads(database_url: str) -> list[Lead]:
    with session_scope(database_url) as session:
        return list(session.exec(select(Lead).order_by(Lead.id)).all())


def _bilibili(case: str, keyword: str, kind: str, page: int = 1) -> Exchange:
    search_type = "bili_user" if kind == "users" else "video"
    return fixture_exchange("bilibili_search", case, headers=JSON, url=f"{BILIBILI_SEARCH}?search_type={search_type}&keyword={keyword}&page={page}")


NAV = fixture_exchange("bilibili", "nav_not_logged_in_code_-101", headers=JSON)


def _innertube(case: str) -> Exchange:
    """A recorded answer to the web client's search POST."""
    return replace(fixture_exchange("youtube_search", case, headers=JSON), method="POST")


def test_bilibili_user_and_video_search_become_leads_one_request_at_a_time(tmp_path: Path, sqlite_url: str) -> None:
    recording = [
        NAV,
        _bilibili("user_search_derived_synthetic", "少年", "users"),
        _bilibili("video_search_shaonian_2020", "少年", "posts"),  # page 1 of 50: names a next page
        _bilibili("no_results_synthetic", "少年", "posts", page=2),
    ]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "少年", "-p", "bilibili", "--pages", "2", "--hops", "0")

    assert code == 0 and summary["failures"] == []
    assert summary["requests"] == {"bilibili_search": 4}  # nav + users + two pages of videos
    by_source = {row["source"]: row for row in summary["sources"]}
    assert by_source["bilibili_search.users"]["new"] == 2
    assert by_source["bilibili_search.posts"] == {"source": "bilibili_search.posts", "sightings": 18, "new": 18, "duplicates": 0}
    leads = {lead.platform_user_id: lead for lead in _leads(sqlite_url)}
    assert len(leads) == 20
    chen = leads["208259"]  # the real user result: exact follower count, verification, bio
    assert (chen.display_name, chen.followers, chen.followers_approximate, chen.verified) == ("陈睿", 1561640, False, True)
    assert (chen.seed_kind, chen.seed, chen.query, chen.source, chen.hop) == ("keyword", "少年", "少年", "bilibili_search.users", 0)
    author = leads["353230307"]  # Da圣音乐 wrote three of the twenty videos: one lead, three texts
    assert author.display_name == "Da圣音乐" and author.followers is None  # a video result shows no follower count
    assert author.post_url == "https://www.bilibili.com/video/BV1LE411G7F4" and "<em" not in author.texts


def test_bilibili_risk_control_is_a_blocked_failure_and_stops_the_other_searches(tmp_path: Path, sqlite_url: str) -> None:
    recording = [NAV, _bilibili("error_-412_request_blocked", "海淘", "users")]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "海淘", "--seed", "代购", "-p", "bilibili")

    assert code == 1
    assert summary["requests"] == {"bilibili_search": 2}  # the three other queries were not asked
    assert summary["stopped"] == {"bilibili_search": "blocked"}
    assert [(f.platform, f.kind, f.http_status, f.account_id) for f in failures(sqlite_url)] == [
        ("bilibili_search", "blocked", 412, None)]
    assert _leads(sqlite_url) == []


def test_weibo_search_pages_posts_and_an_at_mention_resolved_one_hop_away(tmp_path: Path, sqlite_url: str) -> None:
    recording = [
        fixture_exchange("weibo_search", "user_search_synthetic", headers=JSON, url=weibo_url("users", "迪丽热巴", 1)),
        fixture_exchange("weibo_search", "ok0_nothing_found_synthetic", headers=JSON, url=weibo_url("users", "迪丽热巴", 2)),
        fixture_exchange("weibo_search", "post_search_synthetic", headers=JSON, url=weibo_url("posts", "迪丽热巴", 1)),
        fixture_exchange("weibo_search", "resolve_user_search_synthetic", headers=JSON),
    ]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "迪丽热巴", "-p", "weibo")

    assert code == 0 and summary["failures"] == []
    assert summary["requests"] == {"weibo_search": 4}
    leads = {lead.platform_user_id: lead for lead in _leads(sqlite_url)}
    assert set(leads) == {"1669879400", "7000000001", "7000000002", "7000000003", "7000000004", "7000000005"}
    mika = leads["7000000003"]  # a post's author: the place the post was sent from, brands named
    assert (mika.ip_location, mika.country, mika.followers, mika.followers_approximate) == ("日本", "JP", 125000, True)
    assert {"SK-II", "Shiseido"} <= set(mika.brands) and mika.score > leads["7000000004"].score
    resolved = leads["7000000005"]  # @小鹿的海淘日记 in Mika's post, searched by its exact name
    assert (resolved.display_name, resolved.hop, resolved.via_account) == ("小鹿的海淘日记", 1, "weibo:7000000003")
    assert (resolved.source, resolved.post_url) == ("weibo_search.resolve", "https://m.weibo.cn/detail/5200000000000001")
    assert "7000000006" not in leads  # a look-alike name is not the mentioned account


def test_weibo_captcha_is_a_failure_and_nothing_else_is_asked(tmp_path: Path, sqlite_url: str) -> None:
    recording = [fixture_exchange("weibo_search", "ok-100_geetest_captcha", headers=JSON, url=weibo_url("users", "海淘", 1))]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "海淘", "-p", "weibo")

    assert code == 1 and summary["requests"] == {"weibo_search": 1}
    assert [(f["source"], f["kind"]) for f in summary["failures"]] == [("weibo_search", "captcha")]
    assert _leads(sqlite_url) == []


def test_weibo_login_wall_and_418_are_typed_failures(tmp_path: Path, sqlite_url: str) -> None:
    recording = [
        fixture_exchange("weibo_search", "login_redirect_synthetic", headers=JSON, url=weibo_url("users", "海淘", 1)),
    ]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "海淘", "-p", "weibo")
    assert code == 1 and [f["kind"] for f in summary["failures"]] == ["login_required"]

    recording = [Exchange(url=weibo_url("users", "代购", 1), status=418, body=b"")]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "代购", "-p", "weibo", "-s", "RETRY_ENABLED=false")
    assert code == 1 and [(f["kind"], f["status"]) for f in summary["failures"]] == [("blocked", 418)]


def test_youtube_channel_search_follows_its_continuation_and_reads_collaborators(tmp_path: Path, sqlite_url: str) -> None:
    # Every InnerTube search is a POST to one URL: the recording answers them in the order the
    # spider asks - channels page 1, its continuation, then the video search (whose second page,
    # asked because its answer names one, gets the last recorded answer again).
    recording = [
        _innertube("channel_search_test_page1_2026"),
        _innertube("channel_search_test_page2_continuation_2026"),
        _innertube("video_search_collaborators_2026"),
    ]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "test", "-p", "youtube", "--pages", "2", "--hops", "0")

    assert code == 0 and summary["requests"] == {"youtube_search": 4}
    leads = {lead.platform_user_id: lead for lead in _leads(sqlite_url)}
    assert len(leads) == 42
    first = leads["UCZRcA_nO3Kt-SOml2mY8D9g"]
    assert (first.handle, first.followers, first.followers_approximate) == ("tutorialismic", 234000, True)
    vortex, gauthier = leads["UCZxLew-WXWm5dhRZBgEFl-Q"], leads["UCx0oS6YmHSbOMnN3vQvTR0Q"]
    assert (vortex.handle, vortex.source) == ("LeVortexARTE", "youtube_search.posts")
    assert gauthier.post_url == vortex.post_url == "https://www.youtube.com/watch?v=Nxk6aRHi664"
    with session_scope(sqlite_url) as session:
        sources = {s.lead_id: s.source for s in session.exec(select(LeadSighting))}
    assert sources[vortex.id] == sources[gauthier.id] == "youtube_search.posts"


def test_youtube_consent_wall_and_rate_limit_are_typed_failures(tmp_path: Path, sqlite_url: str) -> None:
    consent = fixture_exchange("youtube_search", "consent_redirect_blocked_synthetic", headers=HTML)
    recording = [Exchange(url=INNERTUBE_URL, method="POST", status=302, headers={"Location": consent.url}), consent]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "haul", "-p", "youtube")
    assert code == 1 and [f["kind"] for f in summary["failures"]] == ["blocked"]
    assert summary["requests"] == {"youtube_search": 1}

    recording = [Exchange(url=INNERTUBE_URL, method="POST", status=429, body=b"")]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "unboxing", "-p", "youtube", "-s", "RETRY_ENABLED=false")
    assert code == 1 and [(f["kind"], f["status"]) for f in summary["failures"]] == [("rate_limited", 429)]


@pytest.mark.parametrize(("platform", "exchanges", "env", "kind", "status"), [
    ("bilibili", [NAV, _bilibili("code_-799_rate_limited_synthetic", "海淘", "users")], {}, "rate_limited", 200),
    ("bilibili", [NAV, _bilibili("wbi_v_voucher_risk_control", "海淘", "users")], {}, "blocked", 200),
    ("youtube", [fixture_exchange("youtube_search", "dataapi_invalid_key_synthetic", headers=JSON,
                                  url=data_api_url("users", "海淘"))], {"YOUTUBE_API_KEY": "a-bad-key"}, "login_required", 400),
    ("youtube", [fixture_exchange("youtube_search", "dataapi_quota_exceeded_synthetic", headers=JSON,
                                  url=data_api_url("users", "海淘"))], {"YOUTUBE_API_KEY": "a-spent-key"}, "rate_limited", 403),
], ids=["bilibili-799-rate-limited", "bilibili-v_voucher-blocked", "youtube-dataapi-bad-key", "youtube-dataapi-quota"])
def test_every_search_wall_is_a_typed_failure_that_stops_the_platforms_other_queries(
        tmp_path: Path, sqlite_url: str, platform: str, exchanges: list[Exchange], env: dict[str, str], kind: str,
        status: int) -> None:
    har = write_har(tmp_path / "search.har", exchanges)
    process = run_wangzi("discover", "--seed", "海淘", "--seed", "代购", "-p", platform, "--replay", str(har), "--json",
                         "-s", "RETRY_ENABLED=false", database_url=sqlite_url, env=env)
    assert process.returncode == 1, process.stderr
    summary = json_output(process)
    assert [(f["source"], f["kind"], f["status"]) for f in summary["failures"]] == [(f"{platform}_search", kind, status)]
    assert summary["stopped"] == {f"{platform}_search": kind}
    assert summary["requests"] == {f"{platform}_search": len(exchanges)}  # nav (Bilibili) and the first search only
    assert _leads(sqlite_url) == []


def test_the_request_budget_is_split_between_platforms_and_never_exceeded(tmp_path: Path, sqlite_url: str) -> None:
    recording = [
        NAV,
        _bilibili("user_search_derived_synthetic", "少年", "users"),
        fixture_exchange("weibo_search", "user_search_synthetic", headers=JSON, url=weibo_url("users", "少年", 1)),
    ]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "少年", "-p", "bilibili", "-p", "weibo",
                              "--max-requests", "3", "--hops", "0")

    assert code == 0
    assert summary["budget"] == {"bilibili": 2, "weibo": 1}
    assert summary["requests"] == {"bilibili_search": 2, "weibo_search": 1}

    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "少年", "-p", "bilibili", "-p", "weibo",
                              "--max-requests", "1", "--hops", "0")
    assert code == 0 and summary["budget"] == {"bilibili": 1, "weibo": 0}
    assert summary["requests"] == {"bilibili_search": 1, "weibo_search": 0}  # nav alone; Weibo's share was nothing
    assert summary["stopped"] == {"bilibili_search": "budget", "weibo_search": "budget"}


@pytest.mark.browser
def test_xiaohongshu_search_page_through_chromium_gives_note_authors_and_users(tmp_path: Path, sqlite_url: str) -> None:
    recording = [fixture_exchange("xiaohongshu_search", "search_page_state_synthetic", headers=HTML, url=search_page_url("海淘"))]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "海淘", "-p", "xiaohongshu")

    assert code == 0 and summary["failures"] == []
    # Mika is a user result and a note's author: one lead, seen twice in one answer (one sighting row)
    assert summary["sources"] == [{"source": "xiaohongshu_search.page", "sightings": 3, "new": 3, "duplicates": 0}]
    leads = {lead.platform_user_id: lead for lead in _leads(sqlite_url)}
    mika = leads["5b1c2d3e4f5a6b7c8d9e0f11"]
    assert (mika.handle, mika.followers, mika.verified, mika.sightings) == ("95400001", 125000, True, 2)
    assert "免税价对比" in mika.texts


@pytest.mark.browser
def test_xiaohongshu_results_the_pages_scripts_fill_later_are_read_from_the_live_store(tmp_path: Path, sqlite_url: str) -> None:
    """The served HTML has an empty store; the page's script fills notes later and users once
    the user tab is clicked: only the snapshot script, run in Chromium, can see them."""
    recording = [fixture_exchange("xiaohongshu_search", "search_page_filled_by_scripts_synthetic", headers=HTML)]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "首尔", "-p", "xiaohongshu")

    assert code == 0 and summary["new_leads"] == 2
    leads = {lead.platform_user_id: lead for lead in _leads(sqlite_url)}
    assert leads["5b1c2d3e4f5a6b7c8d9e0f22"].followers == 88000  # from the user tab
    assert leads["5b1c2d3e4f5a6b7c8d9e0f21"].post_url == "https://www.xiaohongshu.com/explore/6740a1b2000000000c01b001"


@pytest.mark.browser
def test_xiaohongshu_risk_control_status_is_blocked(tmp_path: Path, sqlite_url: str) -> None:
    recording = [fixture_exchange("xiaohongshu_search", "blocked_http_461_page", headers=HTML, url=search_page_url("代购"))]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "代购", "-p", "xiaohongshu")

    assert code == 1 and [(f["kind"], f["status"]) for f in summary["failures"]] == [("blocked", 461)]


@pytest.mark.browser
@pytest.mark.parametrize(("case", "kind"), [("captcha_redirect", "captcha"), ("login_redirect", "login_required")])
def test_xiaohongshu_redirects_to_verification_or_login_are_typed_failures(
        tmp_path: Path, sqlite_url: str, case: str, kind: str) -> None:
    wall = fixture_exchange("xiaohongshu_search", case, headers=HTML)
    recording = [Exchange(url=search_page_url("海淘"), status=302, headers={"Location": wall.url}), wall]
    code, summary = _discover(tmp_path, sqlite_url, recording, "--seed", "海淘", "--seed", "代购", "-p", "xiaohongshu")

    assert code == 1 and [(f["source"], f["kind"]) for f in summary["failures"]] == [("xiaohongshu_search", kind)]
    assert summary["requests"] == {"xiaohongshu_search": 1}  # 代购 was not asked
    assert _leads(sqlite_url) == []


def test_search_failures_are_stored_apart_from_the_platforms_account_outcomes(tmp_path: Path, sqlite_url: str) -> None:
    recording = [fixture_exchange("weibo_search", "ok-100_geetest_captcha", headers=JSON, url=weibo_url("users", "海淘", 1))]
    _discover(tmp_path, sqlite_url, recording, "--seed", "海淘", "-p", "weibo")
    runs = run_wangzi("runs", "--json", database_url=sqlite_url)
    stats = json.loads(runs.stdout)[0]["stats"]
    assert stats["weibo"]["accounts"] == 0  # no account was asked, none counted as failed
    assert stats["weibo"]["failures"] == {"captcha": 1}
