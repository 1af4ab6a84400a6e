"""Store press mentions (``records.PressMentionItem``) as the press spider yields them.

A project pipeline (crawler/settings.py), before the lead's ``StoragePipeline``, which lets
the item pass (it is neither a profile nor a failure). Each mention is merged in its own
short transaction by ``storage.mentions.store_mention``: one row per (candidate, canonical
URL), however many feeds and runs list the article (that module says how rows merge).

A feed that failed (``records.FeedFailureItem``: Google News or GDELT answered
rate_limited, blocked, unrecognized, ... or could not be fetched) is not stored here but by
the lead's ``StoragePipeline`` through ``storage.writer.write_items``, like every other
failure: in the run's batches, with its retries and dead letters (``wangzi crawl
--retry-dead-letters`` re-applies it through the same writer), counted in the run's
``press`` statistics. This pipeline lets it pass.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler

from records import PressMentionItem
from storage.db import session_scope
from storage.mentions import store_mention

logger = logging.getLogger(__name__)


class PressMentionPipeline:
    """Write each press mention in its own short transaction (a few hundred per candidate at most)."""

    def __init__(self, crawler: Crawler, database_url: str | None) -> None:
        self.crawler = crawler
        self.database_url = database_url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PressMentionPipeline:
        return cls(crawler, crawler.settings.get("WANGZI_DATABASE_URL") or None)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
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
