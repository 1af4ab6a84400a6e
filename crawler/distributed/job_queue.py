"""Crawl jobs in Redis and the reliable queue that holds them.

A job is one account to crawl (JSON). Each platform's queue is the scrapy-redis start-URL
list ``wangzi:<platform>:jobs`` plus an in-flight sorted set: popping moves jobs in flight
with a deadline, acknowledging removes them, renewing pushes the deadline back, and jobs whose
deadline passed (their worker died) go back to the head of the queue, or after too many
deliveries to ``wangzi:<platform>:jobs:dead``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from records import AccountRef
from storage.models import utcnow

#: scrapy-redis start-URL key for each platform spider (``%(name)s`` is the spider name).
JOBS_KEY = "wangzi:%(name)s:jobs"


def jobs_key(platform: str) -> str:
    return JOBS_KEY % {"name": platform}


def inflight_key(platform: str) -> str:
    return jobs_key(platform) + ":inflight"


def dead_key(platform: str) -> str:
    return jobs_key(platform) + ":dead"


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
    kinds: list[str] | None = None  # the refresh kinds due (None: everything)

    @classmethod
    def for_account(cls, ref: AccountRef, lease_owner: str | None = None, kinds: Any = None) -> Job:
        return cls(id=uuid.uuid4().hex, platform=ref.platform, account=asdict(ref), lease_owner=lease_owner,
                   queued_at=utcnow().isoformat(), kinds=sorted(kinds) if kinds else None)

    @classmethod
    def loads(cls, data: bytes | str) -> Job:
        raw = json.loads(data)
        return cls(
            id=str(raw["id"]), platform=str(raw["platform"]), account=dict(raw["account"]),
            lease_owner=raw.get("lease_owner") or None, attempts=int(raw.get("attempts") or 0),
            queued_at=raw.get("queued_at") or None, kinds=raw.get("kinds") or None,
        )

    def dumps(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    def ref(self) -> AccountRef:
        fields = {k: self.account.get(k) for k in ("handle", "platform_user_id", "account_id")}
        return AccountRef(platform=self.platform, **fields)


def queue_depths(client: Any, platforms: Iterable[str]) -> dict[str, dict[str, int]]:
    """Per platform: jobs waiting, in flight, dead, and how many were ever taken over
    from a worker that stopped renewing them."""
    return {
        p: {"queued": client.llen(jobs_key(p)), "inflight": client.zcard(inflight_key(p)), "dead": client.llen(dead_key(p)),
            "requeued": int(client.get(jobs_key(p) + ":requeued") or 0)}
        for p in platforms
    }


class JobQueue:
    """One platform's reliable job queue in Redis (the scrapy-redis start-URL list plus an
    in-flight sorted set): pop moves jobs in flight, ack removes them, extend renews their
    deadline, requeue_expired gives the jobs of dead workers back.

    ``visibility``: seconds a job may be held without renewing it (``WANGZI_JOB_VISIBILITY``);
    ``max_attempts``: deliveries before it is parked as dead (``WANGZI_JOB_MAX_ATTEMPTS``)."""

    def __init__(self, client: Any, platform: str, visibility: float, max_attempts: int) -> None:
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
