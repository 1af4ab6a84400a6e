"""The batched CSV import's pipeline (issue 18 item 6): rows are read and checked in a thread
ahead of the batch being written, each batch is one write, and Python's cycle collector pauses
while an import runs. The report must be what it was: every bad row with its number, in row
order, whatever the batch size or the read-ahead, on SQLite and PostgreSQL; a row the database
refuses in the middle of a batch costs only itself."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

import storage.candidates
from crawler.candidates_csv import import_rows
from records import AccountRef
from storage.candidates import NewCandidate, Registered, Rejected, _ahead, import_candidates
from storage.db import session_scope
from storage.models import Account, Candidate

from tests.helpers import refuse_inserts_named


def _file(rows: int) -> str:
    """A CSV file of ``rows`` rows with bad rows spread through it: formulas, an account the row
    before has, a malformed handle, the name of the row before (in another case)."""
    lines = ["name,aliases,notes,bilibili,weibo,x"]
    for n in range(rows):
        if n % 9 == 4:
            lines.append(f"=SUM(A{n}),,,{900_000 + n},,")
        elif n % 9 == 7:
            lines.append(f"Person {n},,,{900_000 + n - 1},,")
        elif n % 13 == 5:
            lines.append(f"Person {n},,,,,@bad handle!")
        elif n % 17 == 3:
            lines.append(f"person {n - 1},,,,,")
        else:
            lines.append(f"Person {n},P{n}|人{n},row {n + 2},{900_000 + n},{1_000_000 + n},p_{n}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("batch,read_ahead,write_ahead", [(1, 1, 1), (5, 1, 0), (5, 3, 1), (5, 2, 3), (1000, 2, 1)])
def test_the_report_is_the_same_whatever_the_batch_or_the_read_ahead(database_url: str, batch: int, read_ahead: int,
                                                                      write_ahead: int, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bad row reported with its number, in row order, with what one transaction per row
    (register_candidate, as before batches) says of it; the good rows stored as it stores them.
    A row with the account or the name of a row before it starts a batch that must wait for
    that row's batch to be written before it is checked (small batches: many such waits)."""
    from storage.db import upgrade
    from tests.test_csv_import import _accounts, _row_by_row

    monkeypatch.setattr(storage.candidates._ahead, "__defaults__", (read_ahead,))
    monkeypatch.setattr(storage.candidates, "WRITE_AHEAD", write_ahead)
    csv = _file(120)
    report = import_rows(csv, database_url, batch=batch)
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    upgrade(reference_url)
    added, errors = _row_by_row(csv, reference_url)
    assert report.errors == errors
    assert report.added == added
    assert len(errors) > 25 and {"formula", "already belongs", "x account", "already exists"} <= \
        {kind for _, message in errors for kind in ("formula", "already belongs", "x account", "already exists") if kind in message}
    assert {name: sorted(accounts) for name, accounts in _accounts(database_url).items()} == \
           {name: sorted(accounts) for name, accounts in _accounts(reference_url).items()}
    with session_scope(database_url) as session:
        first = session.exec(select(Candidate).order_by(Candidate.id)).first()
        assert (first.aliases, first.notes, first.name_key, first.alias_keys) == (["P0", "人0"], "row 2", "person 0", "\np0\n人0\n")
        assert [(a.platform, a.handle, a.platform_user_id, a.profile_url) for a in
                session.exec(select(Account).where(Account.candidate_id == first.id).order_by(Account.id)).all()] == [
            ("bilibili", None, "900000", "https://space.bilibili.com/900000"),
            ("weibo", None, "1000000", None),
            ("x", "p_0", None, "https://x.com/p_0"),
        ]


def test_a_row_the_database_refuses_in_the_middle_of_a_batch_costs_only_itself(database_url: str) -> None:
    """The batch's one write fails; the batch is registered row by row, each row's accounts kept,
    an unowned account adopted, and the batches after it go on as batches."""
    from storage.candidates import account_for_ref

    with session_scope(database_url) as session:
        account_for_ref(session, AccountRef("bilibili", platform_user_id="777"))
    refuse_inserts_named(database_url, "Refused")
    lines = ["name,bilibili,x"] + [f"Row {n},{100 + n},row_{n}" for n in range(2, 30)]
    lines[5] = "Refused,106,row_6"  # row 6, in the middle of the first batch of 10
    lines[7] = "Adopter,777,row_8"  # row 8, adopts the unowned account, in the refused batch
    lines[25] = "=bad,126,row_26"  # row 26
    report = import_rows("\n".join(lines) + "\n", database_url, batch=10)
    errors = dict(report.errors)
    assert sorted(errors) == [6, 26]
    assert "refused by the test trigger" in errors[6] and "formula" in errors[26]
    assert [number for number, _ in report.added] == [n for n in range(2, 30) if n not in (6, 26)]
    with session_scope(database_url) as session:
        adopted = session.exec(select(Account).where(Account.platform_user_id == "777")).one()
        assert session.get(Candidate, adopted.candidate_id).display_name == "Adopter"
        assert adopted.profile_url == "https://space.bilibili.com/777"
        assert session.exec(select(Account).where(Account.platform_user_id == "106")).first() is None
        assert session.exec(select(Account).where(Account.handle == "row_9")).one().candidate_id is not None


def _entries(count: int, fail_at: int | None = None) -> Iterator[NewCandidate]:
    for n in range(count):
        if n == fail_at:
            raise RuntimeError("reading failed")
        yield NewCandidate(n + 2, f"Entry {n}", accounts=[AccountRef("bilibili", platform_user_id=str(5000 + n))])


def test_an_error_while_reading_is_raised_after_the_rows_before_it_and_the_collector_is_back_on(database_url: str) -> None:
    assert gc.isenabled()
    results: list[Registered | Rejected] = []
    with pytest.raises(RuntimeError, match="reading failed"):
        for result in import_candidates(database_url, _entries(25, fail_at=23), batch=10):
            assert not gc.isenabled()  # paused while the import runs
            results.append(result)
    assert [r.row for r in results] == list(range(2, 22))  # the two whole batches read before the error
    assert all(isinstance(r, Registered) for r in results)
    assert gc.isenabled()
    again = list(import_candidates(database_url, _entries(3), batch=10))  # the accounts are taken now
    assert [(r.row, type(r)) for r in again] == [(2, Rejected), (3, Rejected), (4, Rejected)]
    assert all("already belongs to candidate" in r.message for r in again if isinstance(r, Rejected))
    assert gc.isenabled()


def test_the_read_ahead_thread_stops_when_the_reader_stops() -> None:
    made: list[int] = []

    def numbers() -> Iterator[int]:
        for n in range(1000):
            made.append(n)
            yield n

    before = threading.active_count()
    items = _ahead(numbers(), depth=2)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()  # the caller stops early: the thread ends, having made at most a few more
    assert threading.active_count() == before
    assert len(made) <= 3 + 2 + 2
    with pytest.raises(ValueError, match="boom"):
        list(_ahead(iter_then_fail(), depth=1))


def iter_then_fail() -> Iterator[int]:
    yield 1
    raise ValueError("boom")
