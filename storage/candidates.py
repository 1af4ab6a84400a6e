"""Candidates and their accounts: registering, finding and listing them.

A candidate is a person; an account is one of their platform accounts. An account first
seen in an ad-hoc crawl is stored unowned and adopted when someone registers it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, Integer, String, bindparam, func, literal_column, true, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from records import AccountRef, profile_url
from storage.db import session_scope
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
) -> list[Candidate]:
    """Candidates by id: the given ones (every one when ``ids`` is empty), only active or
    inactive ones when ``active`` says so, a page of them with ``offset``/``limit``."""
    statement = select(Candidate).order_by(Candidate.id)
    wanted = list(ids or [])
    if wanted:
        statement = statement.where(Candidate.id.in_(wanted))  # type: ignore[union-attr]
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
    """A row whose name, aliases and notes passed, with its search keys."""

    entry: NewCandidate
    name: str
    aliases: list[str]
    notes: str | None
    refs: list[AccountRef]
    keys: set[tuple[str, str, str]]
    name_key: str


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
    ``allow_same_name``; what the database refused). Results come batch by batch, in row order.

    Per batch: one query for the accounts and one for the names its rows name, one multi-row
    insert of the candidates, one of their new accounts, one update of the unowned accounts
    they adopt. A row conflicting with an earlier row of the batch (the same account, the same
    name) starts a new batch, so it is checked against that row once stored. When the database
    refuses a batch (a value it cannot store, a trigger, another writer's account), the batch
    is rolled back to its savepoint and registered row by row, each row in a savepoint of its
    own: a refused row costs only itself."""
    pending: list[_Ready] = []
    taken: set[tuple[str, str, str]] = set()
    for entry in entries:
        try:
            name, aliases, notes = clean_name(entry.display_name), clean_aliases(list(entry.aliases)), clean_notes(entry.notes)
        except ValueError as exc:  # InvalidName
            yield Rejected(entry.row, str(exc))
            continue
        refs: list[AccountRef] = []
        keys: set[tuple[str, str, str]] = set()
        for ref in entry.accounts:
            ref_keys = _account_keys(ref)
            if ref_keys & keys:
                continue  # the same account twice in one row: one account
            refs.append(ref)
            keys |= ref_keys
        ready = _Ready(entry, name, aliases, notes, refs, keys, search_key(name))
        conflicts = keys | ({("", "name", ready.name_key)} if not allow_same_name else set())
        if pending and (conflicts & taken or len(pending) >= batch):
            yield from _import_batch(database_url, pending, allow_same_name)
            pending, taken = [], set()
        pending.append(ready)
        taken |= conflicts
    if pending:
        yield from _import_batch(database_url, pending, allow_same_name)


def _import_batch(database_url: str | None, rows: list[_Ready], allow_same_name: bool) -> list[Registered | Rejected]:
    results: dict[int, Registered | Rejected] = {}
    with session_scope(database_url) as session:
        found = _accounts_named(session, [ref for ready in rows for ref in ready.refs])
        owner_ids = sorted({row.candidate_id for row in found.values() if row.candidate_id is not None})
        owners: dict[int, str] = {}
        owners: dict[int, str] = dict(_rows_where_one_of(session, select(Candidate.id, Candidate.display_name),  # type: ignore[arg-type]
                                                         Candidate.id, owner_ids, Integer))
        namesakes: dict[str, list[Candidate]] = {}
        if not allow_same_name:
            unmerged = select(Candidate.id).where(Candidate.merged_into_id.is_(None))  # type: ignore[union-attr]
            same = sorted(row[0] for row in _rows_where_one_of(session, unmerged, Candidate.name_key,
                                                               sorted({ready.name_key for ready in rows})))
            for start in range(0, len(same), 900):
                for candidate in session.exec(select(Candidate).where(Candidate.id.in_(same[start:start + 900]))  # type: ignore[union-attr]
                                              .order_by(Candidate.id)).all():
                    namesakes.setdefault(candidate.name_key, []).append(candidate)
        accepted: list[tuple[_Ready, list[tuple[AccountRef, Any]]]] = []
        for ready in rows:
            matched = []
            problem = None
            for ref in ready.refs:
                existing = _match(found, ref)
                if existing is not None and existing.candidate_id is not None:
                    problem = duplicate_account_message(ref, existing.candidate_id, owners.get(existing.candidate_id))
                    break
                matched.append((ref, existing))
            if problem is None and not allow_same_name and ready.name_key in namesakes:
                problem = str(DuplicateName(ready.name, namesakes[ready.name_key]))
            if problem is not None:
                results[ready.entry.row] = Rejected(ready.entry.row, problem)
            else:
                accepted.append((ready, matched))
        if accepted:
            try:
                with session.begin_nested():
                    for (ready, _), candidate_id in zip(accepted, _insert_batch(session, accepted)):
                        results[ready.entry.row] = Registered(ready.entry.row, candidate_id, ready.name)
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    raise
                for ready, _ in accepted:
                    results[ready.entry.row] = _register_one(session, ready, allow_same_name)
    return [results[row] for row in sorted(results)]


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


