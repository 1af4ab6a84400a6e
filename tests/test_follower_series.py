"""The kept daily follower series (storage/follower_series.py): what it gives is what the
snapshots themselves give, after a first build, after new snapshots of every kind, for
backdated windows and past what it keeps; only what changed is written."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def _accounts(session: Any, n: int = 3) -> list[Any]:
    from storage.models import Account, Candidate

    candidate = Candidate(display_name="Series")
    session.add(candidate)
    session.flush()
    accounts = [Account(candidate_id=candidate.id, platform="weibo", handle=f"series-{i}") for i in range(n)]
    session.add_all(accounts)
    session.flush()
    return accounts


_KEYS = iter(range(10**9))


def _add(session: Any, account: Any, when: datetime, followers: int | None, approximate: list[str] | None = None,
         lower: list[str] | None = None, id: int | None = None) -> None:
    from storage.models import ProfileSnapshot

    session.add(ProfileSnapshot(id=id, account_id=account.id, captured_at=when, followers=followers,
                                approximate=approximate or [], lower_bound=lower or [], source_url="https://example.test",
                                parser="test", parser_version="1", payload_sha256=f"k{next(_KEYS)}"))


def _history(session: Any, accounts: list[Any], days: int, seed: int = 3) -> None:
    """Daily-ish counts with what real histories have: several counts a day, rounded counts
    (either flag list), flags about something else, no count, days without a crawl."""
    rng = random.Random(seed)
    for account in accounts:
        count = rng.randint(1_000, 90_000)
        for d in range(days, 0, -1):
            if rng.random() < 0.1:
                continue  # not crawled that day
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                when = (NOW - timedelta(days=d)).replace(hour=rng.randint(0, 23), minute=rng.randint(0, 59),
                                                        microsecond=rng.randint(0, 999_999))
                count += rng.randint(-20, 400)
                kind = rng.random()
                if kind < 0.05:
                    _add(session, account, when, count, approximate=["followers"])
                elif kind < 0.08:
                    _add(session, account, when, count, lower=["followers"])
                elif kind < 0.10:
                    _add(session, account, when, count, approximate=["likes"])
                elif kind < 0.12:
                    _add(session, account, when, None)
                else:
                    _add(session, account, when, count)
    session.flush()


def _expected(session: Any, ids: list[int], start: datetime, end: datetime) -> dict[int, tuple[list[int], list[int]]]:
    """The detector's series made from the snapshots themselves (the path before series were kept)."""
    from enrichment.features.authenticity import daily_series
    from storage.feature_inputs import follower_count_columns

    columns = follower_count_columns(session, ids, start, end)
    return {a: (s.days.tolist(), s.followers.tolist())
            for a, s in daily_series(columns.account_id, columns.day, columns.followers, columns.rounded).items()}


def _kept(session: Any, ids: list[int], start: datetime, end: datetime) -> dict[int, tuple[list[int], list[int]]]:
    from storage.follower_series import daily_follower_series

    return {a: (days.tolist(), followers.tolist()) for a, (days, followers) in
            daily_follower_series(session, ids, start, end).items()}


def _rows(session: Any) -> dict[int, tuple[Any, ...]]:
    from sqlmodel import select

    from storage.models import FollowerSeries

    return {r.account_id: (r.through_id, r.complete_after_us, r.newest_us, bytes(r.series), r.updated_at)
            for r in session.exec(select(FollowerSeries))}


def test_a_first_build_gives_the_series_the_snapshots_give(database_url: str) -> None:
    from storage.db import session_scope

    with session_scope(database_url) as session:
        accounts = _accounts(session)
        _history(session, accounts, 60)
        ids = [a.id for a in accounts]
        start = NOW - timedelta(days=45)
        assert _kept(session, ids, start, NOW) == _expected(session, ids, start, NOW)
        assert set(_rows(session)) == set(ids)
        # A window inside what is kept, ending mid-day and starting mid-day, from the kept rows.
        for later_start, end in ((start + timedelta(hours=7), NOW - timedelta(days=3, hours=5)),
                                 (start + timedelta(days=10), NOW - timedelta(days=1))):
            assert _kept(session, ids, later_start, end) == _expected(session, ids, later_start, end)


def test_new_snapshots_of_every_kind_are_folded_in(database_url: str) -> None:
    """After the build: a new day, a later count the same day, a count written after but
    captured earlier the same day (a re-read answer), a rounded count, a count older than
    the window kept, and an account crawled for the first time."""
    from storage.db import session_scope

    with session_scope(database_url) as session:
        accounts = _accounts(session, 4)
        _history(session, accounts[:3], 40)
        ids = [a.id for a in accounts]
        start = NOW - timedelta(days=30)
        _kept(session, ids, start, NOW)
        first, second, third, newcomer = accounts
        _add(session, first, NOW - timedelta(hours=2), 123_456)  # today: a new day
        _add(session, first, NOW - timedelta(hours=1), 123_999)  # the day's later count wins
        _add(session, second, (NOW - timedelta(days=2)).replace(hour=23, minute=59, second=59, microsecond=999_999), 77)
        _add(session, second, (NOW - timedelta(days=2)).replace(hour=0, minute=0, microsecond=1), 11)  # earlier: loses
        _add(session, third, NOW - timedelta(minutes=30), 500_000, approximate=["followers"])  # rounded: left out
        _add(session, third, NOW - timedelta(days=35), 1)  # before the window kept: left out
        _add(session, newcomer, NOW - timedelta(days=3), 10)
        _add(session, newcomer, NOW - timedelta(days=2), 12)
        session.flush()
        later = start + timedelta(minutes=1)
        assert _kept(session, ids, later, NOW) == _expected(session, ids, later, NOW)
        kept = _kept(session, ids, later, NOW)
        assert kept[first.id][1][-1] == 123_999 and 77 in kept[second.id][1] and 11 not in kept[second.id][1]
        assert 500_000 not in kept[third.id][1] and kept[newcomer.id] == _expected(session, [newcomer.id], later, NOW)[newcomer.id]


