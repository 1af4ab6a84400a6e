"""A person's changes to candidates: edit a name, aliases and notes; add or remove an account;
deactivate and reactivate; delete; merge two candidates into one and undo the merge.

**What follows a candidate.** :data:`FOLLOWING` lists every table whose rows belong to a
candidate (by a column holding its id): their accounts - and through them every snapshot,
post, link and failure of those accounts -, press mentions, press feed failures, marketplace
outcomes, lookup jobs, the press refresh lease, the discovery leads promoted to it. A merge moves them from the source to the
target, except a row the target already has an equal of by the table's unique key (the same
article, the same outcome period, the same shortlist), which stays with the source. A table
added later whose rows belong to a candidate gets a line in :data:`FOLLOWING` and follows from
then on (tests/test_curation.py fails for a table with a candidate column that has none).

**Merges are recorded and reversible.** A ``candidatemerge`` row names every row that moved,
by table and id, and the aliases the target gained (the source's name and aliases); the
source becomes inactive and ``merged_into_id`` points at the target, so no name finds it and
its id leads to the target. :func:`undo_merge` moves exactly those rows back (a row a person
has moved on since - an account removed from the target - is left where it is, and listed),
takes the added aliases off the target and restores the source's active flag. Nothing is
deleted either way. Feature rows stay with the candidate they were computed for; both
candidates' newest feature rows forget what they saw, so the next ``enrich`` recomputes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session, SQLModel

from records import AccountRef
from storage.candidates import (
    DuplicateAccount,
    DuplicateName,
    attach_account,
    candidate_accounts,
    duplicate_account_message,
    find_account,
    get_candidate,
    same_name_candidates,
)
from storage.features import forget_watermarks
from storage.models import (
    Account,
    Candidate,
    CandidateMerge,
    FeatureSnapshot,
    FetchFailure,
    Lease,
    Lead,
    LookupJob,
    Outcome,
    PressMention,
    ShortlistEvent,
    ShortlistMember,
    utcnow,
)
from storage.names import clean_aliases, clean_name, clean_notes, search_key


class CurationRefused(ValueError):
    """A change to candidates that cannot be made as asked (the message says why and what to do)."""


class NotFound(LookupError):
    """No candidate, account or merge with that id (the message names it)."""


# --------------------------------------------------------------------------- what follows a candidate


@dataclass(frozen=True)
class CandidateRows:
    """A table whose rows belong to a candidate: by ``column`` (the candidate's id), among the
    rows ``only`` selects (all when None). ``unique_with``: the other columns of a unique key
    with ``column`` - a source row whose key the target already has stays with the source.
    ``on_delete``: what deleting the candidate does with its rows - ``detach`` (the column set
    NULL, the row kept), ``delete``, or ``refuse`` (the candidate cannot be deleted while it has
    such rows: deactivate it instead)."""

    model: type[SQLModel]
    column: str = "candidate_id"
    unique_with: tuple[str, ...] = ()
    only: Callable[[], Any] | None = None
    on_delete: str = "refuse"

    @property
    def name(self) -> str:
        return str(self.model.__tablename__)  # type: ignore[attr-defined]

    def owner(self) -> Any:
        return getattr(self.model, self.column)

    def of(self, candidate_id: int) -> list[Any]:
        conditions = [self.owner() == candidate_id]
        if self.only is not None:
            conditions.append(self.only())
        return conditions


#: Every table whose rows belong to a candidate, in the order a merge moves them.
FOLLOWING: list[CandidateRows] = [
    CandidateRows(Account, on_delete="detach"),  # snapshots, posts, links and failures follow the account
    CandidateRows(PressMention, unique_with=("canonical_url",), on_delete="delete"),
    CandidateRows(FetchFailure, on_delete="detach"),  # press feed failures (a platform failure names its account)
    CandidateRows(Outcome, unique_with=("period",), on_delete="refuse"),
    CandidateRows(LookupJob, on_delete="detach"),
    CandidateRows(Lease, column="subject_id", unique_with=("platform",), only=lambda: Lease.platform == "press",
                  on_delete="delete"),
    # The review desk's shortlists: a candidate's current state on a list (the target's stands
    # where both are on it) and every change, the history of the person.
    CandidateRows(ShortlistMember, unique_with=("shortlist_id",), on_delete="refuse"),
    CandidateRows(ShortlistEvent, on_delete="refuse"),
    # A discovery lead promoted to the candidate (storage/leads.py): it names the person the lead
    # became, so it follows a merge; deleting the person leaves the lead, promoted, naming no one.
    CandidateRows(Lead, on_delete="detach"),
]


def _ids(session: Session, rows: CandidateRows, candidate_id: int) -> list[Any]:
    return list(session.execute(select(rows.model.id).where(*rows.of(candidate_id)).order_by(rows.model.id)).scalars())  # type: ignore[attr-defined]


def _keys(session: Session, rows: CandidateRows, candidate_id: int) -> dict[Any, tuple[Any, ...]]:
    """Row id -> the row's unique key (without the candidate)."""
    columns = [getattr(rows.model, name) for name in rows.unique_with]
    return {row[0]: tuple(row[1:]) for row in session.execute(
        select(rows.model.id, *columns).where(*rows.of(candidate_id))).all()}  # type: ignore[attr-defined]


def _set_owner(session: Session, rows: CandidateRows, ids: Sequence[Any], candidate_id: int | None) -> None:
    for start in range(0, len(ids), 900):
        session.execute(update(rows.model).where(rows.model.id.in_(ids[start:start + 900]))  # type: ignore[attr-defined]
                        .values({rows.column: candidate_id}).execution_options(synchronize_session=False))


def _movable(session: Session, rows: CandidateRows, source_id: int, target_id: int) -> list[Any]:
    """The source's rows that can move to the target: all, except those whose unique key the
    target already has."""
    if not rows.unique_with:
        return _ids(session, rows, source_id)
    taken = set(_keys(session, rows, target_id).values())
    return sorted(row_id for row_id, key in _keys(session, rows, source_id).items() if key not in taken)


# --------------------------------------------------------------------------- edits


def require_candidate(session: Session, candidate_id: int) -> Candidate:
    candidate = get_candidate(session, candidate_id)
    if candidate is None:
        raise NotFound(f"no candidate {candidate_id}")
    return candidate


def _unmerged(candidate: Candidate, doing: str) -> None:
    if candidate.merged_into_id is not None:
        raise CurationRefused(f"candidate {candidate.id} ({candidate.display_name}) is merged into candidate "
                              f"{candidate.merged_into_id}: {doing} that one, or undo the merge first")


def edit_candidate(
    session: Session,
    candidate_id: int,
    *,
    display_name: str | None = None,
    aliases: Iterable[str] | None = None,
    add_aliases: Iterable[str] = (),
    remove_aliases: Iterable[str] = (),
    notes: str | None = None,
    clear_notes: bool = False,
    allow_same_name: bool = False,
) -> Candidate:
    """Change a candidate's display name, aliases (all of them with ``aliases``; or some added
    and removed - found blind to case and Unicode form) and notes, each checked as when it was
    registered (storage/names.py). A new display name another candidate has is
    :class:`DuplicateName` unless ``allow_same_name``. Snapshots, mentions and every other row
    stay where they are: they hang on the id, not the name."""
    candidate = require_candidate(session, candidate_id)
    _unmerged(candidate, "edit")
    if display_name is not None:
        name = clean_name(display_name)
        if search_key(name) != candidate.name_key and not allow_same_name:
            namesakes = [c for c in same_name_candidates(session, name) if c.id != candidate.id]
            if namesakes:
                raise DuplicateName(name, namesakes)
        candidate.display_name = name
    kept = clean_aliases(list(aliases)) if aliases is not None else list(candidate.aliases or [])
    removing = {search_key(text) for text in remove_aliases}
    missing = [text for text in remove_aliases if search_key(text) not in {search_key(a) for a in kept}]
    if missing:
        raise CurationRefused(f"candidate {candidate.id} has no alias {missing[0]!r}; its aliases: "
                              + (", ".join(kept) or "none"))
    kept = [alias for alias in kept if search_key(alias) not in removing]
    for alias in clean_aliases(list(add_aliases)):
        if search_key(alias) not in {search_key(a) for a in kept}:
            kept.append(alias)
    candidate.aliases = kept
    if clear_notes:
        candidate.notes = None
    elif notes is not None:
        candidate.notes = clean_notes(notes)
    candidate.updated_at = utcnow()
    session.add(candidate)
    session.flush()
    return candidate


def set_active(session: Session, candidate_id: int, active: bool) -> Candidate:
    """Deactivate (crawls, ``--due`` schedules and the ranking leave the candidate out; every
    row is kept) or reactivate a candidate."""
    candidate = require_candidate(session, candidate_id)
    _unmerged(candidate, "deactivate or reactivate")
    candidate.active = active
    candidate.updated_at = utcnow()
    session.add(candidate)
    session.flush()
    return candidate


def add_account(session: Session, candidate_id: int, ref: AccountRef) -> tuple[Account, bool]:
    """Give an existing candidate an account (an unowned one seen in an ad-hoc crawl is
    adopted with its snapshots). Returns (the account, whether it was added: False when the
    candidate had it already); :class:`DuplicateAccount` when another candidate has it."""
    candidate = require_candidate(session, candidate_id)
    _unmerged(candidate, "add accounts to")
    existing = find_account(session, ref)
    if existing is not None and existing.candidate_id is not None:
        if existing.candidate_id == candidate.id:
            return existing, False
        owner = session.get(Candidate, existing.candidate_id)
        raise DuplicateAccount(duplicate_account_message(ref, existing.candidate_id, owner.display_name if owner else None))
    account = attach_account(session, candidate, ref)
    candidate.updated_at = utcnow()
    session.add(candidate)
    return account, True


def remove_account(session: Session, candidate_id: int, ref: AccountRef) -> Account:
    """Take an account from a candidate. The account and everything read from it stay, unowned
    (as an ad-hoc crawl's): adding it back, to this candidate or another, brings them along."""
    candidate = require_candidate(session, candidate_id)
    _unmerged(candidate, "remove accounts from")
    account = find_account(session, ref)
    if account is None or account.candidate_id != candidate.id:
        accounts = candidate_accounts(session, [candidate.id]).get(candidate.id, [])  # type: ignore[list-item, arg-type]
        owned = ", ".join(f"{a.platform}:{a.handle or a.platform_user_id}" for a in accounts) or "none"
        raise CurationRefused(f"candidate {candidate.id} ({candidate.display_name}) has no {ref.platform} account "
                              f"{ref.handle or ref.platform_user_id}; its accounts: {owned}")
    account.candidate_id = None
    session.add(account)
    candidate.updated_at = utcnow()
    session.add(candidate)
    session.flush()
    return account


def delete_candidate(session: Session, candidate_id: int) -> dict[str, int]:
    """Forget a person: their accounts become unowned (with every snapshot, post and failure
    read from them, adoptable again), their press feed failures and lookup jobs name no
    candidate, and their press mentions, feature rows and press lease are deleted. Refused
    (:class:`CurationRefused`) while the candidate is part of a merge, or has rows that are a
    record of people's work or of business - outcomes, shortlists: deactivate it instead.
    Returns what happened to how many rows, by table."""
    candidate = require_candidate(session, candidate_id)
    merges = session.execute(select(CandidateMerge.id).where(
        (CandidateMerge.source_id == candidate_id) | (CandidateMerge.target_id == candidate_id))).scalars().all()
    if merges:
        raise CurationRefused(f"candidate {candidate_id} ({candidate.display_name}) is part of merge(s) "
                              f"{', '.join(map(str, merges))}, which must stay undoable: deactivate it instead")
    for rows in FOLLOWING:
        if rows.on_delete == "refuse" and _ids(session, rows, candidate_id):
            raise CurationRefused(f"candidate {candidate_id} ({candidate.display_name}) has {rows.name} rows, a "
                                  "record that deleting would lose: deactivate it instead")
    done: dict[str, int] = {}
    for rows in FOLLOWING:
        ids = _ids(session, rows, candidate_id)
        if not ids:
            continue
        if rows.on_delete == "detach":
            _set_owner(session, rows, ids, None)
        else:
            for start in range(0, len(ids), 900):
                session.execute(delete(rows.model).where(rows.model.id.in_(ids[start:start + 900]))  # type: ignore[attr-defined]
                                .execution_options(synchronize_session=False))
        done[rows.name] = len(ids)
    features = session.execute(delete(FeatureSnapshot).where(FeatureSnapshot.candidate_id == candidate_id)
                               .execution_options(synchronize_session=False)).rowcount
    if features:
        done["featuresnapshot"] = features
    session.expunge_all()  # the rows above changed under the session: nothing cached may be written back
    session.execute(delete(Candidate).where(Candidate.id == candidate_id))
    return done


# --------------------------------------------------------------------------- merges


def merge_candidates(session: Session, source_id: int, target_id: int, *, by: str | None = None,
                     note: str | None = None) -> CandidateMerge:
    """Merge candidate ``source_id`` into ``target_id`` (one person registered twice): every
    row of :data:`FOLLOWING` moves to the target (but a row whose unique key the target has),
    the target gains the source's name and aliases as aliases, the source becomes inactive
    and merged. Recorded in ``candidatemerge`` (returned), for :func:`undo_merge`."""
    if source_id == target_id:
        raise CurationRefused(f"candidate {source_id} cannot be merged into itself")
    source, target = require_candidate(session, source_id), require_candidate(session, target_id)
    _unmerged(source, "merge")
    _unmerged(target, "merge into")
    moved: dict[str, list[Any]] = {}
    for rows in FOLLOWING:
        ids = _movable(session, rows, source_id, target_id)
        if ids:
            _set_owner(session, rows, ids, target_id)
            moved[rows.name] = ids
    known = {target.name_key, *(search_key(a) for a in target.aliases or [])}
    added = []
    for alias in [source.display_name, *(source.aliases or [])]:
        if search_key(alias) not in known:
            known.add(search_key(alias))
            added.append(alias)
    session.expire_all()  # the accounts moved by an UPDATE: re-read what the session holds
    source, target = require_candidate(session, source_id), require_candidate(session, target_id)
    target.aliases = [*(target.aliases or []), *added]
    target.updated_at = source.updated_at = utcnow()
    merge = CandidateMerge(source_id=source_id, target_id=target_id, merged_by=clean_notes(by), note=clean_notes(note),
                           moved=moved, added_aliases=added, source_was_active=source.active)
    source.active = False
    source.merged_into_id = target_id
    session.add_all([source, target, merge])
    forget_watermarks(session, [source_id, target_id])
    session.flush()
    return merge


def undo_merge(session: Session, merge_id: int, *, by: str | None = None) -> CandidateMerge:
    """Undo a merge: the rows it moved go back to the source - those still with the target;
    one a person has moved on since stays where it is and is listed in ``left`` -, the aliases
    it added leave the target, the source is unmerged and active again if it was. Refused while
    the target is itself merged into another candidate (undo that merge first)."""
    merge = session.get(CandidateMerge, merge_id)
    if merge is None:
        raise NotFound(f"no merge {merge_id}")
    if merge.undone_at is not None:
        raise CurationRefused(f"merge {merge_id} was undone at {merge.undone_at.isoformat(timespec='seconds')}")
    source, target = require_candidate(session, merge.source_id), require_candidate(session, merge.target_id)
    if target.merged_into_id is not None:
        later = open_merge_of(session, target.id)  # type: ignore[arg-type]
        raise CurationRefused(f"candidate {target.id} ({target.display_name}) was merged into candidate "
                              f"{target.merged_into_id} since (merge {later.id if later else '?'}): undo that merge first")
    left: dict[str, list[Any]] = {}
    by_name = {rows.name: rows for rows in FOLLOWING}
    for table, ids in (merge.moved or {}).items():
        rows = by_name.get(table)
        if rows is None:  # a table no longer listed: nothing to move back
            left[table] = list(ids)
            continue
        still = set(_ids(session, rows, target.id))  # type: ignore[arg-type]
        back = [row_id for row_id in ids if row_id in still]
        if rows.unique_with and back:
            taken = set(_keys(session, rows, source.id).values())  # type: ignore[arg-type]
            keys = _keys(session, rows, target.id)  # type: ignore[arg-type]
            back = [row_id for row_id in back if keys.get(row_id) not in taken]
        if back:
            _set_owner(session, rows, back, source.id)
        stayed = [row_id for row_id in ids if row_id not in set(back)]
        if stayed:
            left[table] = stayed
    session.expire_all()
    merge = session.get(CandidateMerge, merge_id)  # type: ignore[assignment]
    source, target = require_candidate(session, merge.source_id), require_candidate(session, merge.target_id)  # type: ignore[union-attr]
    added = set(merge.added_aliases or [])  # type: ignore[union-attr]
    target.aliases = [alias for alias in target.aliases or [] if alias not in added]
    source.merged_into_id = None
    source.active = merge.source_was_active  # type: ignore[union-attr]
    target.updated_at = source.updated_at = utcnow()
    merge.undone_at = utcnow()  # type: ignore[union-attr]
    merge.undone_by = clean_notes(by)  # type: ignore[union-attr]
    merge.left = left  # type: ignore[union-attr]
    session.add_all([source, target, merge])
    forget_watermarks(session, [source.id, target.id])  # type: ignore[list-item]
    session.flush()
    return merge  # type: ignore[return-value]


def open_merge_of(session: Session, source_id: int) -> CandidateMerge | None:
    """The merge (not undone) that merged this candidate into another, if any."""
    return session.execute(select(CandidateMerge).where(CandidateMerge.source_id == source_id,
                                                        CandidateMerge.undone_at.is_(None))  # type: ignore[union-attr]
                           .order_by(CandidateMerge.id.desc())).scalars().first()  # type: ignore[union-attr]


def get_merge(session: Session, merge_id: int) -> CandidateMerge | None:
    return session.get(CandidateMerge, merge_id) if 0 < merge_id <= 2**31 - 1 else None


def list_merges(session: Session, candidate_id: int | None = None, *, limit: int = 100, offset: int = 0) -> list[CandidateMerge]:
    """Merges, newest first: every one, or those a candidate was part of (either side)."""
    query = select(CandidateMerge)
    if candidate_id is not None:
        query = query.where((CandidateMerge.source_id == candidate_id) | (CandidateMerge.target_id == candidate_id))
    return list(session.execute(query.order_by(CandidateMerge.id.desc()).offset(offset).limit(limit)).scalars())  # type: ignore[union-attr]


def account_ref(account: Account) -> AccountRef:
    """An account as a reference (for messages and the API)."""
    return AccountRef(platform=account.platform, handle=account.handle, platform_user_id=account.platform_user_id,
                      account_id=account.id)

