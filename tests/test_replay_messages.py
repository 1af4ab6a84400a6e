"""What replayed crawls print about their failures: each failure once, with the real URL - never
the loopback replay server's ``http://127.0.0.1:PORT/https/...`` - in ``lookup``'s lines, in
``lookup --json`` (what the HTTP API returns) and in ``press``'s feed lines."""

from __future__ import annotations

import json
from pathlib import Path

from crawler.cli.crawl import DEMO_DIR, _print_lookup, run_summary
from crawler.cli.press import feed_failure_rows, print_feed_failures
from crawler.replay import load_har
from storage.candidates import add_candidate
from storage.db import session_scope
from storage.models import FetchFailure
from storage.runs import start_run
from tests.helpers import Exchange, crawl_replayed, failures, fixture_exchange, run_wangzi, write_har

REAL = "https://api.bilibili.com/x/web-interface/card?mid=2"
LOOPBACK = "http://127.0.0.1:41234/https/api.bilibili.com/x/web-interface/card?mid=2"


def _stored_failure(database_url: str, detail: str, *, candidate: bool = False) -> tuple[int, int]:
    with session_scope(database_url) as session:
        candidate_id = add_candidate(session, "Mia").id
        run_id = start_run(session, "lookup").id
        session.add(FetchFailure(crawl_run_id=run_id, platform="gdelt" if candidate else "bilibili", kind="network",
                                 url=REAL, detail=detail, candidate_id=candidate_id if candidate else None))
        return run_id, candidate_id  # type: ignore[return-value]


def test_a_failure_detail_names_the_real_url_not_the_replay_server(sqlite_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    run_id, _ = _stored_failure(sqlite_url, f"TimeoutError: Getting {LOOPBACK} took longer than 180.0 seconds.")
    summary = run_summary(sqlite_url, run_id)
    (failure,) = summary["failures"]
    assert "127.0.0.1" not in failure["detail"] and REAL in failure["detail"]
    _print_lookup({**summary, "candidate": None, "press": []})
    printed = capsys.readouterr().out
    assert "127.0.0.1" not in printed
    assert "took longer than 180.0 seconds" in printed


def test_press_feed_lines_name_the_real_url_once(sqlite_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    run_id, candidate_id = _stored_failure(sqlite_url, f"ReplayMiss: replay miss: no recorded response for GET {REAL}",
                                           candidate=True)
    print_feed_failures(feed_failure_rows(sqlite_url, run_id, candidate_id))
    (line,) = [text for text in capsys.readouterr().err.splitlines() if text.startswith("feed failed:")]
    assert line.count(REAL) == 1, line


def test_a_lookup_from_the_bundled_recording_names_each_miss_once(sqlite_url: str, tmp_path: Path) -> None:
    added = run_wangzi("candidates", "add", "碧诗", "--alias", "bishi", "--bilibili", "2", database_url=sqlite_url)
    assert added.returncode == 0, added.stderr
    # The bundled recording less its GDELT answers (if it has any): both alias searches miss.
    har = str(write_har(tmp_path / "demo-without-gdelt.har",
                        [e for e in load_har(DEMO_DIR / "demo.har") if "api.gdeltproject.org" not in e.url]))
    looked = run_wangzi("lookup", "碧诗", "--replay", har, database_url=sqlite_url, env={"COLUMNS": "400"})
    assert looked.returncode == 0, looked.stderr
    misses = [line for line in looked.stdout.splitlines() if line.startswith("gdelt:")]
    assert len(misses) == 2, looked.stdout  # one GDELT search per alias, neither recorded
    for line in misses:
        url = line.split()[-1]
        assert url.startswith("https://api.gdeltproject.org/") and line.count(url) == 1, line
    assert "127.0.0.1" not in looked.stdout + looked.stderr
    as_json = run_wangzi("lookup", "碧诗", "--replay", har, "--json", database_url=sqlite_url)
    summary = json.loads(as_json.stdout)
    assert summary["failures"] and all("127.0.0.1" not in f["detail"] + f["url"] for f in summary["failures"])


def test_a_redirect_to_an_unrecorded_url_is_a_replay_miss_naming_the_real_target(sqlite_url: str, tmp_path: Path) -> None:
    login = "https://passport.bilibili.com/login?gourl=card"
    moved = Exchange(url=REAL, status=302, body=b"", headers={"Location": login})
    crawl_replayed(tmp_path, sqlite_url, "bilibili", "2", [fixture_exchange("bilibili", "nav_not_logged_in_code_-101"), moved])
    card = next(f for f in failures(sqlite_url) if f.url == REAL)
    assert card.kind == "network" and f"replay miss: no recorded response for GET {login}" in card.detail, card.detail


def test_press_names_a_feed_miss_once_with_no_warning_repeating_it(sqlite_url: str, tmp_path: Path) -> None:
    added = run_wangzi("candidates", "add", "Mia Example", database_url=sqlite_url)
    assert added.returncode == 0, added.stderr
    har = write_har(tmp_path / "nothing.har", [fixture_exchange("bilibili", "nav_not_logged_in_code_-101")])
    searched = run_wangzi("press", "Mia Example", "--replay", str(har), database_url=sqlite_url, env={"COLUMNS": "400"})
    assert searched.returncode == 1, searched.stderr  # the GDELT search was not answered
    (failed,) = [line for line in searched.stderr.splitlines() if line.startswith("feed failed:")]
    url = next(word for word in failed.split() if word.startswith("https://api.gdeltproject.org/"))
    warned = [line for line in searched.stderr.splitlines() if "WARNING" in line and url in line]
    assert warned == []  # the stored failure is printed once; no WARNING repeats it


def test_press_names_refused_urls_as_refused_not_as_failed_searches(sqlite_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with session_scope(sqlite_url) as session:
        candidate_id = add_candidate(session, "Mia").id
        run_id = start_run(session, "press").id
        session.add(FetchFailure(crawl_run_id=run_id, platform="gdelt", kind="refused", url="http://127.0.0.1:6379/",
                                 detail="loopback address", candidate_id=candidate_id))
    print_feed_failures(feed_failure_rows(sqlite_url, run_id, candidate_id))  # type: ignore[arg-type]
    printed = capsys.readouterr().err
    assert "refused: http://127.0.0.1:6379/ (listed by gdelt, not fetched)" in printed
    assert "1 listed URL(s) refused" in printed
    assert "feed failed" not in printed and "feed search(es) failed" not in printed
