"""What registered candidates' accounts say about them in words: names, bios, places, the
links their profiles show and their recent posts' text.

Read by discovery's graph expansion (the accounts a known creator's bio links to or posts
@mention) and by lookalikes (``wangzi similar``: bio and recent post text per candidate).
Plain rows out, a bounded number of queries whatever the number of candidates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import Account, AccountLink, Candidate, Post, ProfileSnapshot


@dataclass
class AccountTexts:
    """One account of a candidate, in words."""

    candidate_id: int
    account_id: int
    platform: str
    platform_user_id: str | None
    handle: str | None
    display_name: str | None = None
    bio: str | None = None
    country: str | None = None
    ip_location: str | None = None
    followers: int | None = None
    links: list[str] = field(default_factory=list)
    posts: list[tuple[str | None, str]] = field(default_factory=list)  # (post URL, title and text), newest first


def candidate_names(session: Session, candidate_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Candidate id -> display name (active candidates when no ids are given)."""
    statement = select(Candidate.id, Candidate.display_name)
    ids = list(candidate_ids or [])
    if ids:
        statement = statement.where(Candidate.id.in_(ids))  # type: ignore[union-attr]
    else:
        statement = statement.where(Candidate.active == True)  # noqa: E712 - SQL expression
    return {cid: name for cid, name in session.execute(statement.order_by(Candidate.id))}


def account_texts(session: Session, candidate_ids: Iterable[int], *, posts_per_account: int = 20) -> list[AccountTexts]:
    """Every account of the candidates with its newest snapshot's name, bio and place, its
    links, and the text of its ``posts_per_account`` most recently stored posts."""
    ids = list(candidate_ids)
    accounts: dict[int, AccountTexts] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for account in session.exec(select(Account).where(Account.candidate_id.in_(chunk)).order_by(Account.id)):  # type: ignore[union-attr]
            accounts[account.id] = AccountTexts(  # type: ignore[index]
                candidate_id=account.candidate_id, account_id=account.id,  # type: ignore[arg-type]
                platform=account.platform, platform_user_id=account.platform_user_id, handle=account.handle,
            )
    account_ids = list(accounts)
    for start in range(0, len(account_ids), 900):
        chunk = account_ids[start:start + 900]
        newest = (select(ProfileSnapshot.account_id, func.max(ProfileSnapshot.id).label("id"))
                  .where(ProfileSnapshot.account_id.in_(chunk)).group_by(ProfileSnapshot.account_id).subquery())  # type: ignore[attr-defined]
        for snap in session.exec(select(ProfileSnapshot).join(newest, newest.c.id == ProfileSnapshot.id)):
            row = accounts[snap.account_id]
            row.display_name, row.bio, row.country = snap.display_name, snap.bio, snap.country
            row.ip_location, row.followers = snap.ip_location, snap.followers
        for account_id, url in session.execute(select(AccountLink.account_id, AccountLink.url)
                                               .where(AccountLink.account_id.in_(chunk)).order_by(AccountLink.id)):  # type: ignore[attr-defined]
            accounts[account_id].links.append(url)
        if posts_per_account <= 0:
            continue
        ranked = (select(Post.account_id, Post.url, Post.title, Post.text,
                         func.row_number().over(partition_by=Post.account_id, order_by=Post.id.desc()).label("rank"))  # type: ignore[union-attr]
                  .where(Post.account_id.in_(chunk)).subquery())  # type: ignore[attr-defined]
        for account_id, url, title, text, _ in session.execute(
            select(ranked).where(ranked.c.rank <= posts_per_account).order_by(ranked.c.account_id, ranked.c.rank)
        ):
            words = "\n".join(part for part in (title, text) if part)
            if words:
                accounts[account_id].posts.append((url, words))
    return list(accounts.values())
