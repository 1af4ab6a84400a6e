"""`wangzi demo`: offline, from the bundled recording, into ./wangzi.db, with no replay misses;
every platform and the press are in it, and the synthetic history it adds is marked so."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.replay import load_har
from records import PLATFORMS
from tests.helpers import REPO

DEMO = REPO / "crawler" / "demo"


@pytest.mark.browser
def test_demo_crawls_every_platform_and_the_press_from_the_bundled_recording(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"PYTHONPATH": str(REPO), "COLUMNS": "160"})
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "demo"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # Followers per platform: real samples (Bilibili, Weibo, YouTube, X) and synthetic ones.
    for shown in ("969,999", "919,515", "63,357,736", "~15,336,000", "~100,000", "1,234,567", "~356,000", "~123,000",
                  "~551,000", "245,310", "427,682", "128,450", "683,277"):
        assert shown in out, shown
    # The press: three confirmed overseas mentions from the demo's synthetic articles.
    assert "Press: 3 confirmed overseas mention(s)" in out
    assert "Mia Chen: 2026-11-18 JP tokyo-trends.example" in out
    # The ranking: scores computed from the synthetic history say so (S); the bought-followers
    # jump in Mia Chen's invented Instagram history is flagged.
    ranked = [line.split("#")[0].split(None, 1)[1].strip() for line in out.splitlines()
              if line[:3].strip().isdigit() and "#" in line]
    assert len(ranked) == 10 and "Mia Chen" in ranked[:3], out
    mia = next(line for line in out.splitlines() if "Mia Chen #" in line)
    assert " S " in mia and mia.rstrip().endswith("!")
    assert "flagged: spike, round_jump" in out
    assert "S = computed from synthetic demo history, not real data" in out.replace("\n", " ")
    assert "synthetic history:" in out and "never real data" in out
    # It ends with the command that opens the review desk on the demo database.
    assert out.rstrip().splitlines()[-1].startswith("Open the review desk on this database: ")
    assert "sqlite:///wangzi.db" in out.rstrip().splitlines()[-1]

    database = tmp_path / "wangzi.db"
    with sqlite3.connect(database) as connection:
        platforms = {row[0] for row in connection.execute(
            "select a.platform from profilesnapshot s join account a on a.id = s.account_id "
            "join crawlrun r on r.id = s.crawl_run_id where r.trigger = 'demo'")}
        kinds = {row[0] for row in connection.execute("select kind from fetchfailure")}
        mentions = connection.execute("select count(*) from pressmention where status = 'confirmed'").fetchone()[0]
        synthetic = connection.execute(
            "select count(*), count(distinct s.parser), min(s.parser), min(s.source_url) from profilesnapshot s "
            "join crawlrun r on r.id = s.crawl_run_id where r.trigger = 'synthetic'").fetchone()
        leaked = connection.execute(
            "select count(*) from profilesnapshot s join crawlrun r on r.id = s.crawl_run_id "
            "where r.trigger != 'synthetic' and s.parser = 'synthetic.backfill'").fetchone()[0]
        features = [json.loads(row[0]) for row in connection.execute(
            "select features from featuresnapshot")]
    assert platforms == set(PLATFORMS)
    assert "network" not in kinds, "a demo request is missing from demo.har (run python -m crawler.demo.build)"
    assert mentions == 3
    assert synthetic[0] > 1000 and synthetic[1:] == (1, "synthetic.backfill", "synthetic:backfill")
    assert leaked == 0
    assert features and all(row.get("synthetic_history") is True for row in features)

    again = subprocess.run([sys.executable, "-m", "crawler.cli", "demo"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(database) as connection:
        assert connection.execute("select count(*) from crawlrun where trigger = 'synthetic'").fetchone()[0] == 1
        assert connection.execute("select count(*) from candidate").fetchone()[0] == 10


def test_the_bundled_recording_covers_every_platform_and_the_press() -> None:
    hosts = {urlsplit(exchange.url).hostname for exchange in load_har(DEMO / "demo.har")}
    answered = {
        "bilibili": "api.bilibili.com", "weibo": "m.weibo.cn", "xiaohongshu": "www.xiaohongshu.com",
        "douyin": "www.douyin.com", "taobao_live": "huodong.m.taobao.com", "youku": "www.youku.com",
        "youtube": "www.youtube.com", "instagram": "i.instagram.com", "tiktok": "www.tiktok.com", "x": "x.com",
        "press": "api.gdeltproject.org",
    }
    assert set(answered) == {*PLATFORMS, "press"}
    assert {platform for platform, host in answered.items() if host in hosts} == set(answered)


def test_the_bundled_recording_is_built_from_the_manifest(tmp_path: Path) -> None:
    from crawler.demo.build import build

    out = tmp_path / "demo.har"
    build(out=out)
    assert [(e.method, e.url, e.status, e.body) for e in load_har(out)] == \
        [(e.method, e.url, e.status, e.body) for e in load_har(DEMO / "demo.har")], "demo.har is stale: run python -m crawler.demo.build"


def test_the_synthetic_history_is_a_pure_function_of_the_account_and_ends_below_its_count() -> None:
    from crawler.demo.backfill import history

    first = history("instagram:miachen.tokyo", 245_310, days=120, jump=(30, 20_000))
    assert first == history("instagram:miachen.tokyo", 245_310, days=120, jump=(30, 20_000))
    assert len(first) == 120 and first[-1] <= 245_310 and first[0] < first[-1]
    assert first[-29] - first[-30] >= 20_000  # the bought followers, in one day thirty days back
