"""Press mentions: storing one idempotently, listing a candidate's, and what a press search reads.

:func:`store_mention` keys a mention by (candidate, canonical URL), so the same article
found through Google News and GDELT, or again in a later run, stays one row: a later
sighting fills fields that are still empty, may promote ``unconfirmed`` to ``confirmed``
(with its alias, snippet and confidence), never demotes, and never changes
``first_seen_at``. An article whose page could not be read in one run is keyed by its feed
link; when a later run reads the page and finds another canonical link, the row is found
again by the same feed link (its ``url``) and takes the page's canonical URL, so a fetch
that failed once never leaves a second row behind.

:func:`press_candidate` loads the raw rows a press search starts from (names, handles,
latest post texts); finding brands in those texts is enrichment, done by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlmodel import Session, col, select

from records import PressMentionItem
from storage.candidates import candidate_accounts
from storage.models import CONFIRMED, Candidate, Post, PressMention, utcnow

#: Fields filled from a later sighting only while they are still NULL.
FILLABLE = ("outlet_domain", "outlet_name", "country", "language", "published_at", "title")
#: Fields that come with a confirmation and are replaced together.
CONFIRMATION = ("matched_alias", "snippet", "confidence")
#: Item fields that say how the item was made, not what the row holds.
NOT_STORED = ("detail", "page_read")


def store_mention(session: Session, item: PressMentionItem) -> str:
    """Insert or merge one item; returns "inserted", "confirmed" (promoted), "updated" or "unchanged"."""
    mine = select(PressMention).where(PressMention.candidate_id == item.candidate_id)
    row = session.exec(mine.where(PressMention.canonical_url == item.canonical_url)).first()
    outcome = "unchanged"
    if row is None:  # the same feed link seen before, keyed then by another URL
        row = session.exec(mine.where(PressMention.url == item.url).order_by(col(PressMention.id))).first()
        if row is not None and item.page_read:
            row.canonical_url = item.canonical_url  # the page's own link beats a feed link
            outcome = "updated"
    if row is None:
        values = {f.name: getattr(item, f.name) for f in fields(item) if f.name not in NOT_STORED}
        session.add(PressMention(**values))
        return "inserted"
    for name in FILLABLE:
        if getattr(row, name) is None and getattr(item, name) is not None:
            setattr(row, name, getattr(item, name))
            outcome = "updated"
    if item.status == CONFIRMED and row.status != CONFIRMED:
        row.status = CONFIRMED
        for name in CONFIRMATION:
            setattr(row, name, getattr(item, name))
        row.parser_version = item.parser_version
        outcome = "confirmed"
    elif item.status == CONFIRMED and (item.confidence or 0) > (row.confidence or 0):
        for name in CONFIRMATION:
            setattr(row, name, getattr(item, name))
        outcome = "updated"
    row.last_seen_at = utcnow()
    session.add(row)
    return outcome


def candidate_mentions(session: Session, candidate_id: int, *, confirmed_only: bool = False) -> list[PressMention]:
    """The candidate's stored mentions (every one, or only the confirmed), in the order stored."""
    statement = select(PressMention).where(PressMention.candidate_id == candidate_id)
    if confirmed_only:
        statement = statement.where(PressMention.status == CONFIRMED)
    return list(session.exec(statement.order_by(col(PressMention.id))).all())


@dataclass(frozen=True)
class PressCandidate:
    """What a press search reads about one candidate, as stored (nothing filtered yet)."""

    candidate_id: int
    names: tuple[str | None, ...]  # the display name, then the aliases
    handles: tuple[str | None, ...]  # of the candidate's accounts
    post_texts: tuple[str, ...]  # the latest posts' texts over those accounts, newest first


def press_candidate(session: Session, candidate_id: int, *, posts: int) -> PressCandidate | None:
    """A candidate's names, account handles and the texts of their ``posts`` latest posts
    (posts without text skipped); None when the candidate does not exist."""
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        return None
    accounts = candidate_accounts(session, [candidate_id]).get(candidate_id, [])
    account_ids = [account.id for account in accounts if account.id is not None]
    texts: list[str] = []
    if account_ids:
        texts = [text for text in session.exec(
            select(Post.text)
            .where(col(Post.account_id).in_(account_ids), col(Post.text).is_not(None))
            .order_by(col(Post.published_at).desc(), col(Post.id).desc())
            .limit(posts)
        ).all() if text is not None]
    return PressCandidate(
        candidate_id=candidate_id,
        names=(candidate.display_name, *(candidate.aliases or [])),
        handles=tuple(account.handle for account in accounts),
        post_texts=tuple(texts),
    )