class _AccountRow(NamedTuple):
    id: int
    candidate_id: int | None
    platform: str
    handle: str | None
    platform_user_id: str | None
    profile_url: str | None


def _accounts_named(session: Session, refs: list[AccountRef]) -> dict[tuple[str, str, str], _AccountRow]:
    """The stored accounts these refs name, by each of their keys (:func:`_account_keys`):
    per platform, one query for the ids and one for the lower-cased handles
    (:func:`_rows_where_one_of`), each an index seek per value."""
    by_platform: dict[str, tuple[set[str], set[str]]] = {}
    for ref in refs:
        ids, handles = by_platform.setdefault(ref.platform, (set(), set()))
        if ref.platform_user_id:
            ids.add(ref.platform_user_id)
        if ref.handle:
            handles.add(ref.handle.lower())
    found: dict[tuple[str, str, str], _AccountRow] = {}
    columns = (Account.id, Account.candidate_id, Account.platform, Account.handle, Account.platform_user_id, Account.profile_url)
    for platform, (ids, handles) in by_platform.items():
        # By id: the unique (platform, platform_user_id) index (no ORDER BY, which SQLite would
        # rather take from the platform's index in id order: a scan of the platform's accounts).
        # By handle: lower(handle)'s index, the platform checked below (find_account says why).
        queries = [(select(*columns).where(Account.platform == platform), Account.platform_user_id, sorted(ids)),
                   (select(*columns).order_by(Account.id), func.lower(Account.handle), sorted(handles))]
        for query, column, values in queries:
            for row in _rows_where_one_of(session, query, column, values):
                    account = _AccountRow(*row)
                    if account.platform != platform:
                        continue
                    for key in _account_keys(AccountRef(platform=account.platform, handle=account.handle,
                                                        platform_user_id=account.platform_user_id)):
                        found.setdefault(key, account)
    return found


def _rows_where_one_of(session: Session, query: Any, column: Any, values: list[Any], item_type: Any = String) -> list[Any]:
    """The rows of ``query`` whose ``column`` is one of ``values``, each value an index seek.

    On PostgreSQL the values are one array parameter, and each is looked up in a LATERAL
    subquery: ``FROM unnest(:values) JOIN LATERAL (query WHERE column = value OFFSET 0)``. A plain
    ``IN``/``= ANY`` list is planned from statistics that lag far behind a table an import is
    filling (thousands of rows analysed, hundreds of thousands there), so the server scanned
    the whole table for every batch; a lookup per value cannot be a scan. (And an IN list of
    thousands of placeholders is reparsed by psycopg on every call.) Elsewhere: IN lists of
    900 (SQLite's parameter limit is 999 in older builds), rows in ``query``'s order per list."""
    if not values:
        return []
    if session.get_bind().dialect.name == "postgresql":
        wanted = func.unnest(bindparam(None, list(values), type_=ARRAY(item_type))).table_valued("value").render_derived(name="wanted")
        # OFFSET 0 keeps the subquery a subquery: flattened, it is a join the planner hashes
        # over a scan of the table (what the statistics of a table being filled suggest).
        found = query.where(column == wanted.c.value).offset(literal_column("0")).lateral("found")
        return list(session.execute(select(*found.c).select_from(wanted).join(found, true())).all())
    rows: list[Any] = []
    for start in range(0, len(values), 900):
        rows.extend(session.execute(query.where(column.in_(values[start:start + 900]))).all())
    return rows


