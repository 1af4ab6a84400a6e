"""Leads: accounts discovery found and nobody registered yet (``lead``, ``leadsighting``).

One lead per platform account, found by its platform id or its handle (any case). A sighting
of an account that a candidate already owns is not stored (it is no lead); a sighting of a
rejected lead updates when it was last seen and nothing else, so it is never proposed again.
Every way a lead was seen (source, seed, query, post, hop) is a ``leadsighting`` row.

The pre-score, brands and languages are computed above this layer (``enrichment.leads``) and
passed in: storage only keeps them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from records import AccountRef
from records.leads import LeadItem
from storage.candidates import find_account
from storage.db import insert_ignore
from storage.models import LEAD_NEW, LEAD_PROMOTED, LEAD_REJECTED, Lead, LeadSighting, utcnow

#: Characters of post text kept per lead (newest first).
MAX_TEXT = 4000

#: What :func:`record_lead` did with a sighting.
NEW, SEEN, REGISTERED, REJECTED, PROMOTED = "new", "seen", "registered", "rejected", "promoted"


def find_lead(session: Session, platform: str, platform_user_id: str | None, handle: str | None) -> Lead | None:
    """The lead for this account: by platform id, else by handle (any case)."""
    conditions = []
    if platform_user_id:
        conditions.append(Lead.platform_user_id == platform_user_id)
    if handle:
        conditions.append(Lead.handle_key == handle.lower())
    if not conditions:
        return None
    return session.exec(select(Lead).where(Lead.platform == platform, or_(*conditions)).order_by(Lead.id)).first()


def registered(session: Session, platform: str, platform_user_id: str | None, handle: str | None) -> bool:
    """True when a candidate owns this account already."""
    account = find_account(session, AccountRef(platform=platform, handle=handle, platform_user_id=platform_user_id))
    return account is not None and account.candidate_id is not None


def _merged_text(old: str, new: str | None) -> str:
    if not new or new in old:
        return old
    return (new + ("\n" + old if old else ""))[:MAX_TEXT]


def record_lead(session: Session, item: LeadItem, *, brands: Iterable[str] = (), languages: Iterable[str] = (),
                run_id: int | None = None) -> tuple[str, Lead | None]:
    """Store one sighting. Returns what happened (:data:`NEW`, :data:`SEEN`, :data:`REGISTERED`,
    :data:`REJECTED` or :data:`PROMOTED`) and the lead (None when the account is registered).

    A new account becomes a ``new`` lead. A known one fills what it lacked (an id, a handle),
    takes the newest shown values (followers, name, bio, place), gains brands, languages and
    text; a rejected or promoted lead only gets ``last_seen_at`` and the sighting."""
    hit = item.hit
    if not (hit.platform_user_id or hit.handle):
        return SEEN, None
    if registered(session, hit.platform, hit.platform_user_id, hit.handle):
        return REGISTERED, None
    now = item.found_at or utcnow()
    lead = find_lead(session, hit.platform, hit.platform_user_id, hit.handle)
    outcome = NEW
    if lead is None:
        lead = Lead(
            platform=hit.platform, platform_user_id=hit.platform_user_id, handle=hit.handle,
            handle_key=hit.handle.lower() if hit.handle else None, display_name=hit.display_name, bio=hit.bio,
            texts=(hit.text or "")[:MAX_TEXT], followers=hit.followers, followers_approximate=hit.followers_approximate,
            verified=hit.verified, ip_location=hit.ip_location, country=hit.country, brands=sorted(set(brands)),
            languages=sorted(set(languages)), seed_kind=item.seed_kind, seed=item.seed[:200], source=item.source[:64],
            query=(item.query or None) and item.query[:200], source_url=item.source_url, post_url=hit.post_url,
            hop=item.hop, via_account=item.via_account, first_run_id=run_id, first_seen_at=now, last_seen_at=now,
        )
        session.add(lead)
        session.flush()
    else:
        outcome = {LEAD_REJECTED: REJECTED, LEAD_PROMOTED: PROMOTED}.get(lead.status, SEEN)
        lead.last_seen_at = now
        lead.sightings += 1
        if outcome == SEEN:
            lead.platform_user_id = lead.platform_user_id or hit.platform_user_id
            if hit.handle and not lead.handle:
                lead.handle, lead.handle_key = hit.handle, hit.handle.lower()
            for name in ("display_name", "bio", "verified", "ip_location", "country"):
                value = getattr(hit, name)
                if value is not None:
                    setattr(lead, name, value)
            if hit.followers is not None:
                lead.followers, lead.followers_approximate = hit.followers, hit.followers_approximate
            lead.texts = _merged_text(lead.texts, hit.text)
            lead.brands = sorted(set(lead.brands) | set(brands))
            lead.languages = sorted(set(lead.languages) | set(languages))
            lead.post_url = lead.post_url or hit.post_url
        session.add(lead)
        session.flush()
    insert_ignore(session, LeadSighting, [{
        "lead_id": lead.id, "crawl_run_id": run_id, "source": item.source[:64], "seed_kind": item.seed_kind,
        "seed": item.seed[:200], "query": (item.query or None) and item.query[:200], "query_key": (item.query or "")[:200],
        "post_url": hit.post_url, "hop": item.hop, "via_account": item.via_account, "seen_at": now,
    }])
    return outcome, lead


def set_score(session: Session, lead: Lead, score: float) -> None:
    lead.score = round(float(score), 4)
    session.add(lead)


def get_leads(session: Session, ids: Iterable[int]) -> dict[int, Lead]:
    """The leads of these ids (absent ids are absent)."""
    wanted = [i for i in ids if 0 < i <= 2**31 - 1]
    found: dict[int, Lead] = {}
    for start in range(0, len(wanted), 900):
        for lead in session.exec(select(Lead).where(Lead.id.in_(wanted[start:start + 900]))):  # type: ignore[union-attr]
            found[lead.id] = lead  # type: ignore[index]
    return found


def list_leads(session: Session, *, status: str | None = LEAD_NEW, platforms: Sequence[str] = (),
               min_followers: int | None = None, country: str | None = None, limit: int | None = None) -> list[Lead]:
    """Leads by pre-score (highest first): of one status (None: every status), of some
    platforms, with at least ``min_followers`` followers (a lead with no count shown is left
    out then), from one country (ISO code)."""
    statement = select(Lead)
    if status is not None:
        statement = statement.where(Lead.status == status)
    if platforms:
        statement = statement.where(Lead.platform.in_(list(platforms)))  # type: ignore[attr-defined]
    if min_followers is not None:
        statement = statement.where(Lead.followers >= min_followers)  # type: ignore[operator]
    if country:
        statement = statement.where(Lead.country == country.upper())
    statement = statement.order_by(Lead.score.desc(), Lead.id)  # type: ignore[attr-defined]
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all())


def lead_sightings(session: Session, lead_ids: Iterable[int]) -> dict[int, list[LeadSighting]]:
    ids = list(lead_ids)
    found: dict[int, list[LeadSighting]] = {}
    for start in range(0, len(ids), 900):
        for row in session.exec(select(LeadSighting).where(LeadSighting.lead_id.in_(ids[start:start + 900]))  # type: ignore[attr-defined]
                                .order_by(LeadSighting.id)):
            found.setdefault(row.lead_id, []).append(row)
    return found


def mark_promoted(session: Session, lead: Lead, candidate_id: int, by: str, at: datetime | None = None) -> None:
    lead.status, lead.candidate_id, lead.status_by, lead.status_at = LEAD_PROMOTED, candidate_id, by[:200], at or utcnow()
    session.add(lead)


def mark_rejected(session: Session, lead: Lead, reason: str, by: str, at: datetime | None = None) -> None:
    lead.status, lead.reason, lead.status_by, lead.status_at = LEAD_REJECTED, reason, by[:200], at or utcnow()
    session.add(lead)


@dataclass
class RunLeads:
    """What one discover run found, per source: sightings, leads first seen in the run, and
    sightings of leads another source of the run (or an earlier run) saw too."""

    sightings: Counter[str]
    new: Counter[str]
    duplicates: Counter[str]

    @property
    def total_sightings(self) -> int:
        return sum(self.sightings.values())


def run_leads(session: Session, run_id: int) -> RunLeads:
    """Per source: sightings of the run, leads the run found first, and duplicate sightings
    (the lead was first found by another sighting: another source, an earlier query or run)."""
    rows = session.execute(
        select(LeadSighting.id, LeadSighting.lead_id, LeadSighting.source, Lead.first_run_id)
        .join(Lead, Lead.id == LeadSighting.lead_id)
        .where(LeadSighting.crawl_run_id == run_id)
        .order_by(LeadSighting.id)
    ).all()
    sightings: Counter[str] = Counter()
    new: Counter[str] = Counter()
    duplicates: Counter[str] = Counter()
    first_seen: set[int] = set()
    for _, lead_id, source, first_run in rows:
        sightings[source] += 1
        if first_run == run_id and lead_id not in first_seen:
            first_seen.add(lead_id)
            new[source] += 1
        else:
            duplicates[source] += 1
    return RunLeads(sightings, new, duplicates)


def lead_documents(session: Session, *, statuses: Sequence[str] = (LEAD_NEW,)) -> list[dict[str, Any]]:
    """The leads lookalikes compare (plain rows, one query): id, platform, names, bio, texts,
    brands, country, IP location, languages, followers, status."""
    columns = (Lead.id, Lead.platform, Lead.platform_user_id, Lead.handle, Lead.display_name, Lead.bio, Lead.texts,
               Lead.brands, Lead.country, Lead.ip_location, Lead.languages, Lead.followers, Lead.status)
    rows = session.execute(select(*columns).where(Lead.status.in_(list(statuses))).order_by(Lead.id))  # type: ignore[attr-defined]
    names = [c.key for c in columns]
    return [dict(zip(names, row)) for row in rows]


def count_leads(session: Session) -> dict[str, int]:
    """Leads per status."""
    return {status: n for status, n in session.execute(select(Lead.status, func.count()).group_by(Lead.status))}



class LeadRefused(ValueError):
    """A lead that cannot be promoted or rejected; the message says which lead and why.
    ``name_refused``: only its name was the problem (promote it under another name)."""

    def __init__(self, message: str, *, name_refused: bool = False) -> None:
        super().__init__(message)
        self.name_refused = name_refused


@dataclass(frozen=True)
class Promotion:
    """A lead made a candidate: the candidate and the account it was given."""

    lead_id: int
    candidate_id: int
    display_name: str
    platform: str
    account: str  # the handle, else the platform id


def promote_lead(database_url: str | None, lead_id: int, by: str, *, name: str | None = None) -> Promotion:
    """Make a candidate of a new (or rejected) lead - ``wangzi leads promote`` and the desk's
    Leads tab both call this: the candidate registered with the lead's account in a transaction
    of its own (:func:`storage.candidates.register_candidate`, its name checked like any
    candidate's: ``name`` instead of the lead's), then the lead marked promoted by ``by``.
    Raises :class:`LeadRefused` (no such lead, promoted already, a name that cannot be a
    candidate's, the account or the name registered already, the database said no). Running
    the lookup is the caller's: the CLI crawls at once, the desk queues the service's job."""
    from storage.candidates import CandidateRefused, DuplicateAccount, DuplicateName, register_candidate
    from storage.db import session_scope
    from storage.names import InvalidName, clean_name

    with session_scope(database_url) as session:
        lead = get_leads(session, [lead_id]).get(lead_id)
        if lead is not None:
            session.expunge(lead)
    if lead is None:
        raise LeadRefused(f"no lead {lead_id}")
    if lead.status == LEAD_PROMOTED:
        raise LeadRefused(f"lead {lead_id} was promoted already (candidate {lead.candidate_id})")
    shown = name or lead.display_name or lead.handle or lead.platform_user_id or ""
    try:
        candidate_name = clean_name(shown)
    except InvalidName as exc:
        raise LeadRefused(f"lead {lead_id}: its name {shown!r} cannot be a candidate's name: {exc}",
                          name_refused=True) from None
    ref = AccountRef(platform=lead.platform, handle=lead.handle, platform_user_id=lead.platform_user_id)
    notes = f"promoted from lead {lead_id}: {lead.source}" + (f" for {lead.query!r}" if lead.query else "")
    try:
        candidate = register_candidate(database_url, candidate_name, notes=notes, accounts=[ref])
    except DuplicateName as exc:
        raise LeadRefused(f"lead {lead_id}: {exc}", name_refused=True) from None
    except (DuplicateAccount, CandidateRefused, InvalidName) as exc:
        raise LeadRefused(f"lead {lead_id}: {exc}") from None
    with session_scope(database_url) as session:
        stored = get_leads(session, [lead_id])[lead_id]
        mark_promoted(session, stored, candidate.id, by)  # type: ignore[arg-type]
    return Promotion(lead_id=lead_id, candidate_id=candidate.id, display_name=candidate.display_name,  # type: ignore[arg-type]
                     platform=lead.platform, account=lead.handle or lead.platform_user_id or "")


def reject_reason(text: str | None) -> str:
    """The reason to keep with a rejection: free text without control characters, not empty
    (:class:`storage.names.InvalidName` otherwise)."""
    from storage.names import InvalidName, clean_notes

    why = clean_notes(text)
    if not why:
        raise InvalidName("nothing given: say why the leads are rejected")
    return why


def reject_lead(session: Session, lead_id: int, reason: str, by: str) -> Lead:
    """Take a lead out of the queue for good (``reason`` from :func:`reject_reason`): found
    again, it is not proposed again. :class:`LeadRefused` when there is no such lead or it was
    promoted (deactivate the candidate instead)."""
    lead = get_leads(session, [lead_id]).get(lead_id)
    if lead is None:
        raise LeadRefused(f"no lead {lead_id}")
    if lead.status == LEAD_PROMOTED:
        raise LeadRefused(f"lead {lead_id} was promoted (candidate {lead.candidate_id}); deactivate the candidate instead")
    mark_rejected(session, lead, reason, by)
    return lead


#: How the desk's Leads tab may order leads: the column each sort key reads.
LEAD_SORTS = ("score", "followers", "last_seen")


@dataclass(frozen=True)
class LeadQuery:
    """One page of the Leads tab: of one status (None: every status), some platforms, at least
    ``min_followers`` followers (a lead whose answer showed no count is left out then), from
    some countries (ISO codes), ordered by ``sort`` (:data:`LEAD_SORTS`; leads with no count
    last either way, then by id)."""

    status: str | None = LEAD_NEW
    platforms: tuple[str, ...] = ()
    min_followers: int | None = None
    countries: tuple[str, ...] = ()
    sort: str = "score"
    descending: bool = True
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class LeadPage:
    rows: list[Lead]
    total: int


def lead_page(session: Session, query: LeadQuery) -> LeadPage:
    """The leads :class:`LeadQuery` describes and how many match it in all."""
    conditions: list[Any] = []
    if query.status is not None:
        conditions.append(Lead.status == query.status)
    if query.platforms:
        conditions.append(Lead.platform.in_(list(query.platforms)))  # type: ignore[attr-defined]
    if query.min_followers is not None:
        conditions.append(Lead.followers >= query.min_followers)  # type: ignore[operator]
    if query.countries:
        conditions.append(Lead.country.in_([c.upper() for c in query.countries]))  # type: ignore[union-attr]
    total = session.execute(select(func.count()).select_from(Lead).where(*conditions)).scalar_one()
    column: Any = {"score": Lead.score, "followers": Lead.followers, "last_seen": Lead.last_seen_at}[query.sort]
    order = [column.is_(None), column.desc() if query.descending else column.asc(), Lead.id]
    statement = select(Lead).where(*conditions).order_by(*order).offset(query.offset).limit(query.limit)
    return LeadPage(rows=list(session.exec(statement).all()), total=int(total))
