"""`wangzi demo`: offline, from the bundled recording, into ./wangzi.db, with no replay misses."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.replay import load_har
from tests.helpers import REPO

DEMO = REPO / "crawler" / "demo"


@pytest.mark.browser
def test_demo_crawls_the_bundled_recording_into_wangzi_db_here(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"PYTHONPATH": str(REPO), "COLUMNS": "160"})
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "demo"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "969,999" in result.stdout and "919,515" in result.stdout and "~100,000" in result.stdout
    assert "63,357,736" in result.stdout and "~15,336,000" in result.stdout
    # The coverage-aware ranking: the two creators living abroad first, the one known only by its
    # follower count (the largest) no longer on top; tiers beside them.
    ranked = [line.split()[1] for line in result.stdout.splitlines() if line[:3].strip().isdigit() and "#" in line]
    assert ranked[:3] == ["Lena在纽约", "Mia在洛杉矶", "Weibo"], result.stdout
    assert "Top 5 by composite score (reference: cohort)" in result.stdout and " mega " in result.stdout
    database = tmp_path / "wangzi.db"
    assert database.exists()
    with sqlite3.connect(database) as connection:
        platforms = {row[0] for row in connection.execute(
            "select a.platform from profilesnapshot s join account a on a.id = s.account_id")}
        kinds = {row[0] for row in connection.execute("select kind from fetchfailure")}
    assert {"bilibili", "weibo", "xiaohongshu"} <= platforms
    assert "network" not in kinds, "a demo request is missing from demo.har (run python -m crawler.demo.build)"


def test_the_bundled_recording_is_built_from_the_manifest(tmp_path: Path) -> None:
    from crawler.demo.build import build

    out = tmp_path / "demo.har"
    build(out=out)
    assert [(e.method, e.url, e.status, e.body) for e in load_har(out)] == \
        [(e.method, e.url, e.status, e.body) for e in load_har(DEMO / "demo.har")], "demo.har is stale: run python -m crawler.demo.build"
