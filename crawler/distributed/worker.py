"""The worker: platform spiders that take their accounts from Redis jobs, and the process
``wangzi worker`` runs them in."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Request
from scrapy.spiderloader import SpiderLoader
from scrapy_redis.spiders import RedisMixin
from twisted.internet import task

from crawler.distributed.connection import redis_client
from crawler.distributed.job_queue import JOBS_KEY, Job, JobQueue
from crawler.logging import install_json_logging
from crawler.replay import Recording
from crawler.runner import REPLAY_SETTINGS, RunHeartbeat, crawl_settings
from crawler.schedule import RefreshPolicy
from records import AccountRef, FailureItem, ProfileItem
from storage.db import database_url as resolve_url
from storage.db import session_scope
from storage.leases import mark_done, outcomes_since
from storage.runs import finish_run, start_run

logger = logging.getLogger(__name__)


@dataclass
class JobDone:
    """Item yielded after an account's items: stored -> acknowledge the job and settle its lease
    (:class:`~crawler.pipelines.job_ack.JobAckPipeline`)."""

    job: str  # the JSON exactly as held in the in-flight set
    platform: str
    account_id: int | None
    lease_owner: str | None
    outcome: str  # snapshot | <failure kind> | nothing


class DistributedMixin(RedisMixin):
    """Makes an :class:`~spiders.base.AccountSpider` read its accounts from Redis jobs.

    scrapy-redis's ``RedisMixin`` does the feeding (on ``spider_idle``); this mixin supplies
    reliable fetching, the ``async start()`` shim and the job -> request translation."""

    redis_batch_size: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup_redis(crawler)
        settings = crawler.settings
        spider.jobs = JobQueue(
            spider.server, spider.platform, settings.getfloat("WANGZI_JOB_VISIBILITY"),
            settings.getint("WANGZI_JOB_MAX_ATTEMPTS"),
        )
        spider.spider_idle_start_time = int(time.time())
        spider._held: dict[tuple[Any, ...], str] = {}
        spider.fetch_data = lambda key, batch_size: spider.jobs.pop(batch_size)
        spider.count_size = lambda key: spider.jobs.outstanding()
        spider._beat = None
        crawler.signals.connect(spider._start_heartbeat, signal=signals.spider_opened)
        crawler.signals.connect(spider._stop_heartbeat, signal=signals.spider_closed)
        return spider

    # -- scrapy-redis hooks

    async def start(self) -> AsyncIterator[Any]:
        """Scrapy 2.13+ entry point (scrapy-redis 0.9 only has ``start_requests``).

        Runs the platform spider's own start (a prelude such as Bilibili's WBI key lookup;
        its account list is empty in a worker) and nothing else: jobs are fetched when the
        spider first goes idle, i.e. once the prelude is done."""
        async for output in super().start():  # type: ignore[misc]
            yield output

    def make_request_from_data(self, data: bytes) -> Request | list[Request]:
        text = data.decode(self.redis_encoding) if isinstance(data, bytes) else data
        try:
            job = Job.loads(text)
        except (ValueError, KeyError, TypeError) as exc:
            self.logger.error("dropping malformed job %r: %s", text[:200], exc)
            self.jobs.ack(text)
            return []
        ref = job.ref()
        if job.attempts and self._stored_before(job, text):
            return []
        if job.kinds and ref.account_id is not None:
            if self._due is None:  # type: ignore[has-type]
                self._due = {}
            self._due[ref.account_id] = frozenset(job.kinds)
        chain = self.planned_sources(ref)  # type: ignore[attr-defined]
        if not chain:
            self.jobs.ack(text)
            return []
        self._held[_ref_key(ref)] = text
        self.crawler.stats.inc_value("wangzi/jobs_started")
        return self._request(ref, chain, 0, [])  # type: ignore[attr-defined]

    def _stored_before(self, job: Job, text: str) -> bool:
        """A redelivered job whose account already has data stored since it was queued: the
        worker that died had stored it and not yet acknowledged it. Acknowledge, do not redo."""
        account_id = job.account.get("account_id")
        if account_id is None or not job.queued_at:
            return False
        database_url = self.crawler.settings.get("WANGZI_DATABASE_URL") or None
        with session_scope(database_url) as session:
            outcome = outcomes_since(session, [account_id], datetime.fromisoformat(job.queued_at)).get(account_id)
            if outcome is None:
                return False
            if job.lease_owner:
                retry = RefreshPolicy.load(self.crawler.settings.get("WANGZI_REFRESH_POLICY") or None).transient_retry
                mark_done(session, job.platform, account_id, job.lease_owner, outcome, retry)
        self.logger.info("job for account %s was stored before its worker died (%s): acknowledged", account_id, outcome)
        self.jobs.ack(text)
        self.crawler.stats.inc_value("wangzi/jobs_already_stored")
        return True

    # -- acknowledging

    def finish_account(self, account: AccountRef, results: list[tuple[Any, ...]]) -> Iterator[Any]:
        outcome = "nothing"
        for item in super().finish_account(account, results):  # type: ignore[misc]
            if isinstance(item, ProfileItem):
                outcome = "snapshot"
            elif isinstance(item, FailureItem) and outcome == "nothing":
                outcome = item.failure.kind.value
            yield item
        job = self._held.get(_ref_key(account))
        if job is not None:
            yield JobDone(job=job, platform=account.platform, account_id=account.account_id,
                          lease_owner=Job.loads(job).lease_owner, outcome=outcome)

    def acknowledge(self, done: JobDone) -> None:
        self.jobs.ack(done.job)
        key = (done.platform, done.account_id, *_identity(done.job))
        if self._held.get(key) == done.job:
            del self._held[key]
        else:
            for held_key, value in list(self._held.items()):
                if value == done.job:
                    del self._held[held_key]
        self.crawler.stats.inc_value("wangzi/jobs_done")

    # -- keeping held jobs

    def _start_heartbeat(self, spider: Spider) -> None:
        self._beat = task.LoopingCall(lambda: self.jobs.extend(list(self._held.values())))
        self._beat.start(max(self.jobs.visibility_ms / 3000, 0.5), now=False)

    def _stop_heartbeat(self, spider: Spider) -> None:
        if self._beat is not None and self._beat.running:
            self._beat.stop()


def _ref_key(ref: AccountRef) -> tuple[Any, ...]:
    return (ref.platform, ref.account_id, ref.handle, ref.platform_user_id)


def _identity(job: str) -> tuple[Any, Any]:
    account = Job.loads(job).account
    return account.get("handle"), account.get("platform_user_id")


def worker_spider(base: type) -> type:
    """The platform spider class made to consume Redis jobs."""
    return type(f"{base.__name__}Worker", (DistributedMixin, base), {"redis_key": JOBS_KEY % {"name": base.name}})


def run_worker(
    redis_url: str,
    platforms: list[str],
    *,
    database_url: str | None = None,
    replay: str | Path | None = None,
    max_idle: int = 0,
    overrides: dict[str, Any] | None = None,
) -> int:
    """Consume jobs for the platforms until stopped (or idle ``max_idle`` seconds with nothing
    queued or in flight anywhere). One ``CrawlRun`` (trigger ``worker``); returns its id."""
    redis_client(redis_url)  # fail early, with a clear message, when Redis is unreachable
    url = resolve_url(database_url)
    with session_scope(url) as session:
        run_id = start_run(session, "worker").id
    values: dict[str, Any] = {
        "WANGZI_RUN_ID": run_id, "WANGZI_DATABASE_URL": url, "WANGZI_TRIGGER": "worker",
        "WANGZI_REDIS_URL": redis_url, "REDIS_URL": redis_url,
        "REDIS_START_URLS_KEY": JOBS_KEY, "MAX_IDLE_TIME_BEFORE_CLOSE": max_idle,
        # The job-ack pipeline flushes storage and then acknowledges, batch by batch.
        "WANGZI_STORAGE_BATCH": 1_000_000,
    }
    if replay:
        Recording.load(replay)
        values.update(REPLAY_SETTINGS)
        values["WANGZI_REPLAY"] = str(replay)
    values.update(overrides or {})
    settings = crawl_settings(values)
    if settings.getbool("WANGZI_LOG_JSON"):
        settings.set("LOG_ENABLED", False, priority="cmdline")
        install_json_logging(settings.get("LOG_LEVEL"))
    process = CrawlerProcess(settings, install_root_handler=True)
    loader = SpiderLoader.from_settings(settings)
    crawlers = []
    for platform in platforms:
        crawler = process.create_crawler(worker_spider(loader.load(platform)))
        crawlers.append(crawler)
        process.crawl(crawler, targets=[])
    heartbeat = RunHeartbeat(url, run_id)  # a worker killed on another host is told apart from a busy one
    status = "finished"
    try:
        heartbeat.start()
        process.start()
        if any(c.stats.get_value("finish_reason") not in {"finished", "shutdown"} for c in crawlers):
            status = "interrupted"
    except BaseException:
        status = "failed"
        raise
    finally:
        heartbeat.stop()
        with session_scope(url) as session:
            finish_run(session, run_id, status)
    return run_id
