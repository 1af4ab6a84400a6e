"""Issue 17 item 2: several logged-in sessions per platform, per-endpoint windows, a session
locked on X's error 88 while the next carries on, an expired cookie that becomes one expired
session (named by `wangzi sessions list` and `wangzi health`), never a pile of failures; and
the pool's rules on their own."""

from __future__ import annotations

import json
from pathlib import Path

from crawler.distributed.session_pool import SessionPool, sticky_proxy
from crawler.middlewares.sessions import retry_after
from spiders.credentials import SessionConfig, platform_sessions, secret_values
from spiders.pages.x import USER_FEATURES, graphql_url
from storage.db import session_scope
from storage.identities import identity_states
from tests.helpers import Exchange, crawl_replayed, failures, fixture_exchange, register_candidates, run_wangzi, runs, snapshots

TWO_SESSIONS = json.dumps([
    {"name": "alpha", "auth_token": "authtok-alpha-0123456789", "ct0": "ct0-alpha-0123456789"},
    {"name": "beta", "auth_token": "authtok-beta-0123456789", "ct0": "ct0-beta-0123456789"},
])
NO_SINGLE = {"WANGZI_X_AUTH_TOKEN": "", "WANGZI_X_CT0": "", "WANGZI_X_COOKIE_FILE": ""}


def _user_url(handle: str) -> str:
    return graphql_url("UserByScreenName", {"screen_name": handle, "withSafetyModeUserFields": True}, USER_FEATURES)


def _states(database_url: str) -> dict[str, tuple[str, str | None, int]]:
    with session_scope(database_url) as session:
        return {s.name: (s.status, s.endpoint, s.requests) for s in identity_states(session, "session", ["x"])}


# --------------------------------------------------------------------------- the pool


def test_windows_rotation_locks_and_expiry() -> None:
    now = [1000.0]
    sessions = [SessionConfig("x", "a", {"auth_token": "1", "ct0": "1"}), SessionConfig("x", "b", {"auth_token": "2", "ct0": "2"})]
    pool = SessionPool(sessions, {"x.user": (2, 900)}, clock=lambda: now[0])
    picked = [pool.choose("x.user")[0].name for _ in range(4)]  # type: ignore[union-attr]
    assert picked == ["a", "b", "a", "b"]  # rotation, each within its window of 2
    session, wait = pool.choose("x.user")
    assert session is None and wait == 900  # both windows spent: free when the oldest send leaves it
    assert pool.choose("x.other")[0] is not None  # windows are per endpoint
    now[0] += 901
    assert pool.rate_limited("a", "x.user", reset=now[0] + 60) == now[0] + 60
    assert pool.choose("x.user")[0].name == "b"  # type: ignore[union-attr]
    assert pool.status("a") == ("locked", now[0] + 60, "x.user")
    pool.expired("b")
    assert pool.choose("x.user", avoid={"a"}) == (None, None)  # b expired, a avoided: none ever
    assert pool.status("b")[0] == "expired"


def test_a_rate_limit_locks_one_endpoint_until_the_reset_the_platform_names() -> None:
    now = [1000.0]
    pool = SessionPool([SessionConfig("x", "a", {"auth_token": "1", "ct0": "1"})], {"x.user": (95, 900)}, clock=lambda: now[0])
    assert pool.rate_limited("a", "x.user", retry_after(b"1", now=now[0])) == 1001.0  # a Retry-After: 1 s, not the window
    assert pool.choose("x.user") == (None, 1.0) and pool.choose("x.about")[0] is not None  # that endpoint only
    now[0] += 1
    assert pool.choose("x.user")[0] is not None
    assert pool.rate_limited("a", "x.user", None) == now[0] + 900  # nothing named: the window's length
    assert retry_after(b"Wed, 21 Oct 2026 07:28:00 GMT", now=0) == 1792567680.0
    assert retry_after(b"soon", now=0) is None and retry_after(None) is None


