"""How press mentions merge when stored (storage.mentions.store_mention), on SQLite and
a real PostgreSQL: one row per candidate and article, whatever order the sightings come in."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import select

from records import PressMentionItem
from storage.db import session_scope
from storage.mentions import store_mention
from storage.models import Candidate
from storage.models import PressMention

FEED_LINK = "https://www.lemonde.fr/m-le-mag/article/2026/11/02/li-jiaqi_123.html?utm_source=gdelt"
FEED_CLEAN = "https://www.lemonde.fr/m-le-mag/article/2026/11/02/li-jiaqi_123.html"
PAGE_CANONICAL = "https://www.lemonde.fr/m-le-mag/article/2026/11/02/le-roi-du-rouge-a-levres_123_4500.html"


def _candidate(database_url: str) -> int:
    with session_scope(database_url) as session:
        candidate = Candidate(display_name="李佳琦", aliases=["Li Jiaqi"])
        session.add(candidate)
        session.flush()
        return int(candidate.id)  # type: ignore[arg-type]


def _unread(candidate_id: int) -> PressMentionItem:
    """The article page could not be fetched (robots.txt, 5xx, network): keyed by the feed link."""
    return PressMentionItem(candidate_id=candidate_id, source="gdelt", url=FEED_LINK, canonical_url=FEED_CLEAN,
                            status="unconfirmed", outlet_domain="lemonde.fr", country="FR", title="Li Jiaqi",
                            detail="network: connection refused")


def _read(candidate_id: int) -> PressMentionItem:
    """The page was read: its own canonical link differs from the feed's."""
    return PressMentionItem(candidate_id=candidate_id, source="gdelt", url=FEED_LINK, canonical_url=PAGE_CANONICAL,
                            status="confirmed", outlet_domain="lemonde.fr", country="FR", language="fr",
                            published_at=datetime(2026, 11, 2, 8, tzinfo=timezone.utc), title="Le roi du rouge à lèvres",
                            matched_alias="Li Jiaqi", snippet="… Li Jiaqi, le roi du rouge à lèvres …", confidence=0.7,
                            page_read=True)


def _store(database_url: str, item: PressMentionItem) -> str:
    with session_scope(database_url) as session:
        return store_mention(session, item)


def _rows(database_url: str) -> list[PressMention]:
    with session_scope(database_url) as session:
        return list(session.exec(select(PressMention).order_by(PressMention.id)).all())


def test_a_page_read_after_a_failed_fetch_completes_the_same_row(database_url: str) -> None:
    candidate_id = _candidate(database_url)
    assert _store(database_url, _unread(candidate_id)) == "inserted"
    (before,) = _rows(database_url)
    assert _store(database_url, _read(candidate_id)) == "confirmed"
    (row,) = _rows(database_url)
    assert row.id == before.id and row.first_seen_at == before.first_seen_at
    assert (row.canonical_url, row.status, row.matched_alias, row.language) == (PAGE_CANONICAL, "confirmed", "Li Jiaqi", "fr")


def test_a_failed_fetch_after_a_page_was_read_changes_nothing_it_knew(database_url: str) -> None:
    candidate_id = _candidate(database_url)
    assert _store(database_url, _read(candidate_id)) == "inserted"
    assert _store(database_url, _unread(candidate_id)) == "unchanged"
    (row,) = _rows(database_url)
    assert (row.canonical_url, row.status, row.confidence) == (PAGE_CANONICAL, "confirmed", 0.7)


def test_the_same_sighting_twice_is_one_unchanged_row(database_url: str) -> None:
    candidate_id = _candidate(database_url)
    assert [_store(database_url, _read(candidate_id)) for _ in range(2)] == ["inserted", "unchanged"]
    assert len(_rows(database_url)) == 1
