"""Item pipelines: validate what spiders yield, then store it.

``ValidationPipeline`` turns an item that breaks the data rules (a negative count, a
country that is not an ISO code, ...) into an ``unrecognized`` failure instead of
storing it: a parser that started reading garbage must show up as failures, not as
numbers. ``StoragePipeline`` writes snapshots, posts, links and failures in batches,
idempotently, and keeps the run's per-platform statistics.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import replace
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from records import COUNT_FIELDS, Failure, FailureItem, FailureKind, PostsItem, ProfileItem

logger = logging.getLogger(__name__)

_ISO2 = re.compile(r"^[A-Z]{2}$")


def profile_problems(item: ProfileItem) -> list[str]:
    """What is wrong with a profile item (empty when it may be stored)."""
    profile = item.profile
    problems = []
    for name in COUNT_FIELDS:
        value = getattr(profile, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            problems.append(f"{name}={value!r} is not a non-negative integer")
    for name in (*profile.approximate, *profile.lower_bound):
        if name not in COUNT_FIELDS:
            problems.append(f"approximate/lower_bound names unknown field {name!r}")
        elif getattr(profile, name) is None:
            problems.append(f"{name} is flagged approximate but has no value")
    if profile.country is not None and not _ISO2.match(profile.country):
        problems.append(f"country={profile.country!r} is not an ISO 3166-1 alpha-2 code")
    if profile.handle is not None and profile.handle.startswith("@"):
        problems.append("handle starts with '@'")
    if profile.ip_location is not None and "属地" in profile.ip_location:
        problems.append("ip_location still carries the IP属地 prefix")
    if profile.platform != item.account.platform:
        problems.append(f"profile platform {profile.platform!r} != account platform {item.account.platform!r}")
    if all(getattr(profile, f) is None for f in (*COUNT_FIELDS, "display_name", "handle", "platform_user_id")):
        problems.append("the profile holds no data at all")
    return problems


class ValidationPipeline:
    """Check profile and post items against the data rules before anything is stored."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ValidationPipeline":
        return cls(crawler)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, ProfileItem):
            problems = profile_problems(item)
            if problems:
                self.crawler.stats.inc_value("wangzi/invalid_items")
                detail = "invalid profile: " + "; ".join(problems)
                logger.warning("%s %s", item.provenance.source_url, detail)
                return FailureItem(
                    account=item.account,
                    failure=Failure(FailureKind.UNRECOGNIZED, detail[:300], item.provenance.http_status),
                    url=item.provenance.source_url,
                )
        elif isinstance(item, PostsItem):
            good = tuple(
                p for p in item.posts
                if all(getattr(p, f) is None or (isinstance(getattr(p, f), int) and getattr(p, f) >= 0)
                       for f in ("likes", "comments", "shares", "views"))
            )
            if len(good) != len(item.posts):
                self.crawler.stats.inc_value("wangzi/invalid_posts", len(item.posts) - len(good))
                item = replace(item, posts=good)
        return item


class StoragePipeline:
    """Persist items into the database, ``WANGZI_STORAGE_BATCH`` at a time.

    The run is ``WANGZI_RUN_ID`` when the CLI created it, otherwise one is created here
    (``scrapy crawl``) and finished when the spider closes. A batch that fails to store
    is logged with its error and counted in ``wangzi/storage_errors``; the crawl goes on.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.database_url = settings.get("WANGZI_DATABASE_URL") or None
        self.run_id: int | None = settings.getint("WANGZI_RUN_ID") or None
        self.owns_run = self.run_id is None
        self.trigger = settings.get("WANGZI_TRIGGER", "manual")
        self.batch_size = max(1, settings.getint("WANGZI_STORAGE_BATCH", 200))
        self.buffer: list[Any] = []
        self.counts: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        # Accounts that yielded anything / a profile: the run's parse success rate (crawl health).
        self.accounts: set[tuple[Any, ...]] = set()
        self.accounts_ok: set[tuple[Any, ...]] = set()
        # Items the database would not take after retries go to dead-letter files (crawler/deadletter.py).
        from crawler.deadletter import DEFAULT_DIR, DeadLetterBox

        self.dead_letters = DeadLetterBox(settings.get("WANGZI_DEAD_LETTER_DIR") or DEFAULT_DIR)
        self.storage_retries = max(1, settings.getint("WANGZI_STORAGE_RETRIES", 3))
        self.storage_retry_delay = settings.getfloat("WANGZI_STORAGE_RETRY_DELAY", 0.5)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "StoragePipeline":
        pipeline = cls(crawler)
        # The finish reason is only known after pipelines close: finish the run on the signal.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    # ------------------------------------------------------------------ lifecycle

    def open_spider(self, spider: Spider | None = None) -> None:
        from storage.db import session_scope
        from storage.runs import start_run

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
        from storage.db import session_scope
        from storage.models import CrawlRun

        platform = getattr(self.crawler.spider, "platform", None) or getattr(self.crawler.spider, "name", "unknown")
        stats = self.crawler.stats
        with session_scope(self.database_url) as session:
            run = session.get(CrawlRun, self.run_id)
            if run is not None:
                merged = dict(run.stats or {})
                merged[platform] = {
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
                }
                run.stats = merged
                session.add(run)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if not self.owns_run or self.run_id is None:
            return
        from storage.db import session_scope
        from storage.runs import finish_run

        with session_scope(self.database_url) as session:
            finish_run(session, self.run_id, "finished" if reason == "finished" else "interrupted")

    # ------------------------------------------------------------------ writing

    def flush(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        from storage.db import session_scope
        from storage.writer import write_items

        import time

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
        from storage.db import session_scope
        from storage.writer import write_items

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
