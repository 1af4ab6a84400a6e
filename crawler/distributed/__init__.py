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

Politeness across machines: :class:`~crawler.middlewares.rate_limit.RedisRateLimitMiddleware`
takes every request's slot from a token bucket in Redis (one per platform, updated by a Lua
script using Redis's clock), so adding workers never raises the request rate above
``WANGZI_RATE_LIMITS``.

Modules: ``connection`` (the Redis client), ``job_queue`` (jobs and the reliable queue),
``enqueue`` (queueing due accounts), ``token_bucket`` (the shared rate limit), ``worker``
(the worker spider and process). The Scrapy components that use them are
:class:`~crawler.pipelines.job_ack.JobAckPipeline` and ``RedisRateLimitMiddleware``.
"""
