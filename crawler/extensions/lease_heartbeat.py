"""Keep a running ``crawl --due``'s leases: renewed every ttl/3, so only a crawl that died
loses them (crawler/schedule.py claims and settles them)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from storage.db import session_scope
from storage.leases import renew

logger = logging.getLogger(__name__)


class LeaseHeartbeat:
    """Scrapy extension: while a ``crawl --due`` runs, renew its leases every ttl/3, so only a
    crawl that died loses them. Enabled by ``WANGZI_LEASE_OWNER`` (set by the CLI); the leases
    last ``WANGZI_LEASE_TTL`` seconds."""

    def __init__(self, crawler: Crawler, owner: str, ttl: float, database_url: str | None) -> None:
        self.crawler = crawler
        self.owner = owner
        self.ttl = timedelta(seconds=ttl)
        self.database_url = database_url
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseHeartbeat:
        settings = crawler.settings
        owner = settings.get("WANGZI_LEASE_OWNER")
        if not owner:
            raise NotConfigured  # WANGZI_LEASE_OWNER not set (no message: Scrapy would log a warning)
        extension = cls(crawler, owner, settings.getfloat("WANGZI_LEASE_TTL"), settings.get("WANGZI_DATABASE_URL") or None)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.task = task.LoopingCall(self.beat)
        self.task.start(max(self.ttl.total_seconds() / 3, 0.5), now=False)

    def beat(self) -> None:
        try:
            with session_scope(self.database_url) as session:
                renewed = renew(session, self.owner, self.ttl)
            logger.debug("renewed %d leases of %s", renewed, self.owner)
        except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
            logger.exception("could not renew leases of %s", self.owner)

    def spider_closed(self, spider: Spider) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
