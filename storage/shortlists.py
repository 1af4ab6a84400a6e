"""Shortlists: named lists of candidates, each candidate's status on them and the history.

Every change is a new ``shortlistevent`` row (never updated, never deleted): who set which
status, with which note, when. ``shortlistmember`` holds the current state per list and
candidate and is written in the same transaction as the event that set it, so reading a
list, or filtering the cohort by status, is one join and never a scan of the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import SHORTLIST_STATUSES, Candidate, Shortlist, ShortlistEvent, ShortlistMember, utcnow
from storage.names import clean_name, clean_notes, refuse_characters

#: Longest note, in characters.
MAX_NOTE = 10_000
#: Longest actor name (who made a change), in characters.
MAX_ACTOR = 200


class ShortlistRefused(ValueError):
    """A shortlist change that cannot be stored (the message says what is wrong)."""


class ShortlistSummary(NamedTuple):
    id: int
    name: str
    description: str | None
    created_by: str
    created_at: datetime
    members: int
    by_status: dict[str, int]


class MemberRow(NamedTuple):
    """A candidate's current state on a list, with the candidate's name."""

    candidate_id: int
    display_name: str
    status: str
    note: str | None
    changed_by: str
    changed_at: datetime


class EventRow(NamedTuple):
    id: int
    shortlist_id: int
    shortlist_name: str
    candidate_id: int
    status: str
    note: str | None
    actor: str
    at: datetime


def clean_actor(text: str | None) -> str:
    """Who made a change, as stored: a name (no control or invisible characters), at most
    :data:`MAX_ACTOR` characters; ``ShortlistRefused`` otherwise."""
    text = (text or "").strip()
    if not text:
        raise ShortlistRefused("say who makes the change (a name)")
    try:
        refuse_characters(text, "actor")
    except ValueError as exc:
        raise ShortlistRefused(str(exc)) from None
    if len(text) > MAX_ACTOR:
        raise ShortlistRefused(f"actor is {len(text)} characters long; at most {MAX_ACTOR} are allowed")
    return text


def create_shortlist(session: Session, name: str, actor: str, description: str | None = None) -> Shortlist:
    """A new list; ``ShortlistRefused`` for a name that is invalid or taken."""
    try:
        name = clean_name(name, "shortlist name")
        description = clean_notes(description)
    except ValueError as exc:
        raise ShortlistRefused(str(exc)) from None
    if session.execute(select(Shortlist.id).where(Shortlist.name == name)).first() is not None:
        raise ShortlistRefused(f"a shortlist named {name!r} exists already")
    shortlist = Shortlist(name=name, description=description, created_by=clean_actor(actor))
    session.add(shortlist)
    session.flush()
    return shortlist


def get_shortlist(session: Session, shortlist_id: int) -> Shortlist | None:
    if not 0 < shortlist_id <= 2**31 - 1:
        return None
    return session.get(Shortlist, shortlist_id)


def list_shortlists(session: Session) -> list[ShortlistSummary]:
    """Every list, by name, with how many candidates it holds per status."""
    counts: dict[int, dict[str, int]] = {}
    for shortlist_id, status, count in session.execute(
        select(ShortlistMember.shortlist_id, ShortlistMember.status, func.count())
        .group_by(ShortlistMember.shortlist_id, ShortlistMember.status)
    ).all():
        counts.setdefault(shortlist_id, {})[status] = count
    rows = session.execute(select(Shortlist).order_by(Shortlist.name)).scalars().all()
    return [ShortlistSummary(s.id, s.name, s.description, s.created_by, s.created_at,  # type: ignore[arg-type]
                             sum(counts.get(s.id, {}).values()), counts.get(s.id, {}))  # type: ignore[arg-type]
            for s in rows]


def set_status(session: Session, shortlist_id: int, candidate_id: int, status: str, actor: str,
               note: str | None = None) -> ShortlistEvent:
    """Record a change: the candidate's ``status`` on the list (one of ``SHORTLIST_STATUSES``)
    and an optional note, by ``actor``, now. Appends an event and moves the current state;
    ``ShortlistRefused`` for an unknown list, candidate or status, or a note that cannot be
    stored."""
    if status not in SHORTLIST_STATUSES:
        raise ShortlistRefused(f"status {status!r} is not one of {', '.join(SHORTLIST_STATUSES)}")
    if get_shortlist(session, shortlist_id) is None:
        raise ShortlistRefused(f"no shortlist {shortlist_id}")
    if not 0 < candidate_id <= 2**31 - 1 or session.get(Candidate, candidate_id) is None:
        raise ShortlistRefused(f"no candidate {candidate_id}")
    try:
        note = clean_notes(note)
    except ValueError as exc:
        raise ShortlistRefused(str(exc)) from None
    if note is not None and len(note) > MAX_NOTE:
        raise ShortlistRefused(f"note is {len(note)} characters long; at most {MAX_NOTE} are allowed")
    actor = clean_actor(actor)
    now = utcnow()
    event = ShortlistEvent(shortlist_id=shortlist_id, candidate_id=candidate_id, status=status, note=note,
                           actor=actor, at=now)
    session.add(event)
    session.flush()
    member = session.execute(select(ShortlistMember).where(
        ShortlistMember.shortlist_id == shortlist_id, ShortlistMember.candidate_id == candidate_id)).scalars().first()
    if member is None:
        member = ShortlistMember(shortlist_id=shortlist_id, candidate_id=candidate_id, status=status, note=note,
                                 changed_by=actor, changed_at=now, event_id=event.id)
    else:
        member.status, member.changed_by, member.changed_at, member.event_id = status, actor, now, event.id
        if note is not None:
            member.note = note
    session.add(member)
    session.flush()
    return event


def add_members(session: Session, shortlist_id: int, candidate_ids: Iterable[int], actor: str) -> int:
    """Put candidates on a list as ``new`` (those already on it keep their status); returns
    how many were added."""
    present = set(session.execute(select(ShortlistMember.candidate_id)
                                  .where(ShortlistMember.shortlist_id == shortlist_id)).scalars().all())
    added = 0
    for candidate_id in dict.fromkeys(candidate_ids):
        if candidate_id not in present:
            set_status(session, shortlist_id, candidate_id, "new", actor)
            added += 1
    return added


def shortlist_members(session: Session, shortlist_id: int, statuses: Sequence[str] = ()) -> list[MemberRow]:
    """The candidates on a list (only those with one of ``statuses`` when given), by status in
    review order, then name."""
    query = (select(ShortlistMember.candidate_id, Candidate.display_name, ShortlistMember.status, ShortlistMember.note,
                    ShortlistMember.changed_by, ShortlistMember.changed_at)
             .join(Candidate, Candidate.id == ShortlistMember.candidate_id)
             .where(ShortlistMember.shortlist_id == shortlist_id))
    if statuses:
        query = query.where(ShortlistMember.status.in_(list(statuses)))  # type: ignore[attr-defined]
    rows = [MemberRow(*row) for row in session.execute(query).all()]
    order = {status: i for i, status in enumerate(SHORTLIST_STATUSES)}
    return sorted(rows, key=lambda r: (order.get(r.status, 99), r.display_name, r.candidate_id))


def candidate_memberships(session: Session, candidate_id: int) -> list[tuple[int, str, MemberRow]]:
    """The lists a candidate is on: (list id, list name, current state), by list name."""
    rows = session.execute(
        select(Shortlist.id, Shortlist.name, ShortlistMember.candidate_id, Candidate.display_name, ShortlistMember.status,
               ShortlistMember.note, ShortlistMember.changed_by, ShortlistMember.changed_at)
        .join(ShortlistMember, ShortlistMember.shortlist_id == Shortlist.id)
        .join(Candidate, Candidate.id == ShortlistMember.candidate_id)
        .where(ShortlistMember.candidate_id == candidate_id).order_by(Shortlist.name)
    ).all()
    return [(row[0], row[1], MemberRow(*row[2:])) for row in rows]


def statuses_on(session: Session, shortlist_id: int, candidate_ids: Sequence[int]) -> dict[int, str]:
    """The status of each of these candidates on a list (those on it)."""
    out: dict[int, str] = {}
    ids = list(candidate_ids)
    for start in range(0, len(ids), 900):
        out.update(session.execute(select(ShortlistMember.candidate_id, ShortlistMember.status).where(
            ShortlistMember.shortlist_id == shortlist_id,
            ShortlistMember.candidate_id.in_(ids[start:start + 900]))).all())  # type: ignore[attr-defined]
    return out


def shortlist_history(session: Session, *, shortlist_id: int | None = None, candidate_id: int | None = None,
                      limit: int = 200) -> list[EventRow]:
    """Changes, newest first: of one list, of one candidate (on every list), or both."""
    query = (select(ShortlistEvent.id, ShortlistEvent.shortlist_id, Shortlist.name, ShortlistEvent.candidate_id,
                    ShortlistEvent.status, ShortlistEvent.note, ShortlistEvent.actor, ShortlistEvent.at)
             .join(Shortlist, Shortlist.id == ShortlistEvent.shortlist_id))
    if shortlist_id is not None:
        query = query.where(ShortlistEvent.shortlist_id == shortlist_id)
    if candidate_id is not None:
        query = query.where(ShortlistEvent.candidate_id == candidate_id)
    return [EventRow(*row) for row in session.execute(query.order_by(ShortlistEvent.id.desc()).limit(limit)).all()]
