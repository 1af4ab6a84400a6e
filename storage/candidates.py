"""Candidates and their accounts: registering, finding and listing them.

A candidate is a person; an account is one of their platform accounts. An account first
seen in an ad-hoc crawl is stored unowned and adopted when someone registers it.
"""

from __future__ import annotations

import json
import queue
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _encode_text
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, func
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from records import AccountRef, profile_url
from storage.collector import collector_paused
from storage.db import ensure_schema, get_engine, session_scope
from storage.models import Account, Candidate, ProfileSnapshot, utcnow
from storage.names import alias_search_keys, clean_aliases, clean_name, clean_notes, clean_search, search_key


#: Largest id every database holds: the tables' ids are INTEGER, 32-bit signed on PostgreSQL
#: (64-bit on SQLite). A larger number is no id, whatever it is asked for - and is never sent
#: to a database that would refuse it (PostgreSQL: "integer out of range", a 500 before).
MAX_ID = 2**31 - 1


class DuplicateAccount(ValueError):
    """The account is already registered (to this or another candidate)."""


class CandidateRefused(RuntimeError):
    """The database refused to store a candidate (the message says what it said)."""


class AmbiguousCandidate(ValueError):
    """A name or alias that several candidates have: the caller must say which one (by id).
    ``candidates`` holds them, oldest first; the message lists them."""

    def __init__(self, text: str, candidates: list[Candidate]) -> None:
        self.text = text
        self.candidates = candidates
        listed = "; ".join(describe_candidate(c) for c in candidates)
        super().__init__(f"{text!r} names {len(candidates)} candidates: {listed}; give the id of the one you mean")


class DuplicateName(ValueError):
    """A new candidate would have the name of an existing one (a namesake is registered only
    when the caller says it is another person). ``candidates`` are those with that name."""

    def __init__(self, name: str, candidates: list[Candidate]) -> None:
        self.name = name
        self.candidates = candidates
        listed = "; ".join(describe_candidate(c) for c in candidates)
        super().__init__(f"a candidate named {name!r} already exists ({listed}): add the accounts to that candidate "
                         "instead, or, if this is another person, allow the same name (--allow-same-name; "
                         "allow_same_name in the API)")


class CandidateNotFound(LookupError):
    """No candidate with that id."""


def describe_candidate(candidate: Candidate) -> str:
    """``12 Mia Chen (aliases: 陈米娅, Mia; inactive)``: a candidate as a person tells them apart."""
    facts = []
    if candidate.aliases:
        facts.append("aliases: " + ", ".join(candidate.aliases))
    if candidate.merged_into_id is not None:
        facts.append(f"merged into {candidate.merged_into_id}")
    elif not candidate.active:
        facts.append("inactive")
    return f"{candidate.id} {candidate.display_name}" + (f" ({'; '.join(facts)})" if facts else "")


def find_candidates(session: Session, text: str, *, follow_merges: bool = True) -> list[Candidate]:
    """Every candidate ``text`` names, oldest first: the one with that id (a merged candidate's
    id names the candidate it was merged into, unless not ``follow_merges``: curation acts on
    the candidate itself), else those whose display name has the search
    key of ``text`` (exact but blind to case and Unicode form: storage.names.search_key, on
    every database), else those with it as an alias. Merged candidates are found by no name:
    the candidate they were merged into holds their name as an alias. Raises
    :class:`storage.names.InvalidName` for text with control or invisible characters."""
    text = clean_search(text)
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        found = session.get(Candidate, int(text))
        if found:
            return [live_candidate(session, found) if follow_merges else found]
    return candidates_named(session, text)


def candidates_named(session: Session, text: str) -> list[Candidate]:
    """The unmerged candidates whose display name has the search key of ``text``, else those
    with it as an alias, oldest first (no id: a name that is a number is a name here).
    Raises :class:`storage.names.InvalidName` for text with control or invisible characters."""
    key = search_key(clean_search(text))
    if not key:
        return []
    unmerged = Candidate.merged_into_id.is_(None)  # type: ignore[union-attr]
    by_name = list(session.exec(select(Candidate).where(Candidate.name_key == key, unmerged).order_by(Candidate.id)).all())
    if by_name:
        return by_name
    return list(session.exec(
        select(Candidate).where(Candidate.alias_keys.contains(f"\n{key}\n", autoescape=True), unmerged)  # type: ignore[attr-defined]
        .order_by(Candidate.id)
    ).all())


def find_candidate(session: Session, text: str, *, follow_merges: bool = True) -> Candidate | None:
    """The one candidate ``text`` names (:func:`find_candidates`: an id, else a display name,
    else an alias), None for none; :class:`AmbiguousCandidate` listing them when several
    candidates have that name (or, with none named so, that alias): a name never picks one
    of several people. Raises :class:`storage.names.InvalidName` for text with control or
    invisible characters."""
    found = find_candidates(session, text, follow_merges=follow_merges)
    if len(found) > 1:
        raise AmbiguousCandidate(clean_search(text), found)
    return found[0] if found else None


def live_candidate(session: Session, candidate: Candidate) -> Candidate:
    """The candidate itself, or, for a merged one, the candidate its merge leads to (a merged
    candidate can be merged only while it is not itself merged, so the chain ends)."""
    seen = {candidate.id}
    while candidate.merged_into_id is not None:
        target = session.get(Candidate, candidate.merged_into_id)
        if target is None or target.id in seen:
            break
        seen.add(target.id)
        candidate = target
    return candidate


