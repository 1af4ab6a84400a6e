"""Store press mentions (``spiders.press.PressMentionItem``) idempotently.

Enabled by the press spider's ``update_settings`` next to the lead's pipelines (which let
the item pass: it is neither a profile nor a failure). The key is (candidate,
canonical URL), so the same article found through Google News and GDELT, or again in a
later run, stays one row: a later sighting fills fields that are still empty, may
promote ``unconfirmed`` to ``confirmed`` (with its alias, snippet and confidence), never
demotes, and never changes ``first_seen_at``. An article whose page could not be read in
one run is keyed by its feed link; when a later run reads the page and finds another
canonical link, the row is found again by the same feed link (its ``url``) and takes the
page's canonical URL, so a fetch that failed once never leaves a second row behind.

A feed that failed (``records.FeedFailureItem``: Google News or GDELT answered
rate_limited, blocked, unrecognized, ... or could not be fetched) is not stored here but by
the lead's ``StoragePipeline`` through ``storage.writer.write_items``, like every other
failure: in the run's batches, with its retries and dead letters (``wangzi crawl
--retry-dead-letters`` re-applies it through the same writer), counted in the run's
``press`` statistics. This pipeline lets it pass.
"""

from __future__ import annotations

import logging
from dataclasses import fields
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler

from records import PressMentionItem

logger = logging.getLogger(__name__)

#: Fields filled from a later sighting only while they are still NULL.
FILLABLE = ("outlet_domain", "outlet_name", "country", "language", "published_at", "title")
#: Fields that come with a confirmation and are replaced together.
CONFIRMATION = ("matched_alias", "snippet", "confidence")
#: Item fields that say how the item was made, not what the row holds.
NOT_STORED = ("detail", "page_read")


def store_mention(session: Any, item: Any) -> str:
    """Insert or merge one item; returns "inserted", "confirmed" (promoted), "updated" or "unchanged"."""
    from sqlmodel import select

    from storage.models import utcnow
    from storage.models import CONFIRMED, PressMention

    mine = select(PressMention).where(PressMention.candidate_id == item.candidate_id)
    row = session.exec(mine.where(PressMention.canonical_url == item.canonical_url)).first()
    outcome = "unchanged"
    if row is None:  # the same feed link seen before, keyed then by another URL
        row = session.exec(mine.where(PressMention.url == item.url).order_by(PressMention.id)).first()
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


class PressMentionPipeline:
    """Write each press mention in its own short transaction (a few hundred per candidate at most)."""

    def __init__(self, crawler: Crawler, database_url: str | None) -> None:
        self.crawler = crawler
        self.database_url = database_url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "PressMentionPipeline":
        return cls(crawler, crawler.settings.get("WANGZI_DATABASE_URL") or None)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        from storage.db import session_scope

        if not isinstance(item, PressMentionItem):
            return item
        try:
            with session_scope(self.database_url) as session:
                outcome = store_mention(session, item)
        except Exception:  # noqa: BLE001 - one bad row must not stop the crawl
            logger.exception("could not store press mention %s", item.canonical_url)
            self.crawler.stats.inc_value("wangzi/press/storage_errors")
            return item
        self.crawler.stats.inc_value(f"wangzi/press/{outcome}")
        return item
