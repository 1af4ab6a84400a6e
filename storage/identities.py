"""Proxies' and sessions' last known health per platform (``identitystate``, issue 17): written
by the crawler's proxy and session pools, read by ``wangzi proxies list``, ``wangzi sessions
list`` and ``wangzi health``. Identities are named as configured: no URL, cookie or token is
ever passed here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from storage.models import IdentityState, utcnow

#: Columns a pool may set (everything but the key and the stamp).
FIELDS = ("status", "until", "endpoint", "requests", "refused", "quarantines", "last_failure", "last_failure_at",
          "last_ok_at", "rate")


def record_states(session: Session, kind: str, states: Sequence[dict[str, Any]]) -> int:
    """Insert or update the state of each (name, platform) given; returns rows written.
    ``requests`` and ``refused`` are added to what is stored (each crawl counts its own)."""
    written = 0
    for values in states:
        row = session.exec(select(IdentityState).where(
            IdentityState.kind == kind, IdentityState.name == values["name"], IdentityState.platform == values["platform"],
        )).first()
        if row is None:
            row = IdentityState(kind=kind, name=values["name"], platform=values["platform"], status=values.get("status", "ok"))
        for name in FIELDS:
            if name not in values:
                continue
            if name in ("requests", "refused"):
                setattr(row, name, (getattr(row, name) or 0) + int(values[name] or 0))
            else:
                setattr(row, name, values[name])
        row.updated_at = utcnow()
        session.add(row)
        written += 1
    return written


def identity_states(session: Session, kind: str, platforms: Sequence[str] | None = None) -> list[IdentityState]:
    """Stored states of one kind of identity, by name then platform."""
    query = select(IdentityState).where(IdentityState.kind == kind)
    if platforms:
        query = query.where(IdentityState.platform.in_(list(platforms)))  # type: ignore[attr-defined]
    return list(session.exec(query.order_by(IdentityState.name, IdentityState.platform)).all())


def expired_sessions(session: Session, since: datetime | None = None) -> list[IdentityState]:
    """Sessions last seen expired (login_required while logged in), newest first."""
    query = select(IdentityState).where(IdentityState.kind == "session", IdentityState.status == "expired")
    if since is not None:
        query = query.where(IdentityState.updated_at >= since)
    return list(session.exec(query.order_by(IdentityState.updated_at.desc())).all())  # type: ignore[attr-defined]