def same_name_candidates(session: Session, name: str) -> list[Candidate]:
    """The unmerged candidates whose display name has the search key of ``name``, oldest first."""
    key = search_key(name)
    if not key:
        return []
    return list(session.exec(select(Candidate).where(Candidate.name_key == key, Candidate.merged_into_id.is_(None))  # type: ignore[union-attr]
                             .order_by(Candidate.id)).all())


def account_by_id(session: Session, account_id: int) -> Account | None:
    if not 0 < account_id <= MAX_ID:
        return None
    return session.get(Account, account_id)


def get_candidate(session: Session, candidate_id: int) -> Candidate | None:
    if not 0 < candidate_id <= MAX_ID:
        return None
    return session.get(Candidate, candidate_id)


def list_candidates(
    session: Session,
    *,
    ids: Iterable[int] | None = None,
    active: bool | None = None,
    offset: int = 0,
    limit: int | None = None,
    after: int | None = None,
) -> list[Candidate]:
    """Candidates by id: the given ones (every one when ``ids`` is empty), only active or
    inactive ones when ``active`` says so, a page of them with ``offset``/``limit``, or with
    ``after``/``limit`` (those with a higher id than ``after``: one index seek, where an offset
    reads every row before it)."""
    statement = select(Candidate).order_by(Candidate.id)
    wanted = list(ids or [])
    if wanted:
        statement = statement.where(Candidate.id.in_(wanted))  # type: ignore[union-attr]
    if after is not None:
        statement = statement.where(Candidate.id > after)  # type: ignore[operator]
    if active is not None:
        statement = statement.where(Candidate.active == active)
    if offset:
        statement = statement.offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all())


def candidate_accounts(session: Session, candidate_ids: Iterable[int]) -> dict[int, list[Account]]:
    """Each of the candidates' accounts, in the order they were registered (candidates
    without accounts are absent). Asked 900 candidates at a time: one IN list of a whole
    cohort (200,000 ids) is slow to plan and past some databases' parameter limits."""
    ids = list(candidate_ids)
    accounts: dict[int, list[Account]] = {}
    for start in range(0, len(ids), 900):
        statement = (select(Account).where(Account.candidate_id.in_(ids[start:start + 900]))  # type: ignore[union-attr]
                     .order_by(Account.id))
        for account in session.exec(statement):
            accounts.setdefault(account.candidate_id, []).append(account)  # type: ignore[arg-type]
    return {cid: accounts[cid] for cid in sorted(accounts, key=lambda cid: accounts[cid][0].id)}  # type: ignore[arg-type, return-value]


