"""The Bilibili spider end to end: real Scrapy download path, recorded answers on loopback,
snapshots in SQLite. The model for every platform's replay test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.replay import load_har, write_har
from records import PLATFORMS
from spiders.pages.registry import platform_module
from tests.helpers import REPO, failures, fixture_exchange, json_output, run_wangzi, runs, snapshots

API = "https://api.bilibili.com"


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """Two accounts: mid 2 (card real, so its relation/stat - recorded blocked with the real -412
    answer - and acc/info are not asked) and mid 332704117 (card rate limited, so its fallbacks
    are: relation/stat real, acc/info risk control)."""
    return write_har(tmp_path / "bilibili.har", [
        fixture_exchange("bilibili", "nav_not_logged_in_code_-101"),
        fixture_exchange("bilibili", "card_mid2", url=f"{API}/x/web-interface/card?mid=2"),
        fixture_exchange("bilibili", "error_-412_request_blocked_python_ua", url=f"{API}/x/relation/stat?vmid=2", status=412),
        fixture_exchange("bilibili", "acc_info_wbi_mid2_2024_no_follower_field", url=f"{API}/x/space/wbi/acc/info?mid=2"),
        fixture_exchange("bilibili", "code_-799_rate_limited_synthetic", url=f"{API}/x/web-interface/card?mid=332704117"),
        fixture_exchange("bilibili", "relation_stat_vmid332704117"),
        fixture_exchange("bilibili", "code_-352_risk_control_synthetic", url=f"{API}/x/space/wbi/acc/info?mid=332704117"),
    ])


def _sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("covered on SQLite here; PostgreSQL runs the same CLI path in tests/test_postgres.py")


def test_crawl_stores_snapshots_with_provenance_and_typed_failures(database_url: str, recording: Path) -> None:
    assert run_wangzi("candidates", "add", "碧诗", "--bilibili", "https://space.bilibili.com/2", database_url=database_url).returncode == 0
    assert run_wangzi("candidates", "add", "Other", "--bilibili", "332704117", database_url=database_url).returncode == 0

    crawl = run_wangzi("crawl", "--no-press", "--replay", str(recording), database_url=database_url)
    assert crawl.returncode == 0, crawl.stderr

    stored = {account.platform_user_id: snap for account, snap in snapshots(database_url)}
    assert set(stored) == {"2", "332704117"}
    bishi = stored["2"]
    assert (bishi.display_name, bishi.followers, bishi.following) == ("碧诗", 969999, 234)
    assert (bishi.posts, bishi.likes, bishi.views, bishi.approximate) == (37, 3547978, None, [])  # card: archive_count, like_num
    assert bishi.source_url == f"{API}/x/web-interface/card?mid=2"
    assert "bilibili.card" in bishi.parser and len(bishi.payload_sha256) == 64 and bishi.parser_version
    other = stored["332704117"]
    assert (other.followers, other.following) == (919515, 32)
    assert other.display_name is None  # the card was rate limited: nothing invented

    kinds = sorted((f.platform, f.kind, f.url.split("?")[0].rsplit("/", 1)[-1]) for f in failures(database_url))
    # Issue 17: mid 2's card answered, so its fallbacks (relation/stat blocked) were not asked.
    assert kinds == [("bilibili", "blocked", "info"), ("bilibili", "rate_limited", "card")]
    (run,) = runs(database_url)
    assert run.status == "finished" and run.trigger == "manual"
    assert run.stats["bilibili"]["snapshots"] == 2
    assert run.stats["bilibili"]["failures"] == {"blocked": 1, "rate_limited": 1}


def test_re_running_the_same_run_never_duplicates_a_snapshot(database_url: str, recording: Path, tmp_path: Path) -> None:
    _sqlite_only(database_url)
    command = [sys.executable, "-m", "scrapy", "crawl", "bilibili", "-a", "accounts=2",
               "-s", f"WANGZI_REPLAY={recording}", "-s", f"WANGZI_DATABASE_URL={database_url}",
               "-s", "LOG_LEVEL=WARNING", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    first = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    (run,) = runs(database_url)
    again = subprocess.run([*command, "-s", f"WANGZI_RUN_ID={run.id}"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert len(runs(database_url)) == 1
    assert len(snapshots(database_url)) == 1
    assert failures(database_url) == []  # the card answered: its blocked fallback was never asked


def test_a_not_found_account_is_a_failure_and_never_a_snapshot(database_url: str, tmp_path: Path) -> None:
    har = write_har(tmp_path / "gone.har", [
        fixture_exchange("bilibili", "nav_not_logged_in_code_-101"),
        fixture_exchange("bilibili", "code_-404_not_found_synthetic"),
    ])
    result = run_wangzi("lookup", "bilibili:999999999999", "--json", "--replay", str(har), database_url=database_url)
    assert result.returncode == 1  # every platform failed
    summary = json_output(result)
    assert summary["profiles"] == []
    assert [(f["kind"], f["url"]) for f in summary["failures"]] == [("not_found", f"{API}/x/web-interface/card?mid=999999999999")]
    assert snapshots(database_url) == []


def test_a_request_missing_from_the_recording_is_a_network_failure_naming_the_url(database_url: str, tmp_path: Path) -> None:
    har = write_har(tmp_path / "partial.har", [fixture_exchange("bilibili", "nav_not_logged_in_code_-101")])
    summary = json_output(run_wangzi("lookup", "bilibili:2", "--json", "--replay", str(har), database_url=database_url))
    details = {f["kind"] for f in summary["failures"]}
    assert details == {"network"}
    assert any(f"{API}/x/web-interface/card?mid=2" in f["detail"] for f in summary["failures"])


def test_lookup_json_shows_the_profile(database_url: str, recording: Path) -> None:
    result = run_wangzi("lookup", "https://space.bilibili.com/2", "--json", "--replay", str(recording), database_url=database_url)
    assert result.returncode == 0, result.stderr
    (profile,) = json_output(result)["profiles"]
    assert profile["followers"] == 969999 and profile["verified"] is not None


def test_record_saves_a_replayable_har_without_secrets(database_url: str, recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "recorded.har"
    secret = "PLANTED-SESSDATA-0123456789"
    result = run_wangzi("record", str(out), "--", "lookup", "bilibili:2", "--json", "--replay", str(recording),
                        database_url=database_url, env={"WANGZI_BILIBILI_COOKIE": f"SESSDATA={secret}"})
    assert result.returncode == 0, result.stderr
    assert secret not in out.read_text(encoding="utf-8")
    # Issue 17: the card answered, so relation/stat was not asked (nor recorded).
    assert {e.url.split("?")[0] for e in load_har(out)} == {f"{API}/x/web-interface/nav", f"{API}/x/web-interface/card"}
    again = json_output(run_wangzi("lookup", "bilibili:2", "--json", "--replay", str(out), database_url=database_url))
    assert again["profiles"][0]["followers"] == 969999


def test_scrapy_list_shows_the_spiders() -> None:
    listed = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert set(PLATFORMS) <= set(listed.stdout.split())
    assert all(platform_module(p).PARSER_VERSION for p in PLATFORMS)  # every page module imports


def test_a_full_crawl_searches_the_press_too_unless_narrowed_or_told_not_to(sqlite_url: str, recording: Path) -> None:
    """`wangzi crawl` is every active candidate on every platform, the press included (as
    `crawl --due` and `lookup` do); `--no-press` or `--platform` leave the press out."""
    assert run_wangzi("candidates", "add", "碧诗", "--bilibili", "2", database_url=sqlite_url).returncode == 0
    full = run_wangzi("crawl", "--replay", str(recording), database_url=sqlite_url)
    assert full.returncode == 0, full.stderr
    assert "press" in full.stdout  # the run's summary has a press row
    (run,) = runs(sqlite_url)
    assert {"bilibili", "press"} <= set(run.stats)
    feeds = [f for f in failures(sqlite_url) if f.candidate_id is not None]
    assert feeds and {f.platform for f in feeds} <= {"gdelt", "google_news"}  # the recording answers no feed
    for args in (["--no-press"], ["--platform", "bilibili"]):
        again = run_wangzi("crawl", *args, "--replay", str(recording), database_url=sqlite_url)
        assert again.returncode == 0, again.stderr
        assert set(runs(sqlite_url)[-1].stats) == {"bilibili"}, args
