"""Candidates and their accounts: registering, finding and listing them.

A candidate is a person; an account is one of their platform accounts. An account first
seen in an ad-hoc crawl is stored unowned and adopted when someone registers it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from records import AccountRef, profile_url
from storage.db import session_scope
from storage.models import Account, Candidate, ProfileSnapshot
from storage.names import clean_aliases, clean_name, clean_notes, clean_search, search_key


#: Largest id every database holds: the tables' ids are INTEGER, 32-bit signed on PostgreSQL
#: (64-bit on SQLite). A larger number is no id, whatever it is asked for - and is never sent
#: to a database that would refuse it (PostgreSQL: "integer out of range", a 500 before).
MAX_ID = 2**31 - 1


class DuplicateAccount(ValueError):
    """The account is already registered (to this or another candidate)."""


class CandidateRefused(RuntimeError):
    """The database refused to store a candidate (the message says what it said)."""


def find_candidate(session: Session, text: str) -> Candidate | None:
    """A candidate by id, display name or alias (exact but blind to case and Unicode form:
    one search key, storage.names.search_key, on every database; a display name before
    another candidate's alias, the oldest first). Raises
    :class:`storage.names.InvalidName` for text with control or invisible characters."""
    text = clean_search(text)
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        found = session.get(Candidate, int(text))
        if found:
            return found
    key = search_key(text)
    if not key:
        return None
    by_name = session.exec(select(Candidate).where(Candidate.name_key == key).order_by(Candidate.id)).first()
    if by_name:
        return by_name
    return session.exec(
        select(Candidate).where(Candidate.alias_keys.contains(f"\n{key}\n", autoescape=True)).order_by(Candidate.id)  # type: ignore[attr-defined]
    ).first()


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
    conditions = []
    if ref.platform_user_id:
        conditions.append(Account.platform_user_id == ref.platform_user_id)
    if ref.handle:
        conditions.append(func.lower(Account.handle) == ref.handle.lower())
    if not conditions:
        return None
    return session.exec(select(Account).where(Account.platform == ref.platform, or_(*conditions))).first()


def add_candidate(
    session: Session,
    display_name: str,
    *,
    aliases: Iterable[str] = (),
    notes: str | None = None,
    accounts: Iterable[AccountRef] = (),
) -> Candidate:
    """Register a person and their accounts. Raises :class:`storage.names.InvalidName` for a
    name, alias or notes that cannot be stored (see storage/names.py) and
    :class:`DuplicateAccount` if one of the accounts already belongs to someone, in both cases
    before writing anything."""
    name, kept_aliases, kept_notes = clean_name(display_name), clean_aliases(list(aliases)), clean_notes(notes)
    refs = list(accounts)
    for ref in refs:
        existing = find_account(session, ref)
        if existing is not None and existing.candidate_id is not None:
            owner = session.get(Candidate, existing.candidate_id)
            raise DuplicateAccount(
                f"{ref.platform} account {ref.handle or ref.platform_user_id} already belongs to "
                f"candidate {existing.candidate_id} ({owner.display_name if owner else '?'})"
            )
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
) -> Candidate:
    """:func:`add_candidate` in a transaction of its own (``candidates add``, each row of
    ``candidates import``): what the database refuses about this candidate - a value it cannot
    store, a constraint, a trigger - is :class:`CandidateRefused` with the database's own
    words, and nothing of the candidate is kept. A lost connection is raised as it is."""
    try:
        with session_scope(database_url) as session:
            return add_candidate(session, display_name, aliases=aliases, notes=notes, accounts=accounts)
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise
        said = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        raise CandidateRefused(f"the database refused it: {said}") from None


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
    """The newest snapshot (the last stored) of every account (of the given candidates).

    For given candidates, 900 at a time, each account's newest found through the
    ``(account_id, captured_at)`` index (a subquery correlated to the account), so the cost
    follows the candidates asked for, not the whole snapshot table (which the grouped
    ``max(id)`` over every snapshot read once per call)."""
    ids = list(candidate_ids or [])
    if not ids:
        newest = (
            select(ProfileSnapshot.account_id, func.max(ProfileSnapshot.id).label("id"))
            .group_by(ProfileSnapshot.account_id)
            .subquery()
        )
        statement = select(Account, ProfileSnapshot).join(ProfileSnapshot, ProfileSnapshot.account_id == Account.id).join(
            newest, newest.c.id == ProfileSnapshot.id
        )
        return list(session.exec(statement).all())
    older = aliased(ProfileSnapshot)
    newest_id = select(func.max(older.id)).where(older.account_id == Account.id).scalar_subquery()
    found: list[tuple[Account, ProfileSnapshot]] = []
    for start in range(0, len(ids), 900):
        statement = (select(Account, ProfileSnapshot).join(ProfileSnapshot, ProfileSnapshot.id == newest_id)
                     .where(Account.candidate_id.in_(ids[start:start + 900])))  # type: ignore[union-attr]
        found.extend(session.exec(statement).all())
    return found


def active_candidate_ids(session: Session) -> list[int]:
    """The active candidates (the cohort the indices rank), by id."""
    return list(session.exec(select(Candidate.id).where(Candidate.active == True).order_by(Candidate.id)).all())  # noqa: E712
