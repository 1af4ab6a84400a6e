"""Store the leads search spiders find (``records.leads.LeadItem``), ``WANGZI_STORAGE_BATCH`` at
a time: what each answer shows is read for brands, languages and a pre-score
(``enrichment.leads``), then recorded in ``lead``/``leadsighting`` (``storage.leads``):
de-duplicated against registered accounts and across sources, rejected leads never proposed
again. Every other item passes through untouched (search failures are stored by the storage
pipeline with the other failures).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from sqlmodel import Session

from enrichment.leads import brands_named, languages_of, lead_country, pre_score
from records.leads import LeadItem
from storage.db import session_scope
from storage.leads import NEW, SEEN, record_lead, set_score
from storage.runs import merge_run_stats

logger = logging.getLogger(__name__)


def write_lead_items(session: Session, items: Iterable[LeadItem], run_id: int | None) -> Counter[str]:
    """Record leads in the session's transaction; counts by outcome (new, seen, registered,
    rejected, promoted). Also what ``wangzi discover`` calls for the leads a seed creator's
    stored profile names (no request made)."""
    counts: Counter[str] = Counter()
    for item in items:
        hit = item.hit
        texts = [hit.bio, hit.text]
        outcome, lead = record_lead(session, item, brands=brands_named(texts), languages=languages_of(texts), run_id=run_id)
        counts[outcome] += 1
        if lead is not None and outcome in (NEW, SEEN):
            if lead.country is None:
                lead.country = lead_country(None, lead.ip_location)
            set_score(session, lead, pre_score(followers=lead.followers, country=lead.country, ip_location=lead.ip_location,
                                               brands=lead.brands, verified=lead.verified))
    return counts


class LeadPipeline:
    """Store lead items in batches; the run's per-source lead counts go in its statistics."""

    def __init__(self, crawler: Crawler, database_url: str | None, batch_size: int) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.batch_size = max(1, batch_size)
        self.buffer: list[LeadItem] = []
        self.counts: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeadPipeline:
        settings = crawler.settings
        return cls(crawler, settings.get("WANGZI_DATABASE_URL") or None, settings.getint("WANGZI_STORAGE_BATCH"))

    @property
    def run_id(self) -> int | None:
        """The run the storage pipeline stores into (the CLI's, or the one it started)."""
        return self.crawler.settings.getint("WANGZI_RUN_ID") or self.crawler.stats.get_value("wangzi/run_id")

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, LeadItem):
            self.buffer.append(item)
            if len(self.buffer) >= self.batch_size:
                self.flush()
        return item

    def flush(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        try:
            with session_scope(self.database_url) as session:
                counts = write_lead_items(session, batch, self.run_id)
        except Exception:  # noqa: BLE001 - a lost batch of leads must not stop the crawl; the next run finds them again
            logger.exception("could not store %d leads", len(batch))
            self.crawler.stats.inc_value("wangzi/leads/storage_errors", len(batch))
            return
        self.counts.update(counts)
        for outcome, value in counts.items():
            self.crawler.stats.inc_value(f"wangzi/leads/{outcome}", value)

    def close_spider(self, spider: Spider | None = None) -> None:
        self.flush()
        spider = spider or self.crawler.spider
        run_id = self.run_id
        if run_id is None or not (self.counts or hasattr(spider, "requests_sent")):
            return
        with session_scope(self.database_url) as session:
            merge_run_stats(session, run_id, f"{getattr(spider, 'name', 'unknown')}", {
                "requests": getattr(spider, "requests_sent", None),
                "stopped": getattr(spider, "stopped", None),
                **{f"leads_{outcome}": value for outcome, value in sorted(self.counts.items())},
            })