def test_a_run_with_nothing_new_writes_nothing(database_url: str) -> None:
    from storage.db import session_scope

    with session_scope(database_url) as session:
        accounts = _accounts(session)
        _history(session, accounts, 20)
        ids = [a.id for a in accounts]
        _kept(session, ids, NOW - timedelta(days=15), NOW)
        before = _rows(session)
        _kept(session, ids, NOW - timedelta(days=15) + timedelta(hours=1), NOW + timedelta(hours=1))
        assert _rows(session) == before
        _add(session, accounts[0], NOW + timedelta(minutes=5), 5)
        session.flush()
        _kept(session, ids, NOW - timedelta(days=15) + timedelta(hours=1), NOW + timedelta(hours=1))
        after = _rows(session)
        assert after[accounts[1].id] == before[accounts[1].id] and after[accounts[2].id] == before[accounts[2].id]
        assert after[accounts[0].id][0] > before[accounts[0].id][0]  # through_id moved on


def test_a_backdated_window_and_one_past_what_is_kept_are_read_from_the_snapshots(database_url: str) -> None:
    """The window ends inside a day whose kept count came after it, or starts before what is
    kept (KEEP_DAYS before the newest day): the answer is still the snapshots' own."""
    from storage.db import session_scope
    from storage.follower_series import KEEP_DAYS

    with session_scope(database_url) as session:
        accounts = _accounts(session, 2)
        _history(session, accounts, KEEP_DAYS + 40, seed=11)
        ids = [a.id for a in accounts]
        start = NOW - timedelta(days=180)
        assert _kept(session, ids, start, NOW) == _expected(session, ids, start, NOW)
        kept_from = {a: r[1] for a, r in _rows(session).items()}
        assert all(after > 0 for after in kept_from.values())  # older days were dropped
        for window in ((start, NOW - timedelta(days=5, hours=13)),  # ends inside a crawled day
                       (NOW - timedelta(days=KEEP_DAYS + 30), NOW - timedelta(days=100))):  # before what is kept
            assert _kept(session, ids, *window) == _expected(session, ids, *window)


def test_accounts_without_snapshots_get_nothing_and_no_row(database_url: str) -> None:
    from storage.db import session_scope

    with session_scope(database_url) as session:
        accounts = _accounts(session, 2)
        _add(session, accounts[0], NOW - timedelta(days=1), None)  # a snapshot, no count
        session.flush()
        ids = [a.id for a in accounts]
        assert _kept(session, ids, NOW - timedelta(days=30), NOW) == {}
        assert set(_rows(session)) == {accounts[0].id}


def test_a_count_committed_late_with_a_lower_id_is_folded_on_postgresql(database_url: str) -> None:
    """On PostgreSQL a snapshot can commit after one with a higher id was folded: each refresh
    re-reads the last LATE_COMMIT of captures. (SQLite commits ids in order.)"""
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite has one writer at a time, so ids commit in order")
    from sqlalchemy import text

    from storage.db import session_scope

    with session_scope(database_url) as session:
        accounts = _accounts(session, 1)
        _history(session, accounts, 10)
        ids = [a.id for a in accounts]
        reserved = session.execute(text("SELECT nextval(pg_get_serial_sequence('profilesnapshot', 'id'))")).scalar()
        _add(session, accounts[0], NOW - timedelta(hours=3), 42)  # committed first, higher id
        session.flush()
        start = NOW - timedelta(days=8)
        _kept(session, ids, start, NOW)
        _add(session, accounts[0], NOW - timedelta(hours=2), 43, id=reserved)  # lower id, later
        session.flush()
        assert _kept(session, ids, start, NOW) == _expected(session, ids, start, NOW)
        assert _kept(session, ids, start, NOW)[ids[0]][1][-1] == 43


def test_enrich_judges_growth_the_same_with_kept_series_as_without(database_url: str) -> None:
    """Two enrich runs with new snapshots between them give the growth features a run that
    reads every count again gives (kept series deleted first)."""
    from sqlalchemy import delete

    from enrichment.stage import enrich
    from storage.db import session_scope
    from storage.features import latest_feature_snapshot
    from storage.models import FollowerSeries

    growth = ("growth_authenticity", "growth_flags", "growth_accounts_checked", "growth_insufficient_history")
    with session_scope(database_url) as session:
        accounts = _accounts(session, 2)
        _history(session, accounts, 120, seed=5)
        for d in range(30, 0, -1):  # a bought step on the first account
            _add(session, accounts[0], NOW - timedelta(days=d) + timedelta(hours=3), 500_000 + (50_000 if d < 10 else 0) + d)
        candidate_id = accounts[0].candidate_id
    with session_scope(database_url) as session:
        enrich(session, as_of=NOW - timedelta(days=5))
    with session_scope(database_url) as session:
        _add(session, session.merge(accounts[0]), NOW - timedelta(hours=6), 999_999)
    with session_scope(database_url) as session:
        enrich(session, as_of=NOW, force=True)
        kept = {k: latest_feature_snapshot(session, candidate_id).features.get(k) for k in growth}
        session.execute(delete(FollowerSeries))
    with session_scope(database_url) as session:
        enrich(session, as_of=NOW, force=True)
        fresh = {k: latest_feature_snapshot(session, candidate_id).features.get(k) for k in growth}
    assert kept == fresh and kept["growth_accounts_checked"] == 2
