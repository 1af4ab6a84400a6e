"""What an account's stored profile says: its newest snapshot and the links it showed.

``wangzi candidates suggest`` reads these to find the accounts a candidate's own profiles
link to (bio links, websites).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import AccountLink, ProfileSnapshot


def account_links(session: Session, account_id: int) -> list[str]:
    """The links the account's profile showed, in the order first seen."""
    statement = select(AccountLink.url).where(AccountLink.account_id == account_id).order_by(col(AccountLink.id))
    return list(session.exec(statement).all())


def newest_snapshot(session: Session, account_id: int) -> ProfileSnapshot | None:
    """The account's most recently captured profile snapshot."""
    statement = (
        select(ProfileSnapshot)
        .where(ProfileSnapshot.account_id == account_id)
        .order_by(col(ProfileSnapshot.captured_at).desc(), col(ProfileSnapshot.id).desc())
    )
    return session.exec(statement).first()
