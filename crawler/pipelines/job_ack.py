"""Acknowledge a distributed worker's Redis jobs only once their items are stored."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.distributed.worker import JobDone
from crawler.pipelines.storage import StoragePipeline
from crawler.schedule import RefreshPolicy
from storage.db import session_scope
from storage.leases import mark_done, with_retries

logger = logging.getLogger(__name__)


class JobAckPipeline:
    """Last item pipeline in workers: acknowledges jobs only once their items are stored.

    Finished jobs (:class:`JobDone`) are collected; every ``WANGZI_JOB_ACK_BATCH`` jobs, every
    half second and when the spider closes, the storage pipeline is flushed (one transaction
    for the whole batch), the jobs' leases are settled, and then the jobs are acknowledged in
    Redis. Workers give the storage pipeline no batch limit of its own, so nothing is stored
    without its job being acknowledged right after: a worker killed in between leaves at most
    one batch to be crawled again, never a stored account whose job is lost."""

    def __init__(self, crawler: Crawler, database_url: str | None, transient_retry: timedelta, batch: int) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.transient_retry = transient_retry
        self.batch = max(1, batch)
        self.pending: list[JobDone] = []
        self.storage: StoragePipeline | None = None
        self.timer: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobAckPipeline:
        settings = crawler.settings
        if not settings.get("WANGZI_REDIS_URL"):
            raise NotConfigured  # WANGZI_REDIS_URL not set (no message: Scrapy would log a warning)
        policy = RefreshPolicy.load(settings.get("WANGZI_REFRESH_POLICY") or None)
        return cls(crawler, settings.get("WANGZI_DATABASE_URL") or None, policy.transient_retry,
                   settings.getint("WANGZI_JOB_ACK_BATCH"))

    def open_spider(self, spider: Spider | None = None) -> None:
        pipelines = getattr(getattr(self.crawler.engine, "scraper", None), "itemproc", None)
        self.storage = next((p for p in getattr(pipelines, "middlewares", ()) if isinstance(p, StoragePipeline)), None)
        self.timer = task.LoopingCall(self.flush)
        self.timer.start(0.5, now=False)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, JobDone):
            self.pending.append(item)
            if len(self.pending) >= self.batch:
                self.flush()
        return item

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        done, self.pending = self.pending, []
        if self.storage is not None:
            self.storage.flush()
        leased = [d for d in done if d.lease_owner and d.account_id is not None]
        if leased:
            def work() -> None:
                with session_scope(self.database_url) as session:
                    for d in leased:
                        mark_done(session, d.platform, d.account_id, d.lease_owner,  # type: ignore[arg-type]
                                  d.outcome, self.transient_retry)

            try:
                with_retries(work)
            except Exception:  # noqa: BLE001 - the data is stored; the leases expire on their own
                logger.exception("could not settle the leases of %d accounts", len(leased))
        spider = self.crawler.spider
        for d in done:
            spider.acknowledge(d)  # type: ignore[union-attr]