def candidate_account_platforms(session: Session, candidate_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """Each of the candidates' accounts as (account id, platform), in the order they were
    registered: what the enrichment stage needs of them, without building an object per
    account (900 candidates at a time)."""
    ids = list(candidate_ids)
    accounts: dict[int, list[tuple[int, str]]] = {}
    for start in range(0, len(ids), 900):
        rows = session.execute(select(Account.candidate_id, Account.id, Account.platform)
                               .where(Account.candidate_id.in_(ids[start:start + 900]))  # type: ignore[union-attr]
                               .order_by(Account.id)).all()
        for candidate_id, account_id, platform in rows:
            accounts.setdefault(candidate_id, []).append((account_id, platform))
    return accounts


def account_platforms(session: Session, candidate_id: int) -> set[str]:
    """The platforms the candidate has an account on."""
    return set(session.exec(select(Account.platform).where(Account.candidate_id == candidate_id)).all())


def find_account(session: Session, ref: AccountRef) -> Account | None:
    """The stored account a ref names: by its id on the platform, else by its handle blind to
    case. Each an index seek (the handle's through ``lower(handle)`` alone, the platform
    checked on the rows found: see ``Account``'s indexes)."""
    if ref.platform_user_id:
        found = session.exec(select(Account).where(Account.platform == ref.platform,
                                                   Account.platform_user_id == ref.platform_user_id)).first()
        if found is not None:
            return found
    if ref.handle:
        for account in session.exec(select(Account).where(func.lower(Account.handle) == ref.handle.lower())
                                    .order_by(Account.id)).all():
            if account.platform == ref.platform:
                return account
    return None


def duplicate_account_message(ref: AccountRef, owner_id: int, owner_name: str | None) -> str:
    """What a registration says about an account someone already has."""
    return (f"{ref.platform} account {ref.handle or ref.platform_user_id} already belongs to "
            f"candidate {owner_id} ({owner_name if owner_name is not None else '?'})")


def add_candidate(
    session: Session,
    display_name: str,
    *,
    aliases: Iterable[str] = (),
    notes: str | None = None,
    accounts: Iterable[AccountRef] = (),
    allow_same_name: bool = True,
) -> Candidate:
    """Register a person and their accounts. Raises :class:`storage.names.InvalidName` for a
    name, alias or notes that cannot be stored (see storage/names.py), :class:`DuplicateAccount`
    if one of the accounts already belongs to someone and, unless ``allow_same_name``,
    :class:`DuplicateName` when a candidate of that name exists - each before writing anything."""
    name, kept_aliases, kept_notes = clean_name(display_name), clean_aliases(list(aliases)), clean_notes(notes)
    refs = list(accounts)
    for ref in refs:
        existing = find_account(session, ref)
        if existing is not None and existing.candidate_id is not None:
            owner = session.get(Candidate, existing.candidate_id)
            raise DuplicateAccount(duplicate_account_message(ref, existing.candidate_id, owner.display_name if owner else None))
    if not allow_same_name:
        namesakes = same_name_candidates(session, name)
        if namesakes:
            raise DuplicateName(name, namesakes)
    candidate = Candidate(display_name=name, aliases=kept_aliases, notes=kept_notes)
    session.add(candidate)
    session.flush()
    for ref in refs:
        attach_account(session, candidate, ref)
    return candidate


def register_candidate(
    database_url: str | None,
    display_name: str,
    *,
    aliases: Iterable[str] = (),
    notes: str | None = None,
    accounts: Iterable[AccountRef] = (),
    allow_same_name: bool = False,
) -> Candidate:
    """:func:`add_candidate` in a transaction of its own (``candidates add``): what the
    database refuses about this candidate - a value it cannot store, a constraint, a trigger -
    is :class:`CandidateRefused` with the database's own words, and nothing of the candidate is
    kept. A lost connection is raised as it is. A second candidate of an existing name is
    :class:`DuplicateName` unless ``allow_same_name``."""
    try:
        with session_scope(database_url) as session:
            return add_candidate(session, display_name, aliases=aliases, notes=notes, accounts=accounts,
                                 allow_same_name=allow_same_name)
    except DBAPIError as exc:
        raise refused(exc) from None


def refused(exc: DBAPIError) -> CandidateRefused:
    """:class:`CandidateRefused` with the database's own words (a lost connection is raised as it is)."""
    if exc.connection_invalidated:
        raise exc
    said = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
    return CandidateRefused(f"the database refused it: {said}")


def attach_account(session: Session, candidate: Candidate, ref: AccountRef) -> Account:
    """Give a candidate an account, adopting an unowned one seen in an ad-hoc crawl."""
    account = find_account(session, ref)
    if account is None:
        account = Account(platform=ref.platform, handle=ref.handle, platform_user_id=ref.platform_user_id)
    account.candidate_id = candidate.id
    account.profile_url = account.profile_url or profile_url(ref)
    session.add(account)
    session.flush()
    return account


def account_for_ref(session: Session, ref: AccountRef) -> Account:
    """The stored account an item is about, created (unowned) for ad-hoc crawls."""
    if ref.account_id is not None:
        account = session.get(Account, ref.account_id)
        if account is not None:
            return account
    account = find_account(session, ref)
    if account is None:
        account = Account(platform=ref.platform, handle=ref.handle, platform_user_id=ref.platform_user_id)
        session.add(account)
        session.flush()
    return account


def account_refs(
    session: Session, platform: str, *, candidate_id: int | None = None, candidate_ids: Iterable[int] | None = None
) -> list[AccountRef]:
    """Accounts to crawl on a platform: those of active candidates (or of the given ones)."""
    statement = select(Account).join(Candidate).where(Account.platform == platform)
    ids = list(candidate_ids or []) + ([candidate_id] if candidate_id is not None else [])
    if ids:
        statement = statement.where(Account.candidate_id.in_(ids))  # type: ignore[union-attr]
    else:
        statement = statement.where(Candidate.active == True)  # noqa: E712 - SQL expression
    return [
        AccountRef(platform=a.platform, handle=a.handle, platform_user_id=a.platform_user_id, account_id=a.id)
        for a in session.exec(statement.order_by(Account.id)).all()
    ]


def latest_snapshots(session: Session, candidate_ids: Iterable[int] | None = None) -> list[tuple[Account, ProfileSnapshot]]:
    """The newest snapshot of every account (of the given candidates): the last captured, and
    of those captured at the same time the last stored (as storage.profiles.newest_snapshot;
    a history stored after the fact, as the demo's synthetic one, is older however late it came).

    Each account's newest is found through the ``(account_id, captured_at)`` index (a subquery
    correlated to the account), for given candidates 900 at a time, so the cost follows the
    accounts asked for, not the whole snapshot table."""
    older = aliased(ProfileSnapshot)
    newest_id = (select(older.id).where(older.account_id == Account.id)
                 .order_by(older.captured_at.desc(), older.id.desc()).limit(1).scalar_subquery())
    statement = select(Account, ProfileSnapshot).join(ProfileSnapshot, ProfileSnapshot.id == newest_id)
    ids = list(candidate_ids or [])
    if not ids:
        return list(session.exec(statement).all())
    found: list[tuple[Account, ProfileSnapshot]] = []
    for start in range(0, len(ids), 900):
        found.extend(session.exec(statement.where(Account.candidate_id.in_(ids[start:start + 900]))).all())  # type: ignore[union-attr]
    return found


def active_candidate_ids(session: Session) -> list[int]:
    """The active candidates (the cohort the indices rank), by id."""
    return list(session.exec(select(Candidate.id).where(Candidate.active == True).order_by(Candidate.id)).all())  # noqa: E712


# --------------------------------------------------------------------------- batched import

#: Rows registered per transaction by :func:`import_candidates`.
IMPORT_BATCH = 1000
#: How many batches :func:`import_candidates` reads and checks ahead of the one being stored.
READ_AHEAD = 2
#: How many batches are checked against the database while the one before them is written.
WRITE_AHEAD = 1


@dataclass
class NewCandidate:
    """A person to register in a batch (:func:`import_candidates`); ``row`` names it in the
    report (a CSV row number)."""

    row: int
    display_name: str
    aliases: list[str] = field(default_factory=list)
    notes: str | None = None
    accounts: list[AccountRef] = field(default_factory=list)


@dataclass(frozen=True)
class Registered:
    """A row registered as this candidate."""

    row: int
    candidate_id: int
    display_name: str


@dataclass(frozen=True)
class Rejected:
    """A row not registered, and why (what :func:`register_candidate` would have raised)."""

    row: int
    message: str


@dataclass
class _Ready:
    """A row whose name, aliases and notes passed, with its search keys and the values stored
    for it (made while the rows are read, before the database is asked anything)."""

    entry: NewCandidate
    name: str
    aliases: list[str]
    notes: str | None
    refs: list[AccountRef]
    keys: set[tuple[str, str, str]]
    name_key: str
    stored: Any  # the candidate's values as the batch's write takes them (_Writer.row)
    accounts: list[Any]  # each ref's account as the batch's write takes it (_Writer.account)


@dataclass
class _Batch:
    """Rows to register in one transaction, and what to look up for them: the accounts by
    [platform, id], the handles (lower-cased) and, unless namesakes are allowed, the names' keys."""

    rows: list[_Ready]
    keys: set[tuple[str, str, str]]  # every key of its rows' accounts (and names)
    ids: list[list[str]]
    handles: list[str]
    names: list[str]


def _account_keys(ref: AccountRef) -> set[tuple[str, str, str]]:
    """What an account is found by (storage.candidates.find_account): its id, its handle blind to case."""
    keys = set()
    if ref.platform_user_id:
        keys.add((ref.platform, "id", ref.platform_user_id))
    if ref.handle:
        keys.add((ref.platform, "handle", ref.handle.lower()))
    return keys


def import_candidates(
    database_url: str | None,
    entries: Iterable[NewCandidate],
    *,
    allow_same_name: bool = False,
    batch: int = IMPORT_BATCH,
) -> Iterator[Registered | Rejected]:
    """Register many people, ``batch`` rows per transaction, saying for each row what
    :func:`register_candidate` would say for it alone: registered, or rejected with the same
    message (a name, alias or notes storage/names.py refuses; an account someone has - a
    candidate of an earlier row included; a name another candidate has, unless
    ``allow_same_name``; what the database refused). Results come batch by batch, in row order
    within a batch (rows refused by storage/names.py before the batch's).

    Per batch: one query for the accounts and one for the names its rows name, then one write
    (PostgreSQL: a single statement inserting the candidates, under ids taken from their
    sequence, their new accounts and adopting the unowned accounts they name; SQLite: the
    candidates, the accounts, the adoptions, each one executemany). A row conflicting with an
    earlier row of the batch (the same account, the same name) starts a new batch, so it is
    checked against that row once stored. When the database refuses a batch (a value it
    cannot store, a trigger, another writer's account), the batch is rolled back and registered
    row by row, each row in a savepoint of its own: a refused row costs only itself.

    Three stages overlap: the rows are read, checked and turned into the values stored
    (``entries``, storage.names, the batches' bounds: nothing that asks the database) in a
    thread of their own, :data:`READ_AHEAD` batches ahead; a batch is checked against the
    database (on one connection) while the batch before it is written (on another, in a second
    thread) - unless the batch being written has one of its accounts or names, then that write
    is waited for first. SQLite's and the PostgreSQL server's work, and waiting for them, leave
    Python's interpreter free for the other stages. The batches and the results are the same, in
    the same order, as when done in turn; an error while reading is raised after the results
    of the rows before it. Python's cycle collector pauses while an import runs
    (:func:`storage.collector.collector_paused`)."""
    ensure_schema(database_url)
    engine = get_engine(database_url)
    writer = _Writer(engine.dialect)
    in_flight: deque[tuple[list[Rejected], set[tuple[str, str, str]], dict[int, Registered | Rejected],
                           Future[dict[int, Registered | Rejected]]]] = deque()

    def oldest() -> Iterator[Registered | Rejected]:
        rejected, _, checked, stored = in_flight.popleft()
        yield from rejected
        results = {**checked, **stored.result()}
        yield from (results[row] for row in sorted(results))

    with collector_paused(), engine.connect() as reading, engine.connect() as writing, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-write") as pool:
        batches = _ahead(_batches(entries, allow_same_name, batch, writer))
        while True:
            try:
                rejected, ready = next(batches)
            except StopIteration:
                break
            except Exception:  # reading failed: the rows before it are reported, then the error
                while in_flight:
                    yield from oldest()
                raise
            if ready is None:
                in_flight.append((rejected, set(), {}, _done({})))
            else:
                if any(ready.keys & keys for _, keys, _, _ in in_flight):
                    while in_flight:  # a batch being written has an account or a name of this one
                        yield from oldest()
                checked, accepted = _checked_batch(reading, writer, ready, allow_same_name)
                in_flight.append((rejected, ready.keys, checked, pool.submit(
                    _stored_batch, database_url, writing, writer, accepted, writer.prepare(accepted) if accepted else None,
                    allow_same_name)))
            while len(in_flight) > WRITE_AHEAD:
                yield from oldest()
        while in_flight:
            yield from oldest()


def _done(value: Any) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_result(value)
    return future


def _batches(entries: Iterable[NewCandidate], allow_same_name: bool, batch: int,
             writer: _Writer) -> Iterator[tuple[list[Rejected], _Batch | None]]:
    """The rows checked and cut into batches: (the rows refused since the last batch, the
    batch), a batch ending at ``batch`` rows or before a row that conflicts with one of it."""
    pending: list[_Ready] = []
    refused_rows: list[Rejected] = []
    taken: set[tuple[str, str, str]] = set()
    aliases_json = writer.aliases_json
    for entry in entries:
        try:
            name, aliases, notes = clean_name(entry.display_name), clean_aliases(list(entry.aliases)), clean_notes(entry.notes)
        except ValueError as exc:  # InvalidName
            refused_rows.append(Rejected(entry.row, str(exc)))
            continue
        refs: list[AccountRef] = []
        keys: set[tuple[str, str, str]] = set()
        for ref in entry.accounts:
            ref_keys = _account_keys(ref)
            if ref_keys & keys:
                continue  # the same account twice in one row: one account
            refs.append(ref)
            keys |= ref_keys
        name_key = search_key(name)
        conflicts = keys | ({("", "name", name_key)} if not allow_same_name else set())
        if pending and (conflicts & taken or len(pending) >= batch):
            yield refused_rows, _batch_of(pending, taken)
            pending, refused_rows, taken = [], [], set()
        number = entry.row
        pending.append(_Ready(entry, name, aliases, notes, refs, keys, name_key,
                              writer.row(number, name, aliases_json(aliases), notes, name_key, alias_search_keys(aliases)),
                              [writer.account(number, ref.platform, ref.handle, ref.platform_user_id, profile_url(ref))
                               for ref in refs]))
        taken |= conflicts
    if pending or refused_rows:
        yield refused_rows, _batch_of(pending, taken) if pending else None


def _batch_of(rows: list[_Ready], taken: set[tuple[str, str, str]]) -> _Batch:
    ids, handles, names = [], set(), []
    for platform, kind, value in taken:
        if kind == "id":
            ids.append([platform, value])
        elif kind == "handle":
            handles.add(value)
        else:
            names.append(value)
    return _Batch(rows, taken, sorted(ids), sorted(handles), sorted(names))


def _ahead(items: Iterable[Any], depth: int = READ_AHEAD) -> Iterator[Any]:
    """``items`` as they are, made in a thread of their own at most ``depth`` ahead of the
    caller. An exception in the thread is raised here, after the items made before it; when
    the caller stops early (an exception, a generator closed), the thread stops at its next item."""
    made: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(kind: str, value: Any) -> None:
        while not stop.is_set():
            try:
                made.put((kind, value), timeout=0.1)
                return
            except queue.Full:
                continue

    def make() -> None:
        try:
            for item in items:
                hand_over("item", item)
                if stop.is_set():
                    return
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            hand_over("error", exc)
        else:
            hand_over("done", None)

    thread = threading.Thread(target=make, name="import-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = made.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


class _AccountRow(NamedTuple):
    id: int
    candidate_id: int | None
    platform: str
    handle: str | None
    platform_user_id: str | None
    profile_url: str | None


def _checked_batch(connection: Connection, writer: _Writer, batch: _Batch, allow_same_name: bool
                   ) -> tuple[dict[int, Registered | Rejected], list[tuple[_Ready, list[_AccountRow | None] | None]]]:
    """The batch's rows checked against the database in one transaction of ``connection``: the
    rows refused (an account someone has, a name someone has), and the rows to store with the
    stored accounts they name (None: every account new)."""
    results: dict[int, Registered | Rejected] = {}
    accepted: list[tuple[_Ready, list[_AccountRow | None] | None]] = []
    with connection.begin():
        found = _accounts_named(connection, writer, batch)
        namesakes = {} if allow_same_name else _namesakes(connection, writer, batch.names)
        if not found and not namesakes:
            return results, [(ready, None) for ready in batch.rows]
        owner_ids = sorted({row.candidate_id for row in found.values() if row.candidate_id is not None})
        owners = _names_of(connection, owner_ids)
    for ready in batch.rows:
        matched: list[_AccountRow | None] = []
        problem = None
        for ref in ready.refs:
            existing = _match(found, ref)
            if existing is not None and existing.candidate_id is not None:
                problem = duplicate_account_message(ref, existing.candidate_id, owners.get(existing.candidate_id))
                break
            matched.append(existing)
        if problem is None and ready.name_key in namesakes:
            problem = str(DuplicateName(ready.name, namesakes[ready.name_key]))
        if problem is not None:
            results[ready.entry.row] = Rejected(ready.entry.row, problem)
        else:
            accepted.append((ready, matched if any(m is not None for m in matched) else None))
    return results, accepted


def _stored_batch(database_url: str | None, connection: Connection, writer: _Writer,
                  accepted: list[tuple[_Ready, list[_AccountRow | None] | None]], prepared: Any,
                  allow_same_name: bool) -> dict[int, Registered | Rejected]:
    """The accepted rows stored in one transaction of ``connection``; a batch the database
    refuses is rolled back and registered row by row (:func:`_register_one`)."""
    results: dict[int, Registered | Rejected] = {}
    if not accepted:
        return results
    with connection.begin() as transaction:
        try:
            ids = writer.write(connection, accepted, prepared)
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise
            transaction.rollback()
        else:
            for (ready, _), candidate_id in zip(accepted, ids):
                results[ready.entry.row] = Registered(ready.entry.row, candidate_id, ready.name)
            return results
    with session_scope(database_url) as session:
        for ready, _ in accepted:
            results[ready.entry.row] = _register_one(session, ready, allow_same_name)
    return results


def _register_one(session: Session, ready: _Ready, allow_same_name: bool) -> Registered | Rejected:
    """One row in a savepoint of its own (a batch the database refused is registered so)."""
    try:
        with session.begin_nested():
            candidate = add_candidate(session, ready.name, aliases=ready.aliases, notes=ready.notes, accounts=ready.refs,
                                      allow_same_name=allow_same_name)
            return Registered(ready.entry.row, int(candidate.id), candidate.display_name)  # type: ignore[arg-type]
    except DBAPIError as exc:
        return Rejected(ready.entry.row, str(refused(exc)))
    except ValueError as exc:  # DuplicateAccount, DuplicateName (another writer was quicker)
        return Rejected(ready.entry.row, str(exc))


#: The columns an account lookup reads (an _AccountRow).
_ACCOUNT_COLUMNS = "a.id, a.candidate_id, a.platform, a.handle, a.platform_user_id, a.profile_url"


def _accounts_named(connection: Connection, writer: _Writer, batch: _Batch) -> dict[tuple[str, str, str], _AccountRow]:
    """The stored accounts the batch's rows name, by each of their keys (:func:`_account_keys`),
    each an index seek: by id through the unique (platform, platform_user_id) index, by handle
    through ``lower(handle)``'s index, the platform checked on the rows found (find_account says
    why). The values are one JSON parameter per kind: on PostgreSQL each looked up in a LATERAL
    subquery (a plain ``IN``/``= ANY`` list is planned from statistics that lag far behind a table
    an import is filling - the server scanned the whole table per batch - and a lookup per value
    cannot be a scan); on SQLite json_each's values, CROSS JOIN keeping them the outer loop."""
    if not batch.ids and not batch.handles:
        return {}
    dumps = json.dumps
    if writer.postgres:
        # By id: a part per platform (the platform a constant: a quarter faster than both from the JSON).
        by_id = (f"SELECT {_ACCOUNT_COLUMNS} FROM json_array_elements_text(%s::JSON) AS w(v) JOIN LATERAL "
                 "(SELECT * FROM account WHERE account.platform = %s AND account.platform_user_id = w.v "
                 "OFFSET 0) AS a ON true")
        by_handle = (f"SELECT {_ACCOUNT_COLUMNS} FROM json_array_elements_text(%s::JSON) AS w(v) JOIN LATERAL "
                     "(SELECT * FROM account WHERE lower(account.handle) = w.v OFFSET 0) AS a ON true")
    else:
        by_id = (f"SELECT {_ACCOUNT_COLUMNS} FROM json_each(?) AS w CROSS JOIN account AS a "
                 "WHERE a.platform = json_extract(w.value, '$[0]') AND a.platform_user_id = json_extract(w.value, '$[1]')")
        by_handle = f"SELECT {_ACCOUNT_COLUMNS} FROM json_each(?) AS w CROSS JOIN account AS a WHERE lower(a.handle) = w.value"
    rows: list[Any] = []
    if batch.ids and writer.postgres:
        ids: dict[str, list[str]] = {}
        for platform, value in batch.ids:
            ids.setdefault(platform, []).append(value)
        rows.extend(connection.exec_driver_sql(" UNION ALL ".join([by_id] * len(ids)),
                                               tuple(v for platform, values in ids.items() for v in (dumps(values), platform))).all())
    elif batch.ids:
        rows.extend(connection.exec_driver_sql(by_id, (dumps(batch.ids),)).all())
    if batch.handles:
        rows.extend(connection.exec_driver_sql(by_handle, (dumps(batch.handles),)).all())
    found: dict[tuple[str, str, str], _AccountRow] = {}
    for row in sorted(rows, key=itemgetter(0)):  # by id: the oldest account first
        account = _AccountRow(*row)
        for key in _account_keys(AccountRef(platform=account.platform, handle=account.handle,
                                            platform_user_id=account.platform_user_id)):
            if key in batch.keys:  # (a handle found on another platform is not the account asked for)
                found.setdefault(key, account)
    return found


def _namesakes(connection: Connection, writer: _Writer, keys: list[str]) -> dict[str, list[Candidate]]:
    """The unmerged candidates (oldest first) with each of these name keys, for the keys some have."""
    if not keys:
        return {}
    if writer.postgres:
        statement = ("SELECT c.id FROM json_array_elements_text(%s::JSON) AS w(v) JOIN LATERAL "
                     "(SELECT id FROM candidate WHERE candidate.name_key = w.v AND candidate.merged_into_id IS NULL "
                     "OFFSET 0) AS c ON true")
    else:
        statement = ("SELECT c.id FROM json_each(?) AS w CROSS JOIN candidate AS c "
                     "WHERE c.name_key = w.value AND c.merged_into_id IS NULL")
    same = sorted(row[0] for row in connection.exec_driver_sql(statement, (json.dumps(keys),)))
    namesakes: dict[str, list[Candidate]] = {}
    if same:
        with Session(bind=connection) as session:
            for start in range(0, len(same), 900):
                for candidate in session.exec(select(Candidate).where(Candidate.id.in_(same[start:start + 900]))  # type: ignore[union-attr]
                                              .order_by(Candidate.id)).all():
                    namesakes.setdefault(candidate.name_key, []).append(candidate)
    return namesakes


def _names_of(connection: Connection, candidate_ids: list[int]) -> dict[int, str]:
    """The display names of these candidates (the owners of accounts a batch names)."""
    names: dict[int, str] = {}
    candidates = Candidate.__table__  # type: ignore[attr-defined]
    for start in range(0, len(candidate_ids), 900):
        names.update(connection.execute(select(candidates.c.id, candidates.c.display_name)
                                        .where(candidates.c.id.in_(candidate_ids[start:start + 900]))).all())
    return names


def _match(found: dict[tuple[str, str, str], _AccountRow], ref: AccountRef) -> _AccountRow | None:
    """The stored account a ref names: by id first, then by handle."""
    if ref.platform_user_id and (ref.platform, "id", ref.platform_user_id) in found:
        return found[(ref.platform, "id", ref.platform_user_id)]
    if ref.handle:
        return found.get((ref.platform, "handle", ref.handle.lower()))
    return None


class _Writer:
    """A batch's write on one database: the values of a row and of its accounts, made while
    reading (:meth:`row`, :meth:`account`), and the statements storing the accepted rows of a
    batch (:meth:`write`). SQLAlchemy's per-row, per-column bind processing and a statement per
    row would be most of the cost of 400,000 accounts, so the statements go straight to the
    driver with values that need no conversion (texts, integers, NULLs; JSON as its text, made
    by the engine's serializer)."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        self.postgres = dialect.name == "postgresql"
        serializer = getattr(dialect, "_json_serializer", None)
        self.aliases_json: Callable[[list[str]], str] = serializer or _json_list
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self._sequence: str | None = None

    def row(self, number: int, name: str, aliases_json: str, notes: str | None, name_key: str, alias_keys: str) -> Any:
        """The candidate's values: PostgreSQL, an object for json_to_recordset (its fields are
        named in :meth:`_write_postgres`); SQLite, the values of the INSERT."""
        if self.postgres:
            return {"w": number, "d": name, "a": aliases_json, "o": notes, "k": name_key, "l": alias_keys}
        return (name, aliases_json, notes, name_key, alias_keys)

    def account(self, number: int, platform: str, handle: str | None, user_id: str | None, url: str | None) -> Any:
        """A new account of the candidate of row ``number`` (PostgreSQL: an object; SQLite: values)."""
        if self.postgres:
            return {"w": number, "p": platform, "h": handle, "i": user_id, "u": url}
        return (platform, handle, user_id, url)

    def _url(self, account: Any) -> str | None:
        return account["u"] if self.postgres else account[3]  # type: ignore[no-any-return]

    def prepare(self, accepted: list[tuple[_Ready, list[_AccountRow | None] | None]]) -> Any:
        """What :meth:`write` needs that can be made before it, in the thread that checks the
        batch (PostgreSQL: the statement's three JSON parameters; SQLite: nothing), so that
        the writing thread mostly waits for the server."""
        if not self.postgres:
            return None
        new, adopted = self._split(accepted)
        encode = self._encode
        return (encode([ready.stored for ready, _ in accepted]), encode([account for _, account in new]),
                encode([{"w": accepted[index][0].entry.row, "i": account_id, "u": url} for index, account_id, url in adopted]))

    def write(self, connection: Connection, accepted: list[tuple[_Ready, list[_AccountRow | None] | None]],
              prepared: Any = None) -> list[int]:
        """Store the accepted rows (a matched account - unowned, or the row would have been
        refused - is adopted, the others created); their candidates' ids, in row order.
        ``prepared``: what :meth:`prepare` made of them, if it was called."""
        now = utcnow()
        if self.postgres:
            return self._write_postgres(connection, accepted, prepared or self.prepare(accepted), now)
        new, adopted = self._split(accepted)
        return self._write_sqlite(connection, accepted, new, adopted, now)

    def _split(self, accepted: list[tuple[_Ready, list[_AccountRow | None] | None]]
               ) -> tuple[list[tuple[int, Any]], list[tuple[int, int, str | None]]]:
        """The accepted rows' new accounts and the stored ones they adopt, by index in ``accepted``."""
        new: list[tuple[int, Any]] = []  # (index in accepted, account)
        adopted: list[tuple[int, int, str | None]] = []  # (index in accepted, account id, profile URL)
        for index, (ready, matched) in enumerate(accepted):
            if matched is None:
                new.extend((index, account) for account in ready.accounts)
                continue
            for account, existing in zip(ready.accounts, matched):
                if existing is None:
                    new.append((index, account))
                else:
                    adopted.append((index, existing.id, existing.profile_url or self._url(account)))
        return new, adopted

    def _sql_type(self, table: Any, name: str) -> str:
        """A column's type without a length: the INSERT, not a cast, refuses a value too long."""
        return re.sub(r"\(.*?\)", "", table.c[name].type.compile(dialect=self.dialect))

    def _write_postgres(self, connection: Connection, accepted: list[tuple[_Ready, Any]], prepared: tuple[str, str, str],
                        now: Any) -> list[int]:
        """One statement: the rows, their new accounts and the adopted accounts as three JSON
        parameters (psycopg's executemany sends a statement per row; a multi-row VALUES of
        thousands of placeholders is reparsed every time; json.dumps is C), each row given the
        next id of the candidates' sequence in a materialised CTE, which the candidates, the
        accounts (by row number) and the adoptions are inserted and updated from; the ids come
        back with each row's number."""
        if self._sequence is None:
            self._sequence = connection.exec_driver_sql("SELECT pg_get_serial_sequence('candidate', 'id')").scalar_one()
        candidates, accounts = Candidate.__table__, Account.__table__  # type: ignore[attr-defined]
        stamp = self._sql_type(candidates, "created_at")
        # Rows: w row number, d display_name, a aliases (JSON text), o notes, k name_key,
        # l alias_keys. Accounts: w the row, p platform, h handle, i platform_user_id, u profile_url,
        # inserted in their order (their ids are the order they were registered in).
        statement = (
            "WITH r AS MATERIALIZED (SELECT nextval(%s::regclass) AS id, x.* FROM json_to_recordset(%s::JSON) "
            "AS x(w INTEGER, d TEXT, a TEXT, o TEXT, k TEXT, l TEXT)), "
            "c AS (INSERT INTO candidate (id, display_name, aliases, notes, name_key, alias_keys, active, created_at, "
            f"updated_at) SELECT r.id, r.d, r.a::JSON, r.o, r.k, r.l, %s::{self._sql_type(candidates, 'active')}, "
            f"%s::{stamp}, %s::{stamp} FROM r), "
            "a AS (INSERT INTO account (candidate_id, platform, handle, platform_user_id, profile_url, created_at) "
            f"SELECT r.id, e.p, e.h, e.i, e.u, %s::{self._sql_type(accounts, 'created_at')} "
            "FROM ROWS FROM (json_to_recordset(%s::JSON) AS (w INTEGER, p TEXT, h TEXT, i TEXT, u TEXT)) "
            "WITH ORDINALITY AS e(w, p, h, i, u, n) JOIN r ON r.w = e.w ORDER BY e.n), "
            "u AS (UPDATE account SET candidate_id = r.id, profile_url = e.u "
            "FROM json_to_recordset(%s::JSON) AS e(w INTEGER, i INTEGER, u TEXT) JOIN r ON r.w = e.w "
            "WHERE account.id = e.i) "
            "SELECT r.w, r.id FROM r")
        rows, new, adopted = prepared
        ids = dict(connection.exec_driver_sql(statement, (self._sequence, rows, True, now, now, now, new, adopted)).all())
        return [ids[ready.entry.row] for ready, _ in accepted]

    def _write_sqlite(self, connection: Connection, accepted: list[tuple[_Ready, Any]], new: list[tuple[int, Any]],
                      adopted: list[tuple[int, int, str | None]], now: Any) -> list[int]:
        """The first candidate inserted alone, taking the next id (this transaction holds the
        database's write lock from then on, so the ids after it are free), the others under
        the ids after it; then the new accounts and the adoptions, each one executemany."""
        candidates, accounts = Candidate.__table__, Account.__table__  # type: ignore[attr-defined]
        stamp = candidates.c.created_at.type._cached_bind_processor(self.dialect)
        active = candidates.c.active.type._cached_bind_processor(self.dialect)
        now_value = stamp(now) if stamp else now
        fixed = (active(True) if active else True, now_value, now_value)
        columns = "display_name, aliases, notes, name_key, alias_keys, active, created_at, updated_at"
        first = connection.exec_driver_sql(f"INSERT INTO candidate ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                           accepted[0][0].stored + fixed).lastrowid
        ids = list(range(first, first + len(accepted)))
        if len(accepted) > 1:
            connection.exec_driver_sql(f"INSERT INTO candidate (id, {columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                       [(candidate_id, *ready.stored, *fixed)
                                        for candidate_id, (ready, _) in zip(ids[1:], accepted[1:])])
        account_stamp = accounts.c.created_at.type._cached_bind_processor(self.dialect)
        account_now = account_stamp(now) if account_stamp else now
        if new:
            connection.exec_driver_sql("INSERT INTO account (candidate_id, platform, handle, platform_user_id, profile_url, "
                                       "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                       [(first + index, *account, account_now) for index, account in new])
        if adopted:
            connection.exec_driver_sql("UPDATE account SET candidate_id = ?, profile_url = ? WHERE id = ?",
                                       [(first + index, url, account_id) for index, account_id, url in adopted])
        return ids


def _json_list(texts: list[str]) -> str:
    """``json.dumps(texts)`` for a list of texts (the same text), without building an encoder per call."""
    return "[" + ", ".join(map(_encode_text, texts)) + "]"