def _match(found: dict[tuple[str, str, str], _AccountRow], ref: AccountRef) -> _AccountRow | None:
    """The stored account a ref names: by id first, then by handle."""
    if ref.platform_user_id and (ref.platform, "id", ref.platform_user_id) in found:
        return found[(ref.platform, "id", ref.platform_user_id)]
    if ref.handle:
        return found.get((ref.platform, "handle", ref.handle.lower()))
    return None


def _insert_batch(session: Session, accepted: list[tuple[_Ready, list[tuple[AccountRef, Any]]]]) -> list[int]:
    """Insert the accepted rows' candidates (ids in row order), their new accounts, and adopt
    the unowned accounts they name."""
    now = utcnow()
    candidates = Candidate.__table__  # type: ignore[attr-defined]
    to_json = _json_text(session)
    # Each new id is matched to its row by the values stored, not by the order RETURNING gives
    # them (which neither database promises). Rows with equal values are equal candidates: they
    # take the ids in order.
    keys = [(ready.name, alias_search_keys(ready.aliases), ready.notes) for ready, _ in accepted]
    stored = [{"display_name": name, "aliases": to_json(ready.aliases), "notes": notes, "name_key": ready.name_key,
               "alias_keys": alias_keys} for (name, alias_keys, notes), (ready, _) in zip(keys, accepted)]
    returned: dict[tuple[str, str, str | None], list[int]] = {}
    for row_id, name, alias_keys, notes in _insert_rows(session, candidates, stored,
                                                        constants={"active": True, "created_at": now, "updated_at": now},
                                                        returning=("id", "display_name", "alias_keys", "notes")):
        returned.setdefault((name, alias_keys, notes), []).append(row_id)
    rows_of: dict[tuple[str, str, str | None], list[int]] = {}  # the rows (indexes in accepted) of each key
    for index, key in enumerate(keys):
        rows_of.setdefault(key, []).append(index)
    ordered = [0] * len(keys)
    for key, indexes in rows_of.items():
        found = sorted(returned[key])
        if len(indexes) > 1 and len({tuple(accepted[index][0].aliases) for index in indexes}) > 1:
            # Equal but for the case or form of an alias (only namesakes allowed in one batch): read them back.
            aliases = dict(session.execute(select(candidates.c.id, candidates.c.aliases).where(candidates.c.id.in_(found))).all())
            for index in indexes:
                match = next(i for i in found if list(aliases[i] or []) == accepted[index][0].aliases)
                found.remove(match)
                ordered[index] = match
        else:
            for index, candidate_id in zip(indexes, found):
                ordered[index] = candidate_id
    new_accounts, adopted = [], []
    for candidate_id, (_, matched) in zip(ordered, accepted):
        for ref, existing in matched:
            if existing is None:
                new_accounts.append({"candidate_id": candidate_id, "platform": ref.platform, "handle": ref.handle,
                                     "platform_user_id": ref.platform_user_id, "profile_url": profile_url(ref)})
            else:
                adopted.append({"account_id": existing.id, "owner": candidate_id,
                                "url": existing.profile_url or profile_url(ref)})
    if new_accounts:
        _insert_rows(session, Account.__table__, new_accounts, constants={"created_at": now})  # type: ignore[attr-defined]
    if adopted:
        accounts = Account.__table__  # type: ignore[attr-defined]
        session.execute(update(accounts).where(accounts.c.id == bindparam("account_id"))
                        .values(candidate_id=bindparam("owner"), profile_url=bindparam("url")), adopted)
    return ordered


