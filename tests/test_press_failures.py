"""Press feed failures are stored typed failures: migration 0006 (``fetchfailure.candidate_id``)
on SQLite and PostgreSQL, the writer, dead letters, the circuit breaker and validation leave
them alone, ``wangzi press`` crawls, stores, names them and exits 1, ``wangzi runs`` counts them
and ``wangzi health`` does not take a feed for an unhealthy platform.

The end-to-end tests run the real CLI and the real press spider through replay: GDELT
answering 429 and an HTML page, and a feed missing from the recording (``network``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import inspect, text

from crawler.deadletter import DeadLetterBox, item_from_json, item_to_json, retry_dead_letters
from records import AccountRef, Failure, FailureItem, FailureKind, FeedFailureItem
from spiders.pages import gdelt
from storage.db import get_engine, session_scope, upgrade
from storage.models import FetchFailure
from storage.candidates import add_candidate
from storage.runs import run_feed_failures, start_run
from storage.writer import write_items
from tests.helpers import Exchange, failures, run_wangzi, write_har

NAME, LATIN, OTHER = "李佳琦", "Li Jiaqi", "Jiaqi Li"
GDELT_429 = gdelt.search_url(f'"{LATIN}"')
GDELT_HTML = gdelt.search_url(f'"{OTHER}"')
GDELT_MISSING = gdelt.search_url(f'"{NAME}"')
# GDELT only (Google feeds take the same path; tests/test_press_replay.py covers their windows).
ENV = {"WANGZI_GOOGLE_NEWS_ENABLED": "false",
       "WANGZI_STORAGE_RETRY_DELAY": "0.05"}
DISK_FULL = ("CREATE TRIGGER disk_full BEFORE INSERT ON fetchfailure "
             "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")


def _candidate(database_url: str) -> tuple[int, int]:
    """(candidate id, run id)."""
    with session_scope(database_url) as session:
        candidate = add_candidate(session, NAME, aliases=[LATIN])
        run = start_run(session, "manual")
        assert candidate.id is not None and run.id is not None
        return candidate.id, run.id


def _item(candidate_id: int, kind: FailureKind = FailureKind.RATE_LIMITED, url: str = GDELT_429) -> FeedFailureItem:
    return FeedFailureItem(candidate_id=candidate_id, source="gdelt", url=url,
                           failure=Failure(kind, "GDELT asks for one request every 5 seconds", 429),
                           occurred_at=datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))


# --------------------------------------------------------------------------- migration


def test_migration_0006_adds_an_indexed_candidate_key_and_downgrades(database_url: str) -> None:
    """On SQLite (batch mode) and PostgreSQL; the models == migrations check is in test_storage."""
    from storage.db import alembic_config, current_revision, head_revision

    assert current_revision(database_url) == head_revision()  # 0006 and every later migration
    table = inspect(get_engine(database_url))
    columns = {c["name"]: c for c in table.get_columns("fetchfailure")}
    assert columns["candidate_id"]["nullable"] and columns["account_id"]["nullable"]
    assert any(i["column_names"] == ["candidate_id"] for i in table.get_indexes("fetchfailure"))
    assert any(fk["constrained_columns"] == ["candidate_id"] and fk["referred_table"] == "candidate"
               for fk in table.get_foreign_keys("fetchfailure"))

    # Platform failures already stored survive the way down and up again.
    with session_scope(database_url) as session:
        run_id = start_run(session, "manual").id
        write_items(session, [FailureItem(AccountRef("bilibili", platform_user_id="2"),
                                          Failure(FailureKind.BLOCKED, "-412", 412), "https://api.bilibili.com/x")], run_id)
    from alembic import command

    get_engine(database_url).dispose()
    command.downgrade(alembic_config(database_url), "0005_reliability")
    assert "candidate_id" not in {c["name"] for c in inspect(get_engine(database_url)).get_columns("fetchfailure")}
    upgrade(database_url)
    (row,) = failures(database_url)
    assert (row.platform, row.kind, row.candidate_id) == ("bilibili", "blocked", None)


# --------------------------------------------------------------------------- writer and dead letters


def test_a_feed_failure_is_a_fetchfailure_of_the_candidate_once_per_run(database_url: str) -> None:
    candidate_id, run_id = _candidate(database_url)
    with session_scope(database_url) as session:
        counts = write_items(session, [_item(candidate_id)], run_id)
        again = write_items(session, [_item(candidate_id)], run_id)  # a resumed run / re-applied letter
    assert counts == {"failure:rate_limited": 1} and sum(again.values()) == 0
    (row,) = failures(database_url)
    assert (row.crawl_run_id, row.candidate_id, row.account_id, row.platform, row.kind, row.url, row.http_status) == (
        run_id, candidate_id, None, "gdelt", "rate_limited", GDELT_429, 429)
    assert row.detail == "GDELT asks for one request every 5 seconds"

    # Failures are events: the next run records it again.
    with session_scope(database_url) as session:
        next_run = start_run(session, "manual").id
        assert write_items(session, [_item(candidate_id)], next_run) == {"failure:rate_limited": 1}
        assert [f.crawl_run_id for f in run_feed_failures(session, next_run, candidate_id)] == [next_run]
        assert run_feed_failures(session, next_run, candidate_id + 1) == []
    assert len(failures(database_url)) == 2


def test_feed_failures_are_kept_as_dead_letters_and_re_applied_once(tmp_path: Path, database_url: str) -> None:
    candidate_id, run_id = _candidate(database_url)
    item = _item(candidate_id, FailureKind.UNRECOGNIZED, GDELT_HTML)
    assert item_from_json(json.loads(json.dumps(item_to_json(item)))) == item
    box = DeadLetterBox(tmp_path / "letters")
    box.append(item, run_id, "OperationalError: database or disk is full")
    first = retry_dead_letters(tmp_path / "letters", database_url)
    assert first.applied == 1 and first.rows == {"failure:unrecognized": 1} and not first.still_failing
    for path in (tmp_path / "letters" / "applied").iterdir():
        path.replace(tmp_path / "letters" / path.name)
    second = retry_dead_letters(tmp_path / "letters", database_url)
    assert second.applied == 1 and sum(second.rows.values()) == 0
    (row,) = failures(database_url)
    assert (row.crawl_run_id, row.candidate_id, row.platform, row.kind) == (run_id, candidate_id, "gdelt", "unrecognized")


def test_validation_passes_feed_failures_and_the_circuit_breaker_does_not_count_them() -> None:
    from crawler.middlewares.circuit import CircuitBreakerMiddleware
    from crawler.pipelines.validation import ValidationPipeline
    from spiders.press import PressSpider
    from tests.helpers import project_crawler

    crawler = project_crawler(PressSpider, {"WANGZI_CIRCUIT_THRESHOLD": 2})
    item = _item(1, FailureKind.BLOCKED)
    assert ValidationPipeline.from_crawler(crawler).process_item(item) is item
    breaker = CircuitBreakerMiddleware.from_crawler(crawler)
    for _ in range(5):
        breaker.item_scraped(item, spider=PressSpider())
    assert all(state.refusals == 0 and state.open_until is None for state in breaker.states.values())
    # ...while account failures of the same kind do count (the check above is not vacuous).
    account_failure = FailureItem(AccountRef("press", handle="a"), Failure(FailureKind.BLOCKED, "x"), "https://x")
    for _ in range(2):
        breaker.item_scraped(account_failure, spider=PressSpider())
    assert any(state.open_until is not None for state in breaker.states.values())


# --------------------------------------------------------------------------- end to end


def _recording(tmp_path: Path) -> Path:
    """GDELT for three aliases: 429, an HTML error page, and no recorded answer (a replay miss)."""
    return write_har(tmp_path / "press.har", [
        Exchange(url=GDELT_429, status=429, body=b"Please limit requests to one every 5 seconds",
                 headers={"Content-Type": "text/plain"}),
        Exchange(url=GDELT_HTML, body=b"<html><body>The specified phrase is too short.</body></html>",
                 headers={"Content-Type": "text/html"}),
    ])


def _register(database_url: str) -> int:
    added = run_wangzi("candidates", "add", NAME, "--alias", LATIN, "--alias", OTHER, database_url=database_url)
    assert added.returncode == 0, added.stderr
    with session_scope(database_url) as session:
        from storage.candidates import find_candidate

        found = find_candidate(session, NAME)
        assert found is not None and found.id is not None
        return found.id


def test_wangzi_press_stores_names_and_exits_1_for_failed_feeds(tmp_path: Path, database_url: str) -> None:
    candidate_id = _register(database_url)
    har = _recording(tmp_path)
    done = run_wangzi("press", NAME, "--replay", str(har), database_url=database_url, env=ENV, cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "press mention" in done.stdout  # the table is still printed

    rows = failures(database_url)
    by_url = {row.url: row for row in rows}
    missing = GDELT_MISSING
    assert set(by_url) == {GDELT_429, GDELT_HTML, missing}, [(r.platform, r.kind, r.url) for r in rows]
    assert (by_url[GDELT_429].platform, by_url[GDELT_429].kind, by_url[GDELT_429].http_status) == ("gdelt", "rate_limited", 429)
    assert (by_url[GDELT_HTML].platform, by_url[GDELT_HTML].kind) == ("gdelt", "unrecognized")
    assert "too short" in by_url[GDELT_HTML].detail
    assert (by_url[missing].platform, by_url[missing].kind) == ("gdelt", "network")
    assert "replay miss" in by_url[missing].detail.lower()
    run_id = rows[0].crawl_run_id
    assert run_id is not None
    assert {(r.crawl_run_id, r.candidate_id, r.account_id) for r in rows} == {(run_id, candidate_id, None)}

    # One line per failed feed on stderr: source, kind, URL, detail.
    lines = [line for line in done.stderr.splitlines() if line.startswith("feed failed:")]
    assert len(lines) == 3, done.stderr[-3000:]
    assert any(line.startswith("feed failed: gdelt rate_limited (HTTP 429) https://api.gdeltproject.org/") for line in lines)
    assert any(line.startswith("feed failed: gdelt network https://api.gdeltproject.org/") for line in lines)

    # `wangzi runs` counts them with the run's other failures (the press row).
    listed = run_wangzi("runs", "--json", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    (run,) = [r for r in json.loads(listed.stdout) if r["id"] == run_id]
    assert run["stats"]["press"]["failures"] == {"rate_limited": 1, "unrecognized": 1, "network": 1}
    table = run_wangzi("runs", database_url=database_url)
    assert "network 1, rate_limited 1, unrecognized 1" in table.stdout

    # ...but they are not account outcomes: `wangzi health` does not call a feed an unhealthy platform.
    health = run_wangzi("health", "--json", database_url=database_url)
    assert health.returncode == 0, health.stdout + health.stderr
    judged = {p["platform"]: p for p in json.loads(health.stdout)["platforms"]}
    assert "gdelt" not in judged and judged["press"]["current"]["failures"] == {"rate_limited": 1, "unrecognized": 1, "network": 1}

    # --json keeps stdout for mentions; the failures still go to stderr and the exit code.
    again = run_wangzi("press", NAME, "--replay", str(har), "--json", database_url=database_url, env=ENV, cwd=tmp_path)
    assert again.returncode == 1 and again.stdout.strip() == ""
    assert sum(line.startswith("feed failed:") for line in again.stderr.splitlines()) == 3
    assert len(failures(database_url)) == 6  # failures are events: a new run records them again


def test_wangzi_press_exits_0_when_every_feed_answered(tmp_path: Path, database_url: str) -> None:
    _register(database_url)
    empty = json.dumps({"articles": []}).encode()
    har = write_har(tmp_path / "ok.har", [Exchange(url=gdelt.search_url(f'"{alias}"'), body=empty,
                                                   headers={"Content-Type": "application/json"})
                                          for alias in (NAME, LATIN, OTHER)])
    done = run_wangzi("press", NAME, "--replay", str(har), database_url=database_url, env=ENV, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "feed failed" not in done.stderr and failures(database_url) == []


def test_a_feed_failure_the_database_refuses_becomes_a_dead_letter(tmp_path: Path) -> None:
    """SQLite refusing every fetchfailure insert ("disk full"): retried, kept, re-applied once."""
    database_url = f"sqlite:///{tmp_path / 'wangzi.db'}"
    upgrade(database_url)
    _register(database_url)
    with get_engine(database_url).begin() as connection:
        connection.execute(text(DISK_FULL))
    letters = tmp_path / "letters"
    done = run_wangzi("press", NAME, "--replay", str(_recording(tmp_path)), database_url=database_url, cwd=tmp_path,
                      env={**ENV, "WANGZI_DEAD_LETTER_DIR": str(letters)})
    assert done.returncode == 0, done.stderr[-3000:]  # nothing stored: nothing to name
    assert "disk is full" in done.stderr and "--retry-dead-letters" in done.stderr
    (kept,) = DeadLetterBox(letters).files()
    letters_kept = [json.loads(line)["item"] for line in kept.read_text(encoding="utf-8").splitlines()]
    assert sorted(letter["type"] for letter in letters_kept) == ["feed_failure"] * 3
    assert failures(database_url) == []

    with get_engine(database_url).begin() as connection:
        connection.execute(text("DROP TRIGGER disk_full"))
    retried = run_wangzi("crawl", "--retry-dead-letters", "--dead-letter-dir", str(letters), database_url=database_url)
    assert retried.returncode == 0, retried.stderr
    assert "3 dead letter(s)" in retried.stdout
    stored = failures(database_url)
    assert sorted((f.platform, f.kind) for f in stored) == [("gdelt", "network"), ("gdelt", "rate_limited"),
                                                            ("gdelt", "unrecognized")]
    assert all(f.candidate_id is not None and f.crawl_run_id is not None for f in stored)
    assert isinstance(stored[0], FetchFailure)
