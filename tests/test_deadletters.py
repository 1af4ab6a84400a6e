"""Dead letters: an item the database refuses (here: SQLite answering "database or disk is
full" from a trigger, for every snapshot insert) is retried, then kept in a JSON-lines file
and stored later by `wangzi crawl --retry-dead-letters`, exactly once."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from crawler.deadletter import DeadLetterBox, item_from_json, item_to_json, retry_dead_letters
from records import AccountRef, Failure, FailureItem, FailureKind, Post, PostsItem, Profile, ProfileItem, Provenance
from storage.db import get_engine, upgrade
from tests.helpers import failures, fixture_exchange, posts, run_wangzi, snapshots, write_har

COOKIES = {"WANGZI_X_AUTH_TOKEN": "authtok-deadletter", "WANGZI_X_CT0": "ct0-deadletter"}
DISK_FULL = ("CREATE TRIGGER disk_full BEFORE INSERT ON profilesnapshot "
             "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")


def _profile_item() -> ProfileItem:
    post = Post("x", "17", url="https://x.com/a/status/17", published_at=datetime(2026, 5, 1, 12, tzinfo=timezone.utc),
                text="hi", likes=3, views=None, approximate=("likes",))
    profile = Profile("x", platform_user_id="42", handle="a", display_name="A", followers=12000, following=None,
                      joined_at=datetime(2013, 12, 14, 4, 35, 55, tzinfo=timezone.utc), approximate=("followers",), lower_bound=(), links=("https://a.example",), recent_posts=(post,))
    return ProfileItem(AccountRef("x", handle="a", account_id=3), profile,
                       Provenance.of("https://x.com/i/api/graphql/q/UserByScreenName", "x.user", "2", b"{}", 200))


def test_items_survive_the_round_trip_through_json() -> None:
    profile = _profile_item()
    page = PostsItem(profile.account, profile.profile.recent_posts, profile.provenance)
    failure = FailureItem(profile.account, Failure(FailureKind.RATE_LIMITED, "error 88", 429), "https://x.com/q")
    partial = FailureItem(profile.account, Failure(FailureKind.BLOCKED, "walled", 200), "https://x.com/p", profile_read=True)
    for item in (profile, page, failure, partial):
        again = item_from_json(json.loads(json.dumps(item_to_json(item))))
        assert again == item


def test_an_item_the_database_refuses_is_kept_and_re_applied_once(tmp_path: Path, sqlite_url: str) -> None:
    har = write_har(tmp_path / "x.har", [fixture_exchange("x", "user_by_screen_name_2026_05_core_legacy"),
                                         fixture_exchange("x", "about_account_2026_05")])
    assert run_wangzi("candidates", "add", "X Devs", "--x", "XDevelopers", database_url=sqlite_url).returncode == 0
    with get_engine(sqlite_url).begin() as connection:
        connection.execute(text(DISK_FULL))
    letters = tmp_path / "letters"
    crawled = run_wangzi("crawl", "--platform", "x", "--replay", str(har), "--verbose",
                         "-s", "WANGZI_STORAGE_RETRY_DELAY=0.05", database_url=sqlite_url, cwd=tmp_path,
                         env={**COOKIES, "WANGZI_DEAD_LETTER_DIR": str(letters)})
    log = crawled.stdout + crawled.stderr
    assert crawled.returncode in (0, 1), log[-2000:]
    assert snapshots(sqlite_url) == []
    assert "database or disk is full" in log and "retrying" in log and "--retry-dead-letters" in log
    (kept,) = DeadLetterBox(letters).files()
    (letter,) = [json.loads(line) for line in kept.read_text(encoding="utf-8").splitlines()]
    assert letter["item"]["type"] == "profile" and letter["item"]["profile"]["followers"] == 683277
    assert "disk is full" in letter["error"]

    # While the disk is still full the letter stays, and the command says so.
    still = run_wangzi("crawl", "--retry-dead-letters", "--dead-letter-dir", str(letters), database_url=sqlite_url)
    assert still.returncode == 1 and "still failing" in still.stderr
    assert DeadLetterBox(letters).files() == [kept]

    with get_engine(sqlite_url).begin() as connection:
        connection.execute(text("DROP TRIGGER disk_full"))
    done = run_wangzi("crawl", "--retry-dead-letters", "--dead-letter-dir", str(letters), database_url=sqlite_url)
    assert done.returncode == 0, done.stderr
    assert "1 dead letter(s)" in done.stdout
    ((account, snapshot),) = snapshots(sqlite_url)
    assert (account.handle, snapshot.followers, snapshot.country) == ("XDevelopers", 683277, "US")
    assert snapshot.crawl_run_id is not None
    assert DeadLetterBox(letters).files() == [] and len(list((letters / "applied").iterdir())) == 1

    # Re-applying the same letter again writes nothing new.
    (applied,) = (letters / "applied").iterdir()
    applied.replace(letters / applied.name)
    report = retry_dead_letters(letters, sqlite_url)
    assert report.applied == 1 and not report.still_failing and sum(report.rows.values()) == 0
    assert len(snapshots(sqlite_url)) == 1


def test_dead_letters_of_every_item_type_are_stored_idempotently(tmp_path: Path, database_url: str) -> None:
    """On SQLite and PostgreSQL: profile + posts + failure letters, applied twice, stored once."""
    from storage.db import session_scope
    from storage.candidates import add_candidate
    from storage.runs import start_run

    with session_scope(database_url) as session:
        candidate = add_candidate(session, "A", accounts=[AccountRef("x", handle="a")])
        run_id = start_run(session, "manual").id
        assert candidate.id
    item = _profile_item()
    item.account.account_id = None
    box = DeadLetterBox(tmp_path / "letters")
    box.append(item, run_id, "OperationalError: server closed the connection unexpectedly")
    box.append(PostsItem(item.account, item.profile.recent_posts, item.provenance), run_id, "restart")
    box.append(FailureItem(item.account, Failure(FailureKind.BLOCKED, "461", 461), "https://x.com/q"), run_id, "restart")
    first = retry_dead_letters(tmp_path / "letters", database_url)
    assert first.applied == 3 and first.rows.get("snapshots") == 1 and first.rows.get("failure:blocked") == 1
    for path in (tmp_path / "letters" / "applied").iterdir():
        path.replace(tmp_path / "letters" / path.name)
    second = retry_dead_letters(tmp_path / "letters", database_url)
    assert second.applied == 3 and sum(second.rows.values()) == 0
    assert len(snapshots(database_url)) == 1 and len(posts(database_url)) == 1 and len(failures(database_url)) == 1


@pytest.mark.slow
@pytest.mark.postgres
def test_a_postgresql_restart_during_a_crawl_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """pg_ctl restart while a crawl stores: batches are retried (or kept as dead letters and
    re-applied); every account ends with exactly one snapshot."""
    import os
    import subprocess
    import sys
    import time
    from collections import Counter

    from sqlmodel import select

    from storage.db import session_scope
    from storage.models import ProfileSnapshot
    from tests.helpers import REPO
    from tests.ops_recording import accounts_recording, ops_platform, register_accounts
    from tests.postgres import PostgresServer, PostgresUnavailable

    platform = ops_platform()
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        import psycopg

        with psycopg.connect(server.dsn("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE restart")
        database_url = server.url("restart")
        upgrade(database_url)
        refs = register_accounts(database_url, platform, 30)
        har = accounts_recording(tmp_path / "accounts.har", platform, refs)
        letters = tmp_path / "letters"
        env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO), "WANGZI_DEAD_LETTER_DIR": str(letters)}
        crawl = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "crawl", "-p", platform, "--replay", str(har), "-s", "WANGZI_STORAGE_BATCH=1",
             "-s", "DOWNLOAD_DELAY=0.1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "WANGZI_STORAGE_RETRY_DELAY=1"],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def stored() -> Counter[int]:
            with session_scope(database_url) as session:
                return Counter(session.exec(select(ProfileSnapshot.account_id)).all())

        deadline = time.monotonic() + 120
        while sum(stored().values()) < 3:
            assert crawl.poll() is None and time.monotonic() < deadline, crawl.communicate()[1][-2000:]
            time.sleep(0.1)
        from storage.db import get_engine

        get_engine(database_url).dispose()
        restart = subprocess.run(server._command(str(server.bindir / "pg_ctl"), "restart", "-D", str(server.data), "-m", "fast", "-w",
                                                 "-l", str(server.root / "restart.log"),
                                                 "-o", f"-h 127.0.0.1 -p {server.port} -k {server.root}"),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        assert restart.returncode == 0, (server.root / "restart.log").read_text(errors="replace")[-1000:]
        out, err = crawl.communicate(timeout=240)
        assert crawl.returncode in (0, 1), err[-2000:]
        # The restart was felt: a batch was retried or kept as a dead letter.
        assert "retrying" in err or DeadLetterBox(letters).files(), err[-2000:]
        get_engine(database_url).dispose()
        if DeadLetterBox(letters).files():
            report = retry_dead_letters(letters, database_url)
            assert not report.still_failing, report.still_failing
        counts = stored()
        assert set(counts) == {r.account_id for r in refs}, f"lost {len(refs) - len(counts)}; log:\n{err[-1500:]}"
        assert set(counts.values()) == {1}
    finally:
        from storage.db import get_engine

        get_engine.cache_clear()
        server.stop()
