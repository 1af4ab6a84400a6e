"""Press mentions: one row per (candidate, canonical article URL), found by the press spider.

A row is written when a feed (Google News, GDELT) lists an article for one of the
candidate's aliases. ``status`` says whether the article's own title or main text names
the candidate (``confirmed``) or not (``unconfirmed``: kept as a lead, never counted).
``confidence`` follows the rule in ``enrichment/press.py`` (docs/press.md).
Idempotent across runs and sources: the unique key is (candidate_id, canonical_url); a
later sighting fills fields still empty and may promote ``unconfirmed`` to
``confirmed``, never the reverse, and never changes ``first_seen_at``.
"""

# No `from __future__ import annotations`: SQLModel needs real annotations.

from datetime import datetime
from typing import Optional

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow

CONFIRMED = "confirmed"
UNCONFIRMED = "unconfirmed"


class PressMention(SQLModel, table=True):
    """An article that (maybe) names a candidate."""

    __table_args__ = (
        UniqueConstraint("candidate_id", "canonical_url", name="uq_pressmention_candidate_canonical_url"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    source: str = Field(max_length=32)  # google_news | gdelt (the first feed that listed it)
    url: str  # the URL the feed gave (a Google link when it could not be resolved)
    canonical_url: str = Field(max_length=2000)
    outlet_domain: Optional[str] = Field(default=None, max_length=255, index=True)
    outlet_name: Optional[str] = Field(default=None, max_length=255)
    country: Optional[str] = Field(default=None, max_length=2, index=True)  # ISO 3166-1 alpha-2
    language: Optional[str] = Field(default=None, max_length=8)  # ISO 639-1
    published_at: Optional[datetime] = Field(default=None, index=True)
    title: Optional[str] = None
    matched_alias: Optional[str] = Field(default=None, max_length=200)
    snippet: Optional[str] = None
    confidence: Optional[float] = None
    status: str = Field(default=UNCONFIRMED, max_length=16, index=True)  # confirmed | unconfirmed
    parser_version: Optional[str] = Field(default=None, max_length=16)
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)

    @property
    def overseas(self) -> Optional[bool]:
        """True when the outlet's country is known and is not mainland China."""
        return None if self.country is None else self.country != "CN"
