"""Distributed crawling on Redis: a shared job queue fed by ``crawl --due --distributed`` and
consumed by any number of ``wangzi worker`` processes, and a per-platform rate limit that
holds across all of them.

The queue is scrapy-redis's: every platform spider is run as a scrapy-redis
:class:`~scrapy_redis.spiders.RedisMixin` spider that reads JSON jobs (one per account)
from ``wangzi:<platform>:jobs`` (``REDIS_START_URLS_KEY``) whenever it is idle. Two things
are added around it:

* **a compatibility shim** for Scrapy 2.13+'s ``async start()`` (scrapy-redis 0.9 only
  implements ``start_requests``), and
* **reliable fetching**: a job is not simply popped, it is moved atomically (Lua) into an
  in-flight sorted set with a deadline; the worker renews the deadline while it works and
  removes the job (ack) once the account's items are stored. Jobs of a worker that died
  pass their deadline and are put back at the head of the queue by any other worker
  (after ``WANGZI_JOB_MAX_ATTEMPTS`` they go to ``wangzi:<platform>:jobs:dead``).

Politeness across machines: :class:`RedisRateLimitMiddleware` takes every request's slot
from a token bucket in Redis (one per platform, updated by a Lua script using Redis's
clock), so adding workers never raises the request rate above ``WANGZI_RATE_LIMITS``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request
from scrapy_redis.spiders import RedisMixin

from records import AccountRef, FailureItem, ProfileItem

logger = logging.getLogger(__name__)

#: scrapy-redis start-URL key for each platform spider (``%(name)s`` is the spider name).
JOBS_KEY = "wangzi:%(name)s:jobs"


def jobs_key(platform: str) -> str:
    return JOBS_KEY % {"name": platform}


def inflight_key(platform: str) -> str:
    return jobs_key(platform) + ":inflight"


def dead_key(platform: str) -> str:
    return jobs_key(platform) + ":dead"


def rate_key(platform: str) -> str:
    return f"wangzi:rate:{platform}"


def redis_client(url: str) -> Any:
    """A client the way scrapy-redis makes one (``REDIS_URL``), checked with a ping."""
    from scrapy_redis.connection import get_redis

    client = get_redis(url=url)
    client.ping()
    return client


# --------------------------------------------------------------------------- Lua scripts

#: Move up to ARGV[1] jobs from the queue to the in-flight set, due back after ARGV[2] ms.
_POP = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local n = tonumber(ARGV[1])
local items = redis.call('LRANGE', KEYS[1], 0, n - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  for _, item in ipairs(items) do
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), item)
  end
end
return items
"""

#: Put in-flight jobs whose deadline passed back at the head of the queue (attempts + 1);
#: beyond ARGV[2] attempts they go to the dead-letter list; KEYS[4] counts them. Returns how
#: many were moved.
_REQUEUE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, item in ipairs(expired) do
  redis.call('ZREM', KEYS[2], item)
  local job = cjson.decode(item)
  redis.call('INCR', KEYS[4])
  job['attempts'] = (tonumber(job['attempts']) or 0) + 1
  if job['attempts'] > tonumber(ARGV[2]) then
    redis.call('RPUSH', KEYS[3], cjson.encode(job))
  else
    redis.call('LPUSH', KEYS[1], cjson.encode(job))
  end
end
return #expired
"""

#: Push back the deadline (now + ARGV[1] ms) of the given in-flight jobs still held.
_EXTEND = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local renewed = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i])
    renewed = renewed + 1
  end
end
return renewed
"""