def test_a_session_keeps_one_proxy_and_sessions_never_cross_platforms(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = SessionConfig("x", "alpha", {"auth_token": "1", "ct0": "1"})
    proxies = ["p1", "p2", "p3", "p4"]
    chosen = sticky_proxy(session, proxies)
    assert chosen in proxies and all(sticky_proxy(session, proxies) == chosen for _ in range(5))
    assert sticky_proxy(SessionConfig("x", "alpha", {"a": "1"}, proxy="p2"), proxies) == "p2"
    env = {"WANGZI_X_SESSIONS": TWO_SESSIONS, "WANGZI_WEIBO_SESSIONS": json.dumps([{"name": "w", "cookie": "SUB=abcdef123456"}])}
    assert [s.name for s in platform_sessions("x", env)] == ["alpha", "beta"]
    assert [(s.platform, s.name) for s in platform_sessions("weibo", env)] == [("weibo", "w")]
    monkeypatch.setenv("WANGZI_X_SESSIONS", TWO_SESSIONS)
    assert "authtok-beta-0123456789" in secret_values()  # redacted from every log line


# --------------------------------------------------------------------------- X through replay


def test_an_x_session_that_gets_88_is_locked_and_the_next_session_carries_on(tmp_path: Path, sqlite_url: str) -> None:
    limited = fixture_exchange("x", "rate_limited_error_88")
    answer = fixture_exchange("x", "user_by_screen_name_2026_05_core_legacy")  # same URL: served second
    output = crawl_replayed(tmp_path, sqlite_url, "x", "XDevelopers",
                            [limited, answer, fixture_exchange("x", "about_account_2026_05")],
                            "-s", "WANGZI_RECENT_POSTS=0", env={**NO_SINGLE, "WANGZI_X_SESSIONS": TWO_SESSIONS})
    assert "authtok-alpha" not in output and "ct0-beta" not in output
    (_, snapshot), = snapshots(sqlite_url)
    assert snapshot.followers == 683277 and snapshot.country == "US"
    assert failures(sqlite_url) == []  # the 88 was the session's, not the account's
    states = _states(sqlite_url)
    assert states["alpha"][:2] == ("locked", "x.user_by_screen_name")
    assert states["beta"][0] == "ok" and states["beta"][2] >= 1
    listed = run_wangzi("sessions", "list", database_url=sqlite_url)
    assert listed.returncode == 0 and "alpha" in listed.stdout and "locked" in listed.stdout


def test_an_expired_cookie_is_one_expired_session_not_a_pile_of_failures(tmp_path: Path, sqlite_url: str) -> None:
    body = b'{"errors":[{"code":32,"message":"Could not authenticate you."}]}'
    handles = ("XDevelopers", "other_one", "other_two")
    register_candidates(sqlite_url, "x", [(handle, handle) for handle in handles[1:]])
    only = json.dumps([{"name": "only", "auth_token": "authtok-only-0123456789", "ct0": "ct0-only-0123456789"}])
    output = crawl_replayed(tmp_path, sqlite_url, "x", handles[0], [Exchange(url=_user_url(h), status=401, body=body) for h in handles],
                            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", env={**NO_SINGLE, "WANGZI_X_SESSIONS": only})
    # The login wall was the session's: no account stores a failure for it (they stay due).
    assert failures(sqlite_url) == []
    assert snapshots(sqlite_url) == []
    # What was not sent is not lost from sight: the run counts it and the crawl says so.
    (run,) = runs(sqlite_url)
    assert run.stats["x"]["unsent"] >= len(handles)  # each account's about_account at least
    assert "request(s) not sent: no session could carry them (sessions: only expired)" in output
    assert _states(sqlite_url)["only"][:1] == ("expired",)
    health = run_wangzi("health", database_url=sqlite_url)
    assert health.returncode == 1 and "x session only" in health.stderr and "expired" in health.stderr


def test_a_weibo_cookie_that_expired_gives_way_to_the_next_session_and_the_public_requests_go_on(
    tmp_path: Path, sqlite_url: str
) -> None:
    from tests.test_replay_chinese import JSON, UID, USER_INDEX, _weibo_recording

    recording = _weibo_recording(fixture_exchange("weibo", "user_index_1669879400", url=USER_INDEX, headers=JSON)) + [
        fixture_exchange("weibo", "ajax_ok-100_login_required_synthetic", headers=JSON),  # the first session's answer
        fixture_exchange("weibo", "ajax_profile_info_synthetic", headers=JSON),  # the same URL, asked again: the next's
        fixture_exchange("weibo", "ajax_profile_detail_synthetic", headers=JSON),
    ]
    sessions = json.dumps([{"name": "old", "cookie": "SUB=_2A25old-weibo-cookie"}, {"name": "new", "cookie": "SUB=_2A25new-weibo-cookie"}])
    output = crawl_replayed(tmp_path, sqlite_url, "weibo", UID, recording, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                            env={"WANGZI_WEIBO_COOKIE": "", "WANGZI_WEIBO_SESSIONS": sessions})
    assert "old-weibo-cookie" not in output and "new-weibo-cookie" not in output
    (_, snapshot), = snapshots(sqlite_url)
    assert snapshot.followers == 78123456 and snapshot.ip_location == "北京"  # weibo.com's answers, through "new"
    assert failures(sqlite_url) == []
    with session_scope(sqlite_url) as session:
        weibo = {s.name: s.status for s in identity_states(session, "session", ["weibo"])}
    assert weibo == {"old": "expired", "new": "ok"}
