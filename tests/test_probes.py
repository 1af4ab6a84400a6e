"""Self-check probes (issue 16 item 6): `wangzi health --probe` crawls each platform's canaries
through replay and classifies it ok, drift, blocked or wrong-absence from recorded answers; a
scheduled crawl skips a platform whose last probe said drift, and `wangzi runs` says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from crawler.cli import app
from crawler.probes import BUNDLED_CANARIES, Canary, CanaryError, Outcome, classify, load_canaries
from crawler.schedule import RefreshPolicy, claim_due
from records import AccountRef
from storage.db import session_scope
from storage.leases import new_owner
from storage.models import DriftCapture, ProbeResult
from tests.helpers import Exchange, fixture_exchange, run_wangzi, write_har

CANARIES = """
[bilibili]
live = "2"
followers = [300_000, 5_000_000]
absent = "999999999999"

[instagram]
live = "instagram"
followers = [1_000_000, 2_000_000_000]
absent = "wangzi.absent.canary.0"

[tiktok]
live = "tiktok"
followers = [100_000, 1_000_000]
absent = "wangzi_absent_canary0"

[youtube]
live = "UCK8sQmJBp8GCxrOtXWBpyEA"
followers = [3_000_000, 50_000_000]
absent = "UCwangziAbsentCanary0000"
"""

INSTAGRAM_API = "https://i.instagram.com/api/v1/users/web_profile_info/?username={handle}"


def _recording(tmp_path: Path) -> Path:
    page = fixture_exchange("tiktok", "profile_page_statsv2_synthetic")
    return write_har(tmp_path / "probes.har", [
        # bilibili: the live card reads within its range, the absent id is -404: ok
        fixture_exchange("bilibili", "card_mid2", url="https://api.bilibili.com/x/web-interface/card?mid=2"),
        fixture_exchange("bilibili", "code_-404_not_found_synthetic",
                         url="https://api.bilibili.com/x/web-interface/card?mid=999999999999"),
        # instagram: "Please wait a few minutes" for both: blocked
        fixture_exchange("instagram", "rate_limited_401_please_wait", url=INSTAGRAM_API.format(handle="instagram")),
        fixture_exchange("instagram", "rate_limited_401_please_wait", url=INSTAGRAM_API.format(handle="wangzi.absent.canary.0")),
        # tiktok: the absent handle's page is somebody's profile: wrong-absence
        Exchange(url="https://www.tiktok.com/@tiktok", body=page.body, headers=page.headers),
        Exchange(url="https://www.tiktok.com/@wangzi_absent_canary0", body=page.body, headers=page.headers),
        # youtube: the channel page changed its layout: drift
        Exchange(url="https://www.youtube.com/channel/UCK8sQmJBp8GCxrOtXWBpyEA",
                 body=b"<!DOCTYPE html><html><head><title>Google - YouTube</title></head>"
                      b"<body><div id='brand-new-layout'>10.7M subscribers</div></body></html>"),
    ])


def test_health_probe_through_replay_reports_ok_drift_blocked_and_wrong_absence(tmp_path: Path, sqlite_url: str) -> None:
    canaries = tmp_path / "canaries.toml"
    canaries.write_text(CANARIES, encoding="utf-8")
    probed = run_wangzi("health", "--probe", "--canaries", str(canaries), "--replay", str(_recording(tmp_path)), "--json",
                        database_url=sqlite_url, env={"YOUTUBE_API_KEY": ""})
    assert probed.returncode == 1, probed.stderr
    report = json.loads(probed.stdout)
    statuses = {p["platform"]: p["status"] for p in report["platforms"]}
    assert statuses == {"bilibili": "ok", "instagram": "blocked", "tiktok": "wrong-absence", "youtube": "drift"}, report
    by_name = {p["platform"]: p for p in report["platforms"]}
    assert "unrecognized" in by_name["youtube"]["detail"] and by_name["youtube"]["parser"] == "youtube.channel_page"
    assert "wangzi_absent_canary0 came back as a profile" in by_name["tiktok"]["detail"]
    assert "rate_limited" in by_name["instagram"]["detail"]
    # Exit 1 naming each platform that is not ok, with its parser.
    assert "probe drift: youtube (parser youtube.channel_page v" in probed.stderr
    assert "probe wrong-absence: tiktok (parser tiktok" in probed.stderr
    assert "probe blocked: instagram" in probed.stderr and "probe ok" not in probed.stderr

    with session_scope(sqlite_url) as session:
        stored = {r.platform: r.status for r in session.exec(select(ProbeResult)).all()}
        drift = session.exec(select(DriftCapture).where(DriftCapture.platform == "youtube")).all()
    assert stored == statuses
    assert drift and drift[0].url == "https://www.youtube.com/channel/UCK8sQmJBp8GCxrOtXWBpyEA"

    # The health judgment of crawl runs leaves probe runs out (their absent canary fails on purpose).
    health = CliRunner().invoke(app, ["health", "--json"], env={"DATABASE_URL": sqlite_url})
    assert health.exit_code == 0 and json.loads(health.output)["platforms"] == []

    # A scheduled crawl skips youtube (its last probe said drift) and `wangzi runs` says so.
    added = run_wangzi("candidates", "add", "Someone", "--bilibili", "546195", "--youtube", "UCq19-LqvG35A-30oyAiPiqA",
                       database_url=sqlite_url)
    assert added.returncode == 0, added.stderr
    claimed = claim_due(sqlite_url, RefreshPolicy.from_dict({}), ["bilibili", "youtube"], owner=new_owner("test"))
    assert [r.platform_user_id for r in claimed.accounts.get("bilibili", [])] == ["546195"]
    assert not claimed.accounts.get("youtube")
    runs = CliRunner().invoke(app, ["runs"], env={"DATABASE_URL": sqlite_url, "COLUMNS": "300"})
    assert runs.exit_code == 0, runs.output
    assert "scheduled crawls skip youtube: its last probe" in runs.output and "said drift" in runs.output
    assert "skip bilibili" not in runs.output


def _canary(low: int = 100, high: int = 1000) -> Canary:
    return Canary("bilibili", AccountRef("bilibili", platform_user_id="2"), (low, high),
                  AccountRef("bilibili", platform_user_id="999"))


@pytest.mark.parametrize(("live", "absent", "status", "said"), [
    (Outcome(profile=True, followers=500), Outcome(failures=("not_found",)), "ok", "500 followers"),
    (Outcome(profile=True, followers=5), Outcome(failures=("not_found",)), "drift", "5 followers, outside [100, 1,000]"),
    (Outcome(profile=True, followers=None), Outcome(failures=("not_found",)), "drift", "no follower count read"),
    (Outcome(failures=("unrecognized", "network")), Outcome(failures=("not_found",)), "drift", "unrecognized"),
    (Outcome(failures=("not_found",)), Outcome(failures=("not_found",)), "drift", "came back not_found"),
    (Outcome(profile=True, followers=500), Outcome(profile=True, followers=7, display_name="x"), "wrong-absence", "came back as a profile"),
    (Outcome(profile=True, followers=500), Outcome(failures=("private",)), "wrong-absence", "came back private"),
    (Outcome(failures=("captcha",)), Outcome(failures=("captcha",)), "blocked", "captcha"),
    (Outcome(failures=("network",)), Outcome(failures=("not_found",)), "blocked", "no usable answer (network)"),
    (Outcome(), Outcome(), "blocked", "nothing was asked"),
    (Outcome(failures=("blocked",)), Outcome(profile=True, followers=1), "wrong-absence", "came back as a profile"),
    (Outcome(profile=True, followers=1), Outcome(failures=("blocked",)), "drift", "outside"),
])
def test_a_platform_takes_the_worst_of_its_two_checks(live: Outcome, absent: Outcome, status: str, said: str) -> None:
    found, detail = classify(_canary(), live, absent)
    assert found == status and said in detail, detail


def test_the_bundled_canaries_load_and_a_bad_file_is_refused_saying_where(tmp_path: Path) -> None:
    bundled = load_canaries(BUNDLED_CANARIES)
    assert {"bilibili", "youtube", "x"} <= set(bundled)
    for text, says in [
        ('[myspace]\nlive = "a"\nfollowers = [1, 2]\nabsent = "b"\n', "is not a platform"),
        ('[bilibili]\nlive = "2"\nfollowers = [5, 1]\nabsent = "3"\n', "LOW <= HIGH"),
        ('[bilibili]\nlive = "not an id"\nfollowers = [1, 5]\nabsent = "3"\n', "[bilibili] live"),
        ('[bilibili]\nlive = "2"\n', "give exactly live"),
    ]:
        path = tmp_path / "c.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(CanaryError, match=says.replace("[", r"\[").replace("]", r"\]")):
            load_canaries(path)
