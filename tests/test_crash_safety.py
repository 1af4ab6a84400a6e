"""kill -9 during a 1,000-candidate replayed crawl, at several random points, then resume.

Builds on the operations helper's leases (``crawl --due``, crawler/schedule.py) and its
recordings (tests/ops_recording.py): each killed run leaves leases held by a dead process and
items buffered in memory; the next run settles the leases from what was stored and crawls the
rest. In the end every account has exactly one snapshot - none lost, none duplicated - and
the last run finishes complete. The kill points are random (seed printed; set
``WANGZI_CRASH_SEED`` to replay one).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import session_scope
from storage.models import ProfileSnapshot
from tests.helpers import REPO, runs

CANDIDATES = 1000
KILLS = 2


def _snapshot_counts(database_url: str) -> Counter[int]:
    with session_scope(database_url) as session:
        return Counter(session.exec(select(ProfileSnapshot.account_id)).all())


def _start(database_url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_kill_9_at_random_points_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    from storage.db import upgrade
    from tests.ops_recording import accounts_recording, ops_platform, register_accounts

    database_url = f"sqlite:///{tmp_path / 'wangzi.db'}"
    upgrade(database_url)
    platform = ops_platform()
    refs = register_accounts(database_url, platform, CANDIDATES)
    assert len(refs) == CANDIDATES
    har = accounts_recording(tmp_path / "accounts.har", platform, refs)
    seed = int(os.environ.get("WANGZI_CRASH_SEED") or random.SystemRandom().randrange(10**6))
    points = sorted(random.Random(seed).sample(range(40, CANDIDATES - 100), KILLS))
    print(f"\ncrash safety: seed {seed}, kill -9 once at least {points} snapshots are stored")
    crawl = ["crawl", "--due", "-p", platform, "--replay", str(har), "-s", "WANGZI_STORAGE_BATCH=20"]

    killed_at = []
    for point in points:
        victim = _start(database_url, *crawl)
        deadline = time.monotonic() + 180
        while sum(_snapshot_counts(database_url).values()) < point and victim.poll() is None:
            assert time.monotonic() < deadline, "the crawl stored nothing for 3 minutes"
            time.sleep(0.05)
        if victim.poll() is None:
            victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=60)
        counts = _snapshot_counts(database_url)
        killed_at.append(sum(counts.values()))
        assert set(counts.values()) <= {1}, "a killed run duplicated a snapshot"
    assert killed_at[-1] < CANDIDATES, f"the crawl finished before the last kill ({killed_at})"

    resumed = _start(database_url, *crawl)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err[-2000:]
    counts = _snapshot_counts(database_url)
    assert len(counts) == CANDIDATES, f"lost {CANDIDATES - len(counts)} accounts (kills at {killed_at})"
    assert set(counts.values()) == {1}, "an account has two snapshots"
    assert {r.account_id for r in refs} == set(counts)
    final = runs(database_url)[-1]
    assert final.status == "finished"
    assert final.stats[platform]["snapshots"] == CANDIDATES - killed_at[-1]
    # Nothing is left to do.
    again = _start(database_url, *crawl)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0 and "nothing is due" in err
