"""Distributed crawling on a real redis-server: the reliable job queue, the shared token
bucket across processes, and (with the Bilibili spider) 3 worker processes replaying a
recording - every job done exactly once, the configured rate held, a killed worker's job
finished by another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from crawler.distributed import Job, JobQueue, TokenBucket, busiest_second, enqueue, measured_rate, queue_depths
from crawler.items import AccountRef
from tests.helpers import REPO

pytestmark = pytest.mark.redis


def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def test_a_popped_job_is_in_flight_until_acknowledged(redis_url: str) -> None:
    client = _client(redis_url)
    enqueue(client, [AccountRef("bilibili", platform_user_id=str(n), account_id=n) for n in range(5)], lease_owner="o")
    queue = JobQueue(client, "bilibili", visibility=30)
    first = queue.pop(2)
    assert [Job.loads(j).account["account_id"] for j in first] == [0, 1]
    assert queue_depths(client, ["bilibili"]) == {"bilibili": {"queued": 3, "inflight": 2, "dead": 0}}
    assert queue.ack(first[0]) and not queue.ack(first[0])
    assert queue.outstanding() == 4


def test_a_job_whose_worker_stopped_renewing_goes_back_to_the_head_of_the_queue(redis_url: str) -> None:
    client = _client(redis_url)
    enqueue(client, [AccountRef("bilibili", platform_user_id=str(n), account_id=n) for n in range(3)])
    dying = JobQueue(client, "bilibili", visibility=0.3, max_attempts=2)
    (held,) = dying.pop(1)
    renewing = JobQueue(client, "bilibili", visibility=0.3)
    (kept,) = renewing.pop(1)
    time.sleep(0.2)
    assert renewing.extend([kept.decode()]) == 1
    time.sleep(0.2)
    taken_over = JobQueue(client, "bilibili", visibility=30).pop(1)
    assert [Job.loads(j).account["account_id"] for j in taken_over] == [0]  # the dead worker's job, first
    assert Job.loads(taken_over[0]).attempts == 1
    assert client.zscore("wangzi:bilibili:jobs:inflight", kept) is not None  # still held by its live worker
    del held


def test_a_job_that_keeps_killing_workers_is_parked_as_dead(redis_url: str) -> None:
    client = _client(redis_url)
    enqueue(client, [AccountRef("bilibili", platform_user_id="1", account_id=1)])
    queue = JobQueue(client, "bilibili", visibility=0.05, max_attempts=2)
    for _ in range(3):
        queue.pop(1)
        time.sleep(0.1)
    assert queue.pop(1) == []
    assert queue_depths(client, ["bilibili"])["bilibili"] == {"queued": 0, "inflight": 0, "dead": 1}


HAMMER = """
import sys, time
import redis
from crawler.distributed import TokenBucket
bucket = TokenBucket(redis.Redis.from_url(sys.argv[1]), burst=1)
end = float(sys.argv[2])
sent = 0
while time.time() < end:
    wait = bucket.take("bilibili", float(sys.argv[3]))
    if time.time() + wait >= end:
        break
    time.sleep(wait)
    sent += 1
print(sent)
"""


def test_the_token_bucket_holds_the_rate_across_processes(redis_url: str) -> None:
    rate, seconds = 20.0, 3.0
    start = time.time() + 1.5
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen([sys.executable, "-c", HAMMER, redis_url, str(start + seconds), str(rate)],
                         stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(3)
    ]
    sent = [int(p.communicate(timeout=60)[0]) for p in processes]
    total = sum(sent)
    # Three processes asking as fast as they can still get ~rate per second between them
    # (the bucket started full: +1 burst; they started before `start`, so a little more).
    assert all(n > 0 for n in sent), sent
    assert total <= rate * (seconds + 1.5) + 1
    client = _client(redis_url)
    granted, per_second = measured_rate(client, "bilibili", start, start + seconds)
    assert per_second <= rate + 1, per_second
    assert busiest_second(client, "bilibili", start, start + seconds) <= rate + 1


def test_without_a_rate_the_bucket_never_waits(redis_url: str) -> None:
    bucket = TokenBucket(_client(redis_url))
    assert bucket.take("bilibili", 0) == 0.0
    waits = [bucket.take("weibo", 2.0) for _ in range(3)]
    assert waits[0] == 0.0 and waits[1] == pytest.approx(0.5, abs=0.05) and waits[2] == pytest.approx(1.0, abs=0.05)
