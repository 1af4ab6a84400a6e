"""Scheduled crawls: the refresh policy, what is due, and leases that keep two overlapping
``crawl --due`` runs off the same account and let a killed run's work be finished later."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from records import AccountRef, Failure, FailureItem, FailureKind, Profile, ProfileItem, Provenance
from crawler.schedule import PolicyError, RefreshPolicy, claim_due, parse_duration, settle_owner
from storage.db import session_scope
from storage.models import utcnow
from storage.models import Lease
from storage.leases import new_owner
from storage.candidates import add_candidate
from storage.runs import start_run
from storage.writer import write_items
from tests.helpers import REPO

# --------------------------------------------------------------------------- policy


def test_default_policy_refreshes_profiles_and_posts_daily_and_press_weekly() -> None:
    policy = RefreshPolicy.load()
    assert policy.interval("bilibili", "profiles") == timedelta(days=1)
    assert policy.interval("weibo", "posts") == timedelta(days=1)
    assert policy.interval("press", "press") == timedelta(days=7)


def test_policy_file_overrides_per_platform_and_can_switch_a_kind_off(tmp_path: Path) -> None:
    path = tmp_path / "refresh.toml"
    path.write_text(textwrap.dedent("""
        [default]
        profiles = "12h"
        [platforms.weibo]
        posts = "off"
        profiles = "2d"
        [lease]
        ttl = "5m"
    """), encoding="utf-8")
    policy = RefreshPolicy.load(path)
    assert policy.interval("bilibili", "profiles") == timedelta(hours=12)
    assert policy.interval("bilibili", "posts") == timedelta(days=1)  # built-in default kept
    assert policy.interval("weibo", "profiles") == timedelta(days=2)
    assert policy.interval("weibo", "posts") is None
    assert policy.lease_ttl == timedelta(minutes=5)
    now = utcnow()
    # Issue 17: "details" (country, IP location, links ...) is a kind of its own, weekly by default.
    assert policy.interval("weibo", "details") == timedelta(days=7)
    assert policy.due_kinds("weibo", {}, now) == ["profiles", "details"]
    assert policy.due_kinds("bilibili", {"profiles": (now - timedelta(hours=13)).isoformat(),
                                         "details": (now - timedelta(days=2)).isoformat(),
                                         "posts": (now - timedelta(hours=1)).isoformat()}, now) == ["profiles"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[default]\nprofiles = "daily"', "not a duration"),
        ('[default]\nvideos = "1d"', "unknown kind"),
        ('[platforms.myspace]\nprofiles = "1d"', "not a platform"),
        ('[lease]\nttl = "off"', "cannot be 'off'"),
        ("[default\n", "not valid TOML"),
    ],
)
def test_a_bad_policy_file_is_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=message):
        RefreshPolicy.load(path)


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("1.5h") == timedelta(minutes=90)
    assert parse_duration(3600) == timedelta(hours=1)
    assert parse_duration("off") is None
    with pytest.raises(PolicyError):
        parse_duration("0m")


# --------------------------------------------------------------------------- due work and leases


def _accounts(database_url: str, count: int, platform: str = "bilibili") -> list[int]:
    with session_scope(database_url) as session:
        candidates = [
            add_candidate(session, f"creator {n}", accounts=[AccountRef(platform=platform, platform_user_id=str(1000 + n))])
            for n in range(count)
        ]
        session.flush()
        return [c.id for c in candidates]  # type: ignore[misc]


def _store(database_url: str, ref: AccountRef, failure: FailureKind | None = None) -> None:
    with session_scope(database_url) as session:
        run = start_run(session, "scheduled")
        if failure is None:
            item = ProfileItem(account=ref, profile=Profile(platform=ref.platform, platform_user_id=ref.platform_user_id, followers=5),
                               provenance=Provenance.of("https://api.bilibili.com/x", "bilibili.card", "1", b"{}", 200))
        else:
            item = FailureItem(account=ref, failure=Failure(failure, "test", 503), url="https://api.bilibili.com/x")
        write_items(session, [item], run.id)


def test_a_held_account_is_not_claimed_again_and_a_refreshed_one_waits_its_interval(database_url: str) -> None:
    _accounts(database_url, 3)
    policy = RefreshPolicy.load()
    first = claim_due(database_url, policy, ["bilibili"], owner=new_owner("a"))
    assert len(first.accounts["bilibili"]) == 3
    assert len(claim_due(database_url, policy, ["bilibili"], owner=new_owner("b"))) == 0

    refs = first.accounts["bilibili"]
    _store(database_url, refs[0])                                  # a snapshot
    _store(database_url, refs[1], FailureKind.NOT_FOUND)           # a final failure
    _store(database_url, refs[2], FailureKind.NETWORK)             # a transient failure
    counts = settle_owner(database_url, first.owner, policy)
    assert counts == {"done": 2, "retry_later": 1, "released": 0}

    assert len(claim_due(database_url, policy, ["bilibili"], owner=new_owner("c"))) == 0
    later = utcnow() + timedelta(hours=2)  # past transient_retry (1h), before the daily interval
    retried = claim_due(database_url, policy, ["bilibili"], owner=new_owner("d"), now=later)
    assert [r.account_id for r in retried.accounts["bilibili"]] == [refs[2].account_id]
    next_day = utcnow() + timedelta(days=1, minutes=1)
    again = claim_due(database_url, policy, ["bilibili"], owner=new_owner("e"), now=next_day)
    assert again.settled_stale["released"] == 1  # "d" never stored anything; its lease expired
    assert len(again) == 3


def test_limit_and_candidate_filter(database_url: str) -> None:
    ids = _accounts(database_url, 5)
    policy = RefreshPolicy.load()
    assert len(claim_due(database_url, policy, ["bilibili"], owner=new_owner("a"), limit=2)) == 2
    only = claim_due(database_url, policy, ["bilibili"], owner=new_owner("b"), candidate_ids=[ids[4]])
    assert len(only) == 1


def test_a_dead_crawls_leases_are_settled_from_what_it_stored(database_url: str) -> None:
    """SIGKILL leaves leases held by a process that no longer exists: the next run counts an
    account with a stored snapshot as done and takes over the rest."""
    _accounts(database_url, 4)
    policy = RefreshPolicy.load()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    owner = f"{socket.gethostname()}:{dead.pid}:dead"
    killed = claim_due(database_url, policy, ["bilibili"], owner=owner)
    _store(database_url, killed.accounts["bilibili"][0])
    resumed = claim_due(database_url, policy, ["bilibili"], owner=new_owner("next"))
    assert resumed.settled_stale == {"done": 1, "retry_later": 0, "released": 3}
    assert sorted(r.account_id for r in resumed.accounts["bilibili"]) == sorted(
        r.account_id for r in killed.accounts["bilibili"][1:]
    )


def test_an_expired_lease_of_another_machine_is_taken_over(database_url: str) -> None:
    _accounts(database_url, 2)
    policy = RefreshPolicy.load()
    other = "some-other-host:123:x"
    claim_due(database_url, policy, ["bilibili"], owner=other, ttl=timedelta(minutes=5))
    assert len(claim_due(database_url, policy, ["bilibili"], owner=new_owner("a"))) == 0  # other host: alive as far as we know
    later = utcnow() + timedelta(minutes=6)
    assert len(claim_due(database_url, policy, ["bilibili"], owner=new_owner("b"), now=later)) == 2


CLAIMER = """
import json, sys
from crawler.schedule import RefreshPolicy, claim_due
from storage.leases import new_owner
sys.stdin.readline()  # start together
claimed = claim_due(sys.argv[1], RefreshPolicy.load(), ["bilibili"], owner=new_owner(sys.argv[2]))
print(json.dumps([r.account_id for r in claimed.accounts["bilibili"]]))
"""


def test_two_processes_claiming_at_once_split_the_accounts_without_overlap(database_url: str) -> None:
    _accounts(database_url, 120)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen([sys.executable, "-c", CLAIMER, database_url, name], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        for name in ("one", "two", "three")
    ]
    import time

    time.sleep(1.5)  # let the interpreters import everything
    for process in processes:
        process.stdin.write("go\n")  # type: ignore[union-attr]
        process.stdin.flush()  # type: ignore[union-attr]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    claimed = [account for result in results for account in result]
    assert len(claimed) == 120 and len(set(claimed)) == 120, [len(r) for r in results]
    with session_scope(database_url) as session:
        from sqlmodel import select

        owners = {lease.owner for lease in session.exec(select(Lease)).all()}
    assert len(owners) == len([r for r in results if r])


# --------------------------------------------------------------------------- real crawls (Bilibili, replayed)


def _snapshot_counts(database_url: str) -> dict[int, int]:
    from collections import Counter

    from sqlmodel import select

    from storage.models import ProfileSnapshot

    with session_scope(database_url) as session:
        return dict(Counter(session.exec(select(ProfileSnapshot.account_id)).all()))


def _wangzi(*args: str, database_url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_overlapping_due_crawls_never_crawl_an_account_twice(database_url: str, tmp_path: Path) -> None:
    from tests.ops_recording import accounts_recording, ops_platform, register_accounts

    platform = ops_platform()

    refs = register_accounts(database_url, platform, 40)
    har = accounts_recording(tmp_path / "accounts.har", platform, refs)
    # Each run takes at most 25 accounts, so both crawl at the same time (a cron tick that
    # starts while the previous run is still going).
    slow = ["--limit", "25", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "DOWNLOAD_DELAY=0.02"]
    runs = [_wangzi("crawl", "--due", "-p", platform, "--replay", str(har), *slow, database_url=database_url)
            for _ in range(2)]
    for run in runs:
        out, err = run.communicate(timeout=240)
        assert run.returncode == 0, err
    from tests.helpers import runs as stored_runs

    per_run = [r.stats[platform]["snapshots"] for r in stored_runs(database_url)]
    assert sorted(per_run) == [15, 25]
    counts = _snapshot_counts(database_url)
    assert set(counts) == {r.account_id for r in refs}
    assert set(counts.values()) == {1}, "an account was crawled twice"
    again = _wangzi("crawl", "--due", "-p", platform, "--replay", str(har), database_url=database_url)
    out, err = again.communicate(timeout=240)
    assert again.returncode == 0 and "nothing is due" in err
    with session_scope(database_url) as session:
        from sqlmodel import select

        leases = session.exec(select(Lease)).all()
    assert len(leases) == 40 and all(x.owner is None and x.last_outcome == "snapshot" for x in leases)


@pytest.mark.slow
def test_a_due_crawl_killed_with_sigkill_is_finished_by_the_next_run_without_duplicates(database_url: str, tmp_path: Path) -> None:
    import signal
    import time

    from tests.ops_recording import accounts_recording, ops_platform, register_accounts

    platform = ops_platform()

    refs = register_accounts(database_url, platform, 24)
    har = accounts_recording(tmp_path / "accounts.har", platform, refs)
    slow = ["-s", "CONCURRENT_REQUESTS=1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "DOWNLOAD_DELAY=0.25",
            "-s", "WANGZI_STORAGE_BATCH=1"]
    victim = _wangzi("crawl", "--due", "-p", platform, "--replay", str(har), *slow, database_url=database_url)
    deadline = time.monotonic() + 120
    while sum(_snapshot_counts(database_url).values()) < 3:
        assert victim.poll() is None, victim.communicate()[1]
        assert time.monotonic() < deadline, "the crawl stored nothing"
        time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    done_before = _snapshot_counts(database_url)
    assert 3 <= len(done_before) < 24

    resumed = _wangzi("crawl", "--due", "-p", platform, "--replay", str(har), "--log-json", database_url=database_url)
    out, err = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, err
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(entry["logger"].startswith("scrapy") and entry["level"] == "INFO" for entry in logged), err[-1000:]
    counts = _snapshot_counts(database_url)
    assert set(counts) == {r.account_id for r in refs}
    assert set(counts.values()) == {1}, "a finished account was crawled again"


@pytest.mark.slow
def test_scrapy_crawl_with_jobdir_resumes_after_a_graceful_stop_without_crawling_finished_accounts(
    database_url: str, tmp_path: Path
) -> None:
    import signal
    import time

    from tests.ops_recording import accounts_recording, ops_platform, register_accounts

    platform = ops_platform()

    refs = register_accounts(database_url, platform, 20)
    har = accounts_recording(tmp_path / "accounts.har", platform, refs)
    common = ["-m", "scrapy", "crawl", platform, "-s", f"JOBDIR={tmp_path / 'job'}", "-s", f"WANGZI_REPLAY={har}",
              "-s", f"WANGZI_DATABASE_URL={database_url}", "-s", "ROBOTSTXT_OBEY=False", "-s", "AUTOTHROTTLE_ENABLED=False",
              "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
              "-s", "WANGZI_STORAGE_BATCH=1", "-s", "LOG_LEVEL=INFO"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": database_url}
    paused = subprocess.Popen([sys.executable, *common, "-s", "DOWNLOAD_DELAY=0.3", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False",
                               "-s", "CONCURRENT_REQUESTS=1"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while sum(_snapshot_counts(database_url).values()) < 3:
        assert paused.poll() is None, paused.communicate()[1][-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.1)
    paused.send_signal(signal.SIGINT)  # Ctrl-C: Scrapy stops gracefully and keeps its JOBDIR
    _, log = paused.communicate(timeout=120)
    before = _snapshot_counts(database_url)
    assert 3 <= len(before) < 20, log[-2000:]

    resumed = subprocess.run([sys.executable, *common, "-s", "DOWNLOAD_DELAY=0"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "were not crawled again" in resumed.stderr
    counts = _snapshot_counts(database_url)
    assert set(counts) == {r.account_id for r in refs}
    assert set(counts.values()) == {1}, "an account finished before the pause was crawled again"
