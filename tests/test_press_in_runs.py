"""The press search inside the other ways Wangzi runs: `wangzi lookup CANDIDATE` (with and
without platform accounts) and the scheduled `wangzi crawl --due`, through replay.

The feeds and article pages are those of tests/test_press_replay.py; the Instagram answer is
the synthetic web_profile_info fixture.
"""

from __future__ import annotations

from pathlib import Path

from crawler.replay import load_har, request_key
from spiders.pages import gdelt
from tests.helpers import Exchange, fixture_exchange, json_output, run_wangzi, write_har
from tests.test_press_replay import CONFIRMED_URL, LATIN, NAME, mentions, recording

INSTAGRAM = "https://www.instagram.com/miachen.tokyo/"


def _add(database_url: str, *accounts: str) -> None:
    added = run_wangzi("candidates", "add", NAME, "--alias", LATIN, *accounts, database_url=database_url)
    assert added.returncode == 0, added.stderr


def _with(har: Path, *extra: Exchange) -> Path:
    """The press recording plus more exchanges (the HAR is rewritten in place)."""
    return write_har(har, [*load_har(har), *extra])


def test_lookup_of_a_candidate_without_accounts_searches_the_press(tmp_path: Path, sqlite_url: str) -> None:
    _add(sqlite_url)
    done = run_wangzi("lookup", NAME, "--json", "--replay", str(recording(tmp_path, google=False)), database_url=sqlite_url)
    assert done.returncode == 0, done.stderr
    result = json_output(done)
    assert result["profiles"] == [] and result["failures"] == []
    confirmed = [m for m in result["press"] if m["status"] == "confirmed"]
    assert CONFIRMED_URL in {m["url"] for m in confirmed}
    assert mentions(sqlite_url)[CONFIRMED_URL].status == "confirmed"

    shown = run_wangzi("lookup", NAME, "--replay", str(recording(tmp_path, google=False)), database_url=sqlite_url)
    assert shown.returncode == 0, shown.stderr
    assert "only the press was searched" in shown.stderr and "confirmed mention" in shown.stdout


def test_a_press_only_lookup_whose_feed_failed_exits_1(tmp_path: Path, sqlite_url: str) -> None:
    _add(sqlite_url)
    refused = Exchange(url=gdelt.search_url(f'"{LATIN}"'), status=429, body=b"Please limit requests to one every 5 seconds",
                       headers={"Content-Type": "text/plain"})
    har = write_har(tmp_path / "refused.har", [e for e in load_har(recording(tmp_path, google=False))
                                               if request_key(e.method, e.url) != request_key("GET", refused.url)] + [refused])
    done = run_wangzi("lookup", NAME, "--json", "--replay", str(har), "-s", "RETRY_TIMES=0", database_url=sqlite_url)
    assert done.returncode == 1, done.stdout + done.stderr
    (failure,) = json_output(done)["failures"]
    assert (failure["platform"], failure["kind"]) == ("gdelt", "rate_limited")


def test_a_platform_narrowed_lookup_of_a_candidate_without_those_accounts_is_still_a_problem(sqlite_url: str) -> None:
    _add(sqlite_url)
    done = run_wangzi("lookup", NAME, "-p", "youtube", database_url=sqlite_url)
    assert done.returncode == 1 and "has no accounts on youtube" in done.stderr


def test_lookup_of_a_candidate_reads_the_profile_and_the_press_in_one_run(tmp_path: Path, sqlite_url: str) -> None:
    _add(sqlite_url, "--instagram", INSTAGRAM)
    har = _with(recording(tmp_path, google=False), fixture_exchange("instagram", "web_profile_info_synthetic"))
    done = run_wangzi("lookup", NAME, "--json", "--replay", str(har), database_url=sqlite_url)
    assert done.returncode == 0, done.stderr
    result = json_output(done)
    assert [(p["platform"], p["followers"]) for p in result["profiles"]] == [("instagram", 245310)]
    assert CONFIRMED_URL in {m["url"] for m in result["press"] if m["status"] == "confirmed"}


def test_scheduled_crawl_searches_the_press_when_due_and_not_again_within_the_week(tmp_path: Path, sqlite_url: str) -> None:
    _add(sqlite_url, "--instagram", INSTAGRAM)
    har = _with(recording(tmp_path, google=False), fixture_exchange("instagram", "web_profile_info_synthetic"))
    first = run_wangzi("crawl", "--due", "--replay", str(har), database_url=sqlite_url)
    assert first.returncode == 0, first.stderr
    stored = mentions(sqlite_url)
    assert stored[CONFIRMED_URL].status == "confirmed" and len(stored) == 5

    again = run_wangzi("crawl", "--due", "--replay", str(har), database_url=sqlite_url)
    assert "nothing is due" in again.stderr  # profiles daily, press weekly: neither is due yet
    assert set(mentions(sqlite_url)) == set(stored)