#: Token bucket with reservations: take one token (the balance may go negative) and return
#: how long the caller must wait for it, in seconds, as a string (Lua numbers are truncated
#: to integers when returned). ARGV: rate per second, burst. Counts grants per second of
#: their send time under KEYS[2]:<second> for measuring the real rate across workers.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + (now - ts) * rate) - 1
local wait = 0
if tokens < 0 then wait = -tokens / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 60)
local second = KEYS[2] .. ':' .. math.floor(now + wait)
redis.call('INCR', second)
redis.call('EXPIRE', second, 86400)
return tostring(wait)
"""


# --------------------------------------------------------------------------- jobs


@dataclass
class Job:
    """One account to crawl, as queued in Redis (JSON)."""

    id: str
    platform: str
    account: dict[str, Any]
    lease_owner: str | None = None
    attempts: int = 0
    queued_at: str | None = None  # ISO 8601 UTC

    @classmethod
    def for_account(cls, ref: AccountRef, lease_owner: str | None = None) -> "Job":
        from storage.models import utcnow

        return cls(id=uuid.uuid4().hex, platform=ref.platform, account=asdict(ref), lease_owner=lease_owner,
                   queued_at=utcnow().isoformat())

    @classmethod
    def loads(cls, data: bytes | str) -> "Job":
        raw = json.loads(data)
        return cls(
            id=str(raw["id"]), platform=str(raw["platform"]), account=dict(raw["account"]),
            lease_owner=raw.get("lease_owner") or None, attempts=int(raw.get("attempts") or 0),
            queued_at=raw.get("queued_at") or None,
        )

    def dumps(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    def ref(self) -> AccountRef:
        fields = {k: self.account.get(k) for k in ("handle", "platform_user_id", "account_id")}
        return AccountRef(platform=self.platform, **fields)


def enqueue(client: Any, refs: Iterable[AccountRef], lease_owner: str | None = None) -> dict[str, int]:
    """Queue one job per account at the tail of its platform's queue; counts per platform."""
    counts: dict[str, int] = {}
    with client.pipeline(transaction=False) as pipe:
        pending = 0
        for ref in refs:
            pipe.rpush(jobs_key(ref.platform), Job.for_account(ref, lease_owner).dumps())
            counts[ref.platform] = counts.get(ref.platform, 0) + 1
            pending += 1
            if pending >= 1000:
                pipe.execute()
                pending = 0
        pipe.execute()
    return counts


def queue_depths(client: Any, platforms: Iterable[str]) -> dict[str, dict[str, int]]:
    """Per platform: jobs waiting, in flight, dead, and how many were ever taken over
    from a worker that stopped renewing them."""
    return {
        p: {"queued": client.llen(jobs_key(p)), "inflight": client.zcard(inflight_key(p)), "dead": client.llen(dead_key(p)),
            "requeued": int(client.get(jobs_key(p) + ":requeued") or 0)}
        for p in platforms
    }


def measured_rate(client: Any, platform: str, start: float, end: float) -> tuple[int, float]:
    """Requests granted by the shared limiter for sends in whole seconds [start, end)
    and their rate per second."""
    seconds = list(range(int(start), int(end)))
    if not seconds:
        return 0, 0.0
    values = client.mget([f"{rate_key(platform)}:sent:{s}" for s in seconds])
    total = sum(int(v) for v in values if v is not None)
    return total, total / len(seconds)


def busiest_second(client: Any, platform: str, start: float, end: float) -> int:
    seconds = list(range(int(start), int(end) + 1))
    values = client.mget([f"{rate_key(platform)}:sent:{s}" for s in seconds]) if seconds else []
    return max((int(v) for v in values if v is not None), default=0)


