"""Store what spiders yield: snapshots, posts, links and failures, in batches, idempotently,
keeping the run's per-platform statistics."""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from crawler.deadletter import DeadLetterBox
from records import ProfileItem
from storage.db import session_scope
from storage.runs import finish_run, merge_run_stats, start_run
from storage.writer import write_items

logger = logging.getLogger(__name__)


class StoragePipeline:
    """Persist items into the database, ``WANGZI_STORAGE_BATCH`` at a time.

    The run is ``WANGZI_RUN_ID`` when the CLI created it, otherwise one is created here
    (``scrapy crawl``, trigger ``WANGZI_TRIGGER``) and finished when the spider closes. A batch
    that fails to store is tried again (``WANGZI_STORAGE_RETRIES`` attempts, waiting
    ``WANGZI_STORAGE_RETRY_DELAY`` doubling), then item by item; an item the database still
    refuses is counted in ``wangzi/storage_errors`` and kept as a dead letter in
    ``WANGZI_DEAD_LETTER_DIR`` (crawler/deadletter.py). The crawl goes on.
    """

    def __init__(
        self,
        crawler: Crawler,
        *,
        database_url: str | None,
        run_id: int | None,
        trigger: str,
        batch_size: int,
        dead_letters: DeadLetterBox,
        storage_retries: int,
        storage_retry_delay: float,
    ) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.run_id = run_id
        self.owns_run = run_id is None
        self.trigger = trigger
        self.batch_size = max(1, batch_size)
        self.dead_letters = dead_letters
        self.storage_retries = max(1, storage_retries)
        self.storage_retry_delay = storage_retry_delay
        self.buffer: list[Any] = []
        self.counts: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        # Accounts that yielded anything / a profile: the run's parse success rate (crawl health).
        self.accounts: set[tuple[Any, ...]] = set()
        self.accounts_ok: set[tuple[Any, ...]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            database_url=settings.get("WANGZI_DATABASE_URL") or None,
            run_id=settings.getint("WANGZI_RUN_ID") or None,
            trigger=settings.get("WANGZI_TRIGGER"),
            batch_size=settings.getint("WANGZI_STORAGE_BATCH"),
            dead_letters=DeadLetterBox(settings.get("WANGZI_DEAD_LETTER_DIR")),
            storage_retries=settings.getint("WANGZI_STORAGE_RETRIES"),
            storage_retry_delay=settings.getfloat("WANGZI_STORAGE_RETRY_DELAY"),
        )
        # The finish reason is only known after pipelines close: finish the run on the signal.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    # ------------------------------------------------------------------ lifecycle

    def open_spider(self, spider: Spider | None = None) -> None:
        if self.run_id is None:
            with session_scope(self.database_url) as session:
                self.run_id = start_run(session, self.trigger).id
        self.crawler.stats.set_value("wangzi/run_id", self.run_id)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        account = getattr(item, "account", None)
        if account is not None:
            key = (account.platform, account.account_id, account.handle, account.platform_user_id)
            self.accounts.add(key)
            if isinstance(item, ProfileItem):
                self.accounts_ok.add(key)
        self.buffer.append(item)
        if len(self.buffer) >= self.batch_size:
            self.flush()
        return item

    def close_spider(self, spider: Spider | None = None) -> None:
        self.flush()
        platform = getattr(self.crawler.spider, "platform", None) or getattr(self.crawler.spider, "name", "unknown")
        stats = self.crawler.stats
        with session_scope(self.database_url) as session:
            merge_run_stats(session, self.run_id, platform, {  # type: ignore[arg-type]
                # A replayed request passes the downloader twice (real URL, then loopback).
                "requests": (stats.get_value("downloader/request_count") or 0) - (stats.get_value("wangzi/replay/rewritten") or 0),
                "responses": stats.get_value("downloader/response_count"),
                "snapshots": self.counts["snapshots"],
                "posts": self.counts["posts"],
                "failures": dict(self.failures),
                "storage_errors": stats.get_value("wangzi/storage_errors"),
                "accounts": len(self.accounts),
                "accounts_ok": len(self.accounts_ok),
                "parse_success_rate": round(len(self.accounts_ok) / len(self.accounts), 4) if self.accounts else None,
            })

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if not self.owns_run or self.run_id is None:
            return
        with session_scope(self.database_url) as session:
            finish_run(session, self.run_id, "finished" if reason == "finished" else "interrupted")

    # ------------------------------------------------------------------ writing

    def flush(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        for attempt in range(self.storage_retries):
            try:
                with session_scope(self.database_url) as session:
                    counts = write_items(session, batch, self.run_id)
                break
            except Exception as exc:  # noqa: BLE001 - one bad batch must not stop the crawl
                if attempt + 1 < self.storage_retries:
                    # A locked/restarting database often recovers within seconds: wait, then retry.
                    logger.warning("could not store a batch of %d items (%s: %s); retrying",
                                   len(batch), type(exc).__name__, str(exc)[:200])
                    self.crawler.stats.inc_value("wangzi/storage_retries")
                    time.sleep(self.storage_retry_delay * (2 ** attempt))
                    continue
                logger.exception("could not store a batch of %d items; storing them one by one", len(batch))
                counts = self._store_one_by_one(batch)
        for key, value in counts.items():
            if key.startswith("failure:"):
                self.failures[key.removeprefix("failure:")] += value
            else:
                self.counts[key] += value
        for key, value in counts.items():
            self.crawler.stats.inc_value(f"wangzi/{key}", value)

    def _store_one_by_one(self, batch: list[Any]) -> Counter[str]:
        counts: Counter[str] = Counter()
        for item in batch:
            try:
                with session_scope(self.database_url) as session:
                    counts.update(write_items(session, [item], self.run_id))
            except Exception as exc:  # noqa: BLE001
                logger.exception("could not store %s", type(item).__name__)
                self.crawler.stats.inc_value("wangzi/storage_errors")
                try:
                    path = self.dead_letters.append(item, self.run_id, exc)
                except Exception:  # noqa: BLE001 - a full disk may refuse this too; the log has it
                    logger.exception("could not keep the %s as a dead letter either", type(item).__name__)
                else:
                    self.crawler.stats.inc_value("wangzi/dead_letters")
                    logger.error("kept the %s in %s; re-apply with `wangzi crawl --retry-dead-letters`",
                                 type(item).__name__, path)
        return counts