def _json_text(session: Session) -> Callable[[Any], str]:
    """The JSON text SQLAlchemy would store for a JSON column on this session's database (the
    engine's serializer, else json.dumps)."""
    dialect = session.get_bind().dialect
    return getattr(dialect, "_json_serializer", None) or json.dumps


def _insert_rows(session: Session, table: Any, rows: list[dict[str, Any]], constants: dict[str, Any],
                 returning: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    """INSERT many rows whose values need no conversion (texts, integers, NULLs; JSON as its
    text) plus ``constants`` (the same in every row, converted once by the column's type), and
    the ``returning`` columns of the rows stored (in no promised order). SQLAlchemy's per-row,
    per-column bind processing is most of the cost of inserting 400,000 accounts, so the
    statement goes straight to the driver, and is one per batch rather than one per row:

    - PostgreSQL: ``INSERT ... SELECT FROM json_to_recordset(%s)``, the rows as one JSON
      parameter (psycopg's executemany sends a statement per row; a multi-row VALUES of
      thousands of placeholders is reparsed by psycopg every time; arrays, one per column, are
      dumped element by element in Python, json.dumps is C);
    - SQLite: multi-row ``VALUES`` with RETURNING, 999 parameters a statement (the limit of
      older builds), or the driver's executemany when nothing is returned."""
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    columns, fixed_names = list(rows[0]), list(constants)
    fixed = []
    for name, value in constants.items():
        processor = table.c[name].type._cached_bind_processor(dialect)
        fixed.append(processor(value) if processor and dialect.name != "postgresql" else value)
    names = ", ".join(quote(name) for name in [*columns, *fixed_names])
    back = f" RETURNING {', '.join(quote(name) for name in returning)}" if returning else ""
    target = dialect.identifier_preparer.format_table(table)
    connection = session.connection()
    if dialect.name == "postgresql":
        def sql_type(name: str) -> str:  # without a length: the INSERT, not a cast, refuses a value too long
            return re.sub(r"\(.*?\)", "", table.c[name].type.compile(dialect=dialect))
        # JSON columns arrive as their text (a text field of the record, cast back to JSON).
        fields = ", ".join(f"{quote(name)} {'TEXT' if sql_type(name) == 'JSON' else sql_type(name)}" for name in columns)
        chosen = ", ".join(f"r.{quote(name)}" + ("::JSON" if sql_type(name) == "JSON" else "") for name in columns)
        scalars = "".join(f", %s::{sql_type(name)}" for name in fixed_names)
        statement = f"INSERT INTO {target} ({names}) SELECT {chosen}{scalars} FROM json_to_recordset(%s::JSON) AS r({fields}){back}"
        result = connection.exec_driver_sql(statement, (*fixed, json.dumps(rows, ensure_ascii=False)))
        return list(result.all()) if returning else []
    width = len(columns) + len(fixed_names)
    group = "(" + ", ".join("?" * width) + ")"
    values_of = itemgetter(*columns)
    constant = tuple(fixed)
    tuples = [values_of(row) + constant for row in rows] if len(columns) > 1 else [(values_of(row), *constant) for row in rows]
    if not returning:
        connection.exec_driver_sql(f"INSERT INTO {target} ({names}) VALUES {group}", tuples)
        return []
    found: list[tuple[Any, ...]] = []
    per_statement = max(1, 999 // width)
    for start in range(0, len(tuples), per_statement):
        chunk = tuples[start:start + per_statement]
        statement = f"INSERT INTO {target} ({names}) VALUES {', '.join([group] * len(chunk))}{back}"
        found.extend(connection.exec_driver_sql(statement, tuple(value for row in chunk for value in row)).all())
    return found