class JobQueue:
    """One platform's reliable job queue in Redis (the scrapy-redis start-URL list plus an
    in-flight sorted set): pop moves jobs in flight, ack removes them, extend renews their
    deadline, requeue_expired gives the jobs of dead workers back."""

    def __init__(self, client: Any, platform: str, visibility: float = 120.0, max_attempts: int = 3) -> None:
        self.client = client
        self.key = jobs_key(platform)
        self.visibility_ms = int(visibility * 1000)
        self.max_attempts = max_attempts
        self._pop = client.register_script(_POP)
        self._requeue = client.register_script(_REQUEUE)
        self._extend = client.register_script(_EXTEND)

    def pop(self, count: int) -> list[bytes]:
        self.requeue_expired()
        return list(self._pop(keys=[self.key, self.key + ":inflight"], args=[count, self.visibility_ms]))

    def requeue_expired(self) -> int:
        keys = [self.key, self.key + ":inflight", self.key + ":dead", self.key + ":requeued"]
        return int(self._requeue(keys=keys, args=[1000, self.max_attempts]))

    def ack(self, job: bytes | str) -> bool:
        return bool(self.client.zrem(self.key + ":inflight", job))

    def extend(self, jobs: list[str]) -> int:
        renewed = 0
        for start in range(0, len(jobs), 500):
            renewed += int(self._extend(keys=[self.key + ":inflight"], args=[self.visibility_ms, *jobs[start : start + 500]]))
        return renewed

    def outstanding(self) -> int:
        """Jobs queued or in flight: work that may still need a worker."""
        return int(self.client.llen(self.key)) + int(self.client.zcard(self.key + ":inflight"))


class TokenBucket:
    """The shared per-platform rate limit: ``take`` reserves the next request slot and says
    how many seconds to wait for it (Redis's clock, so every machine agrees)."""

    def __init__(self, client: Any, burst: float = 1.0) -> None:
        self.client = client
        self.burst = max(float(burst), 1.0)
        self._take = client.register_script(_TAKE)

    def take(self, platform: str, rate: float) -> float:
        if rate <= 0:
            return 0.0
        return float(self._take(keys=[rate_key(platform), rate_key(platform) + ":sent"], args=[rate, self.burst]))


# --------------------------------------------------------------------------- the worker spider


@dataclass
class JobDone:
    """Item yielded after an account's items: stored -> acknowledge the job and settle its lease."""

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
            spider.server, spider.platform, settings.getfloat("WANGZI_JOB_VISIBILITY", 120.0),
            settings.getint("WANGZI_JOB_MAX_ATTEMPTS", 3),
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
        chain = self.sources(ref)  # type: ignore[attr-defined]
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
        from datetime import datetime

        from crawler.schedule import RefreshPolicy
        from storage.db import session_scope
        from storage.leases import mark_done, outcomes_since

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
        from twisted.internet import task

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


class JobAckPipeline:
    """Last item pipeline in workers: acknowledges jobs only once their items are stored.

    Finished jobs (:class:`JobDone`) are collected; every ``WANGZI_JOB_ACK_BATCH`` jobs, every
    half second and when the spider closes, the storage pipeline is flushed (one transaction
    for the whole batch), the jobs' leases are settled, and then the jobs are acknowledged in
    Redis. Workers give the storage pipeline no batch limit of its own, so nothing is stored
    without its job being acknowledged right after: a worker killed in between leaves at most
    one batch to be crawled again, never a stored account whose job is lost."""

    def __init__(self, crawler: Crawler) -> None:
        from crawler.schedule import RefreshPolicy

        self.crawler = crawler
        self.database_url = crawler.settings.get("WANGZI_DATABASE_URL") or None
        self.transient_retry = RefreshPolicy.load(crawler.settings.get("WANGZI_REFRESH_POLICY") or None).transient_retry
        self.batch = max(1, crawler.settings.getint("WANGZI_JOB_ACK_BATCH", 50))
        self.pending: list[JobDone] = []
        self.storage: Any = None
        self.timer: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "JobAckPipeline":
        if not crawler.settings.get("WANGZI_REDIS_URL"):
            raise NotConfigured  # WANGZI_REDIS_URL not set (no message: Scrapy would log a warning)
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        from twisted.internet import task

        from crawler.pipelines import StoragePipeline

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
            from crawler.schedule import with_retries
            from storage.db import session_scope
            from storage.leases import mark_done

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


# --------------------------------------------------------------------------- shared rate limit


