"""One account's stored history as a person reads it: its follower counts over time and its
newest fetch failure (the report's follower charts and data-freshness table)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlmodel import Session

from storage.models import FetchFailure
from storage.models import ProfileSnapshot as PS


def follower_history(session: Session, account_id: int) -> list[Row[Any]]:
    """Every snapshot of the account, oldest first, as rows of (``captured_at``,
    ``followers``, ``approximate``, ``lower_bound``); ``followers`` is None where not read."""
    return list(session.execute(
        select(PS.captured_at, PS.followers, PS.approximate, PS.lower_bound)
        .where(PS.account_id == account_id).order_by(PS.captured_at, PS.id)
    ).all())


def newest_failure(session: Session, account_id: int) -> Row[Any] | None:
    """The account's newest fetch failure as a row of (``kind``, ``occurred_at``), or None."""
    return session.execute(
        select(FetchFailure.kind, FetchFailure.occurred_at).where(FetchFailure.account_id == account_id)
        .order_by(FetchFailure.occurred_at.desc()).limit(1)
    ).first()
