"""A crawl whose process is gone does not stay ``running`` forever: the next command that
looks at runs (``wangzi runs``, ``wangzi health``, the next crawl) marks it ``interrupted`` -
at once when its process on this machine no longer exists, after its heartbeat stopped when it
ran elsewhere."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from storage.db import session_scope
from storage.models import utcnow
from storage.runs import get_run, start_run
from tests.helpers import REPO, run_wangzi, runs
from tests.ops_recording import accounts_recording, register_accounts


def _runs_json(database_url: str) -> dict[int, dict]:
    listed = run_wangzi("runs", "--json", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    return {run["id"]: run for run in json.loads(listed.stdout)}


def test_a_crawl_killed_with_sigkill_is_interrupted_at_the_next_wangzi_runs(sqlite_url: str, tmp_path: Path) -> None:
    refs = register_accounts(sqlite_url, "bilibili", 4)
    har = accounts_recording(tmp_path / "slow.har", "bilibili", refs)
    env = {**os.environ, "DATABASE_URL": sqlite_url, "PYTHONPATH": str(REPO)}
    crawl = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "crawl", "-p", "bilibili", "--replay", str(har), "-s", "DOWNLOAD_DELAY=2"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not runs(sqlite_url):
            assert crawl.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1)
        assert crawl.poll() is None, "the crawl ended before it could be killed"
    finally:
        crawl.send_signal(signal.SIGKILL)
        crawl.wait(timeout=30)
    (run,) = runs(sqlite_url)
    assert run.status == "running"  # nobody could finish it

    shown = _runs_json(sqlite_url)[run.id]
    assert shown["status"] == "interrupted"
    assert shown["finished_at"] is not None
    assert runs(sqlite_url)[0].status == "interrupted"


def test_a_run_whose_heartbeat_stopped_elsewhere_is_interrupted_and_live_ones_are_not(database_url: str) -> None:
    now = utcnow()
    with session_scope(database_url) as session:
        gone = start_run(session, "manual", owner="another-host:4242:abc")
        gone.heartbeat_at = now - timedelta(minutes=30)
        alive = start_run(session, "manual", owner="another-host:4343:def")
        alive.heartbeat_at = now
        here = start_run(session, "manual")  # this process: alive, whatever its heartbeat
        ids = gone.id, alive.id, here.id
    health = run_wangzi("health", database_url=database_url)
    assert health.returncode in (0, 1), health.stderr
    with session_scope(database_url) as session:
        statuses = [get_run(session, run_id).status for run_id in ids]  # type: ignore[union-attr]
    assert statuses == ["interrupted", "running", "running"]
    shown = _runs_json(database_url)
    assert [shown[run_id]["status"] for run_id in ids] == ["interrupted", "running", "running"]
