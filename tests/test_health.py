"""Crawl health: `wangzi runs` shows what runs did; `wangzi health` exits 1 naming a platform
whose success rate fell or whose failures jumped; `--log-json` logs are JSON lines."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

from typer.testing import CliRunner

from crawler.cli import app
from crawler.cli.runs import assess
from records import AccountRef, Failure, FailureItem, FailureKind, Profile, ProfileItem, Provenance
from crawler.logging import JsonFormatter, install_json_logging
from storage.db import session_scope
from storage.models import CrawlRun, utcnow
from storage.runs import finish_run, start_run
from storage.writer import write_items

runner = CliRunner()


def _run(database_url: str, platform: str, ok: int, failed: int, kind: FailureKind = FailureKind.BLOCKED,
         days_ago: float = 0, offset: int = 0) -> int:
    """A finished run in which `ok` accounts gave a profile and `failed` only failed."""
    items = []
    for n in range(ok + failed):
        ref = AccountRef(platform=platform, platform_user_id=str(offset + n))
        if n < ok:
            items.append(ProfileItem(account=ref, profile=Profile(platform=platform, platform_user_id=str(offset + n), followers=10),
                                     provenance=Provenance.of(f"https://x/{n}", f"{platform}.card", "1", str(n).encode(), 200)))
        else:
            items.append(FailureItem(account=ref, failure=Failure(kind, "test", 412), url=f"https://x/{n}"))
    with session_scope(database_url) as session:
        run = start_run(session, "scheduled")
        run.started_at = utcnow() - timedelta(days=days_ago)
        counts = write_items(session, items, run.id)
        run.stats = {platform: {"requests": ok + failed, "snapshots": counts["snapshots"],
                                "failures": {kind.value: failed} if failed else {}, "accounts": ok + failed,
                                "accounts_ok": ok, "parse_success_rate": ok / (ok + failed)}}
        session.add(run)
        finish_run(session, run.id, "finished")
        return run.id  # type: ignore[return-value]


def test_a_platform_below_the_success_threshold_is_named_and_the_exit_code_is_1(database_url: str) -> None:
    _run(database_url, "bilibili", ok=9, failed=1)
    _run(database_url, "weibo", ok=2, failed=8, offset=100)
    result = runner.invoke(app, ["health"], env={"DATABASE_URL": database_url, "COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "unhealthy: weibo: success rate 20% < 80%" in result.output
    assert "blocked x8" in result.output
    assert "unhealthy: bilibili" not in result.output


def test_all_healthy_exits_0(database_url: str) -> None:
    _run(database_url, "bilibili", ok=10, failed=0)
    result = runner.invoke(app, ["health", "--json"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["healthy"] is True
    assert report["platforms"][0]["current"]["success_rate"] == 1.0


def test_a_jump_in_failures_over_the_baseline_is_unhealthy_even_above_the_threshold(database_url: str) -> None:
    _run(database_url, "bilibili", ok=100, failed=0, days_ago=3)
    _run(database_url, "bilibili", ok=70, failed=30, kind=FailureKind.UNRECOGNIZED, offset=1000)
    (health,) = assess(database_url, min_success=0.5, max_jump=0.25)
    assert not health.healthy
    assert health.problems == ["failures jumped from 0% to 30% of accounts; mostly unrecognized x30"]
    (relaxed,) = assess(database_url, min_success=0.5, max_jump=0.5)
    assert relaxed.healthy


def test_runs_lists_recent_runs_with_per_platform_counts(database_url: str) -> None:
    run_id = _run(database_url, "bilibili", ok=3, failed=1)
    result = runner.invoke(app, ["runs"], env={"DATABASE_URL": database_url, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "bilibili" in result.output and "75%" in result.output and "blocked 1" in result.output
    listed = json.loads(runner.invoke(app, ["runs", "--json"], env={"DATABASE_URL": database_url}).output)
    assert listed[0]["id"] == run_id
    assert listed[0]["stats"]["bilibili"]["failures"] == {"blocked": 1}


def test_health_reads_outcomes_from_stored_rows_for_runs_without_account_counters(database_url: str) -> None:
    run_id = _run(database_url, "bilibili", ok=1, failed=3)
    with session_scope(database_url) as session:
        run = session.get(CrawlRun, run_id)
        run.stats = {"bilibili": {"requests": 4, "snapshots": 1, "failures": {"blocked": 3}}}  # older stats shape
        session.add(run)
    (health,) = assess(database_url)
    assert (health.current.accounts_ok, health.current.accounts_failed) == (1, 3)


def test_json_log_lines_carry_level_logger_message_and_extras() -> None:
    stream = io.StringIO()
    handler = install_json_logging("INFO", stream)
    try:
        logging.getLogger("wangzi.test").warning("blocked on %s", "weibo", extra={"platform": "weibo", "status": 418})
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("wangzi.test").exception("parser failed")
    finally:
        logging.getLogger().removeHandler(handler)
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first["level"] == "WARNING" and first["logger"] == "wangzi.test"
    assert first["message"] == "blocked on weibo" and first["platform"] == "weibo" and first["status"] == 418
    assert "RuntimeError: boom" in second["exception"]
    assert JsonFormatter().format(logging.makeLogRecord({"msg": "x"})).startswith("{")
