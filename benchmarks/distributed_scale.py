"""Distributed crawling at scale: jobs per second with 1, 2 and 4 ``wangzi worker`` processes,
and the shared rate limit measured against the configured one.

    python benchmarks/distributed_scale.py                 # 10,000 lookups, workers 1 2 4
    python benchmarks/distributed_scale.py --jobs 2000 --workers 1 2

Everything is real and local: a ``redis-server`` started on loopback (or ``--redis URL``),
the Bilibili spider (Instagram until Bilibili's lands; ``--platform``) replaying a recording
built from its ``tests/fixtures`` (each worker serves it on its own loopback port), and a SQLite database (or ``--database-url``). Each
round queues ``--jobs`` account lookups and times the workers from start until the last job
is acknowledged (rate limit off). The limited round then runs ``--limited-jobs`` lookups on
``--limited-workers`` workers with a shared limit of ``--rate`` requests/s and reports the
rate measured from the limiter's per-second counters in Redis. Results go to stdout; record
them in BENCHMARKS.md with the command.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def register(database_url: str, platform: str, count: int) -> list[Any]:
    """``count`` candidates with one account each on the platform, inserted in bulk."""
    from sqlmodel import select

    from records import AccountRef
    from storage.db import session_scope
    from storage.models import Account, Candidate, utcnow
    from storage.candidates import account_refs
    from tests.ops_recording import account_ref

    with session_scope(database_url) as session:
        if session.exec(select(Account).limit(1)).first() is None:
            now = utcnow()
            candidates = [Candidate(display_name=f"bench {n}", created_at=now, updated_at=now) for n in range(count)]
            session.add_all(candidates)
            session.flush()
            for n, candidate in enumerate(candidates):
                ref = account_ref(platform, 500000 + n)
                session.add(Account(candidate_id=candidate.id, platform=platform, handle=ref.handle,
                                    platform_user_id=ref.platform_user_id))
    with session_scope(database_url) as session:
        refs = account_refs(session, platform)
    assert len(refs) >= count, "the database holds fewer accounts than --jobs"
    return [AccountRef(r.platform, r.handle, r.platform_user_id, r.account_id) for r in refs[:count]]


def reset_queue(client: Any) -> None:
    for key in client.scan_iter("wangzi:*"):
        client.delete(key)


def run_round(client: Any, redis_url: str, database_url: str, har: Path, platform: str, refs: list[Any], workers: int,
              rate: float | None, log_dir: Path) -> dict[str, float]:
    from crawler.distributed.enqueue import enqueue
    from crawler.distributed.job_queue import queue_depths
    from crawler.distributed.token_bucket import measured_rate

    reset_queue(client)
    enqueue(client, refs)
    limits = f'{{"{platform}": {rate}}}' if rate else '{"*": 0}'
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "crawler.cli", "worker", "--redis", redis_url, "-p", platform, "--replay", str(har),
               "--max-idle", "2", "-s", f"WANGZI_RATE_LIMITS={limits}"]
    started = time.time()
    processes = [
        subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                         stderr=open(log_dir / f"worker-{workers}-{n}.log", "w"))  # noqa: SIM115
        for n in range(workers)
    ]
    while True:
        depth = queue_depths(client, [platform])[platform]
        if depth["queued"] == 0 and depth["inflight"] == 0:
            break
        if all(p.poll() is not None for p in processes):
            raise SystemExit(f"workers exited with jobs left: {depth}; see {log_dir}")
        time.sleep(0.05)
    done = time.time()
    for process in processes:
        process.wait(timeout=120)
    result = {"workers": workers, "jobs": len(refs), "seconds": done - started, "jobs_per_s": len(refs) / (done - started)}
    if rate:
        seconds = [s for s in range(int(started), int(done) + 1) if client.get(f"wangzi:rate:{platform}:sent:{s}")]
        granted, _ = measured_rate(client, platform, seconds[0], seconds[-1] + 1)
        # Whole seconds from the first to the last request; the first and last are partial.
        inner, inner_rate = measured_rate(client, platform, seconds[0] + 1, seconds[-1])
        values = [int(client.get(f"wangzi:rate:{platform}:sent:{s}") or 0) for s in seconds[1:-1]]
        result.update(requests=granted, configured=rate, measured=inner_rate, busiest_second=max(values, default=0))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rate", type=float, default=25.0, help="shared limit (requests/s) for the limited round")
    parser.add_argument("--limited-jobs", type=int, default=750)
    parser.add_argument("--limited-workers", type=int, default=4)
    parser.add_argument("--redis", help="use this Redis instead of starting one (it is flushed of wangzi:* keys)")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--platform", help="default: bilibili when its spider and fixtures exist (else instagram)")
    parser.add_argument("--postgres", action="store_true", help="start a PostgreSQL server (Debian's binaries) and use it")
    args = parser.parse_args()

    import redis

    from tests.ops_recording import accounts_recording
    from tests.redis_server import RedisServer

    server = None
    redis_url = args.redis
    if not redis_url:
        server = RedisServer().start()
        redis_url = server.url
    client = redis.Redis.from_url(redis_url)
    work = Path(tempfile.mkdtemp(prefix="wangzi-bench-"))
    database_url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    postgres = None
    if args.postgres:
        from tests.postgres import PostgresServer

        postgres = PostgresServer().start()
        import psycopg

        with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE bench")
        database_url = postgres.url("bench")
    try:
        from storage.db import upgrade

        upgrade(database_url)
        from tests.ops_recording import ops_platform

        platform = args.platform or ops_platform()
        refs = register(database_url, platform, max(args.jobs, args.limited_jobs))
        print(f"recording {len(refs)} {platform} accounts ...", flush=True)
        har = accounts_recording(work / "accounts.har", platform, refs)
        print(f"database {database_url.split('@')[-1]}, redis {redis_url}, {os.cpu_count()} CPUs", flush=True)
        print(f"{'workers':>7} {'jobs':>7} {'seconds':>8} {'jobs/s':>8} {'scaling':>8}")
        baseline = None
        for workers in args.workers:
            result = run_round(client, redis_url, database_url, har, platform, refs[: args.jobs], workers, None, work)
            baseline = baseline or result["jobs_per_s"] / workers
            print(f"{workers:>7} {args.jobs:>7} {result['seconds']:>8.1f} {result['jobs_per_s']:>8.1f} "
                  f"{result['jobs_per_s'] / baseline:>7.2f}x", flush=True)
        limited = run_round(client, redis_url, database_url, har, platform, refs[: args.limited_jobs], args.limited_workers,
                            args.rate, work)
        print(f"shared limit: {args.limited_workers} workers, {limited['requests']} requests, configured "
              f"{limited['configured']:.1f}/s, measured {limited['measured']:.2f}/s "
              f"(ratio {limited['measured'] / limited['configured']:.3f}), busiest second {limited['busiest_second']}")
    finally:
        if server is not None:
            server.stop()
        if postgres is not None:
            postgres.stop()
        print(f"logs and data: {work}")


if __name__ == "__main__":
    main()