class RedisRateLimitMiddleware:
    """Downloader middleware: every request waits for its platform's shared token bucket.

    ``WANGZI_RATE_LIMITS`` maps platform -> requests per second (``"*"`` for the others; 0 or
    a missing entry means no limit); ``WANGZI_RATE_BURST`` is the bucket size. Enabled when
    ``WANGZI_REDIS_URL`` is set (workers); the limit is then shared by every worker."""

    def __init__(self, crawler: Crawler, client: Any, limits: dict[str, float], burst: float) -> None:
        self.crawler = crawler
        self.limits = limits
        self.bucket = TokenBucket(client, burst)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "RedisRateLimitMiddleware":
        url = crawler.settings.get("WANGZI_REDIS_URL")
        if not url:
            raise NotConfigured  # WANGZI_REDIS_URL not set (no message: Scrapy would log a warning)
        limits = {str(k): float(v) for k, v in crawler.settings.getdict("WANGZI_RATE_LIMITS").items()}
        return cls(crawler, redis_client(url), limits, crawler.settings.getfloat("WANGZI_RATE_BURST", 1.0))

    def rate_for(self, platform: str) -> float:
        return self.limits.get(platform, self.limits.get("*", 0.0))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        spider = self.crawler.spider
        platform = getattr(spider, "platform", None) or getattr(spider, "name", "unknown")
        rate = self.rate_for(platform)
        if rate <= 0:
            return None
        wait = self.bucket.take(platform, rate)
        if wait > 0:
            self.crawler.stats.inc_value("wangzi/rate_limit_wait_ms", int(wait * 1000))
            await asyncio.sleep(wait)
        return None


# --------------------------------------------------------------------------- running a worker


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
    from scrapy.crawler import CrawlerProcess
    from scrapy.spiderloader import SpiderLoader

    from crawler.runner import REPLAY_SETTINGS, crawl_settings
    from storage.db import database_url as resolve_url
    from storage.db import session_scope
    from storage.runs import finish_run, start_run

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
        from crawler.replay import Recording

        Recording.load(replay)
        values.update(REPLAY_SETTINGS)
        values["WANGZI_REPLAY"] = str(replay)
    values.update(overrides or {})
    settings = crawl_settings(values)
    if settings.getbool("WANGZI_LOG_JSON"):
        from crawler.logging import install_json_logging

        settings.set("LOG_ENABLED", False, priority="cmdline")
        install_json_logging(settings.get("LOG_LEVEL", "INFO"))
    process = CrawlerProcess(settings, install_root_handler=True)
    loader = SpiderLoader.from_settings(settings)
    crawlers = []
    for platform in platforms:
        crawler = process.create_crawler(worker_spider(loader.load(platform)))
        crawlers.append(crawler)
        process.crawl(crawler, targets=[])
    status = "finished"
    try:
        process.start()
        if any(c.stats.get_value("finish_reason") not in {"finished", "shutdown"} for c in crawlers):
            status = "interrupted"
    except BaseException:
        status = "failed"
        raise
    finally:
        with session_scope(url) as session:
            finish_run(session, run_id, status)
    return run_id


def enqueue_due(
    redis_url: str,
    database_url: str | None,
    platforms: list[str],
    *,
    policy: Any,
    candidate_ids: list[int] | None = None,
    limit: int | None = None,
) -> dict[str, int]:
    """Claim the due accounts (leases held ``distributed_ttl``, settled by the workers as
    they finish) and queue one job per account; returns jobs queued per platform."""
    from crawler.schedule import claim_due, new_lease_owner

    client = redis_client(redis_url)
    owner = new_lease_owner(process=False)
    claimed = claim_due(database_url, policy, platforms, owner=owner, candidate_ids=candidate_ids, limit=limit,
                        ttl=policy.distributed_ttl)
    counts = enqueue(client, [ref for refs in claimed.accounts.values() for ref in refs], lease_owner=owner)
    return {p: counts.get(p, 0) for p in platforms}
