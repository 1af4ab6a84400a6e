"""Distributed crawling at scale: jobs per second with 1, 2 and 4 ``wangzi worker`` processes,
and the shared rate limit measured against the configured one.

    python benchmarks/distributed_scale.py                 # 10,000 lookups, workers 1 2 4
    python benchmarks/distributed_scale.py --jobs 2000 --workers 1 2
    python benchmarks/distributed_scale.py --network --postgres --workers 1 4 8   # where the network is the limit

**Network-bound mode** (``--network``, issue 17). Distribution is for more identities, each held
to its polite rate, against a network whose latency dominates; a zero-latency replay on one
machine only measures CPU. Here every answer comes from a loopback *latency proxy* that waits
``--latency`` seconds (uniform, 150-400 ms by default) before answering from the recording:
each worker is its own identity (``WANGZI_PROXIES`` names one proxy, ``id-K``, at that
server) with its own per-platform rate (``--identity-rate``, ``WANGZI_PROXY_RATES``, held by
the shared limiter in Redis under ``wangzi:rate:<platform>:proxy:id-K``). A round queues
``--per-worker-jobs`` x workers lookups once every worker has started (``--warmup``) and
measures requests per second from the limiter's own per-second counters, from the first
granted request to the last (whole seconds), each identity's rate against its limit, and the
end-to-end rate: lookups stored and acknowledged per second of wall clock from the enqueue to
the last acknowledgement, with the workers' CPU per lookup.
``--shared-identities N`` adds a round of the largest worker count sharing N identities (two
workers per identity): the shared limit must hold each identity to its rate all the same.

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


# --------------------------------------------------------------------------- network-bound mode


def latency_proxy(har: Path, low: float, high: float) -> Any:
    """A loopback HTTP server that answers a proxied request (``GET http://127.0.0.1:P/https/host/path``,
    absolute form, as Scrapy sends it to a proxy) from the recording after ``low``-``high``
    seconds: the network's latency, for the network-bound rounds. One thread per connection."""
    import random
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    from crawler.replay import Recording, original_url

    recording = Recording.load(har)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            url = original_url(path)
            exchange = recording.answer("GET", url) if url else None
            time.sleep(random.uniform(low, high))
            body = exchange.body if exchange else b"replay miss"
            self.send_response(exchange.status if exchange else 599)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def network_round(client: Any, redis_url: str, database_url: str, har: Path, platform: str, refs: list[Any],
                  workers: int, identities: int, rate: float, proxy_port: int, warmup: float, log_dir: Path,
                  batch: int = 16) -> dict[str, Any]:
    from crawler.distributed.enqueue import enqueue
    from crawler.distributed.job_queue import queue_depths
    from crawler.distributed.token_bucket import measured_rate, proxy_rate_key

    import resource

    reset_queue(client)
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    processes = []
    for n in range(workers):
        identity = f"id-{n % identities + 1}"
        env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO),
               "WANGZI_PROXIES": f"http://127.0.0.1:{proxy_port} name={identity}"}
        command = [sys.executable, "-m", "crawler.cli", "worker", "--redis", redis_url, "-p", platform, "--replay", str(har),
                   "--max-idle", str(int(warmup + 10)), "-s", 'WANGZI_RATE_LIMITS={"*": 0}',
                   "-s", f'WANGZI_PROXY_RATES={{"{platform}": {rate}}}', "-s", "WANGZI_PROXY_RETRIES=0",
                   # Jobs popped at once: small enough that no worker holds the last jobs alone.
                   "-s", f"REDIS_START_URLS_BATCH_SIZE={batch}"]
        processes.append(subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                                          stderr=open(log_dir / f"network-{workers}-{n}.log", "w")))  # noqa: SIM115
    time.sleep(warmup)  # every worker up and polling before the first job: the round measures crawling
    load_before = os.getloadavg()[0]
    enqueue(client, refs)
    started = time.time()
    while True:
        depth = queue_depths(client, [platform])[platform]
        if depth["queued"] == 0 and depth["inflight"] == 0:
            break
        if all(p.poll() is not None for p in processes):
            raise SystemExit(f"workers exited with jobs left: {depth}; see {log_dir}")
        time.sleep(0.05)
    done = time.time()
    load_after = os.getloadavg()[0]
    for process in processes:
        process.wait(timeout=180)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    names = sorted({f"id-{n % identities + 1}" for n in range(workers)})
    keys = [f"{proxy_rate_key(platform, name)}" for name in names]
    active = {key: [s for s in range(int(started) - 1, int(done) + 2) if client.get(f"wangzi:rate:{key}:sent:{s}")]
              for key in keys}
    first = min(seconds[0] for seconds in active.values())
    last = max(seconds[-1] for seconds in active.values())
    total = sum(measured_rate(client, key, first, last + 1)[0] for key in keys)
    inner = sum(measured_rate(client, key, first + 1, last)[0] for key in keys)  # first and last seconds are partial
    per_identity = {}
    for key, seconds in active.items():
        _, measured = measured_rate(client, key, seconds[0] + 1, seconds[-1])
        per_identity[key.rsplit(":", 1)[-1]] = measured
    return {"workers": workers, "identities": identities, "jobs": len(refs), "requests": total,
            "requests_per_s": inner / max(last - first - 1, 1), "wall_s": done - started,
            "jobs_per_s_wall": len(refs) / (done - started), "per_identity": per_identity,
            "load": (load_before, load_after), "worker_cpu_ms_per_job": cpu * 1000 / len(refs)}


def run_network(args: Any, client: Any, redis_url: str, database_url: str, platform: str, refs: list[Any], har: Path,
                work: Path) -> None:
    server = latency_proxy(har, args.latency[0], args.latency[1])
    port = server.server_address[1]
    print(f"network-bound: latency {args.latency[0]:g}-{args.latency[1]:g} s per answer, {args.identity_rate:g} requests/s "
          f"per identity, {args.per_worker_jobs} lookups per worker, {os.cpu_count()} CPUs", flush=True)
    print(f"{'workers':>7} {'ids':>4} {'jobs':>6} {'req/s':>7} {'scaling':>8} {'target':>7} {'wall s':>7} {'jobs/s':>7} "
          f"{'scaling':>8} {'cpu ms/job':>10}  per-identity req/s (limit {args.identity_rate:g})  load", flush=True)
    baseline = wall_baseline = None
    rounds = [(w, w) for w in args.workers]
    if args.shared_identities:
        rounds.append((max(args.workers), args.shared_identities))
    targets = {4: 3.5, 8: 6.0}
    try:
        offset = 0
        for workers, identities in rounds:
            jobs = refs[offset: offset + args.per_worker_jobs * workers]
            offset += len(jobs)
            result = network_round(client, redis_url, database_url, har, platform, jobs, workers, identities,
                                   args.identity_rate, port, args.warmup, work)
            baseline = baseline or result["requests_per_s"]
            wall_baseline = wall_baseline or result["jobs_per_s_wall"]
            scaling = result["requests_per_s"] / baseline
            target = targets.get(workers) if identities == workers else None
            rates = " ".join(f"{v:.2f}" for v in result["per_identity"].values())
            worst = max((v / args.identity_rate - 1 for v in result["per_identity"].values()), key=abs)
            print(f"{workers:>7} {identities:>4} {len(jobs):>6} {result['requests_per_s']:>7.2f} {scaling:>7.2f}x "
                  f"{(f'{target:g}x' if target else '-'):>7} {result['wall_s']:>7.1f} {result['jobs_per_s_wall']:>7.2f} "
                  f"{result['jobs_per_s_wall'] / wall_baseline:>7.2f}x {result['worker_cpu_ms_per_job']:>10.1f}  "
                  f"{rates} (worst {worst:+.1%})  {result['load'][0]:.1f}->{result['load'][1]:.1f}", flush=True)
    finally:
        server.shutdown()


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
    parser.add_argument("--network", action="store_true", help="network-bound mode (see the module docstring)")
    parser.add_argument("--latency", type=float, nargs=2, default=[0.15, 0.4], metavar=("MIN", "MAX"),
                        help="--network: seconds each answer waits (uniform)")
    parser.add_argument("--identity-rate", type=float, default=5.0, help="--network: requests/s per identity")
    parser.add_argument("--per-worker-jobs", type=int, default=200, help="--network: lookups queued per worker")
    parser.add_argument("--warmup", type=float, default=15.0, help="--network: seconds the workers get to start")
    parser.add_argument("--shared-identities", type=int, default=0,
                        help="--network: one more round of the most workers sharing this many identities")
    args = parser.parse_args()
    if args.network and args.workers == [1, 2, 4]:
        args.workers = [1, 4, 8]

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
        needed = max(args.jobs, args.limited_jobs)
        if args.network:
            needed = args.per_worker_jobs * (sum(args.workers) + (max(args.workers) if args.shared_identities else 0))
        refs = register(database_url, platform, needed)
        print(f"recording {len(refs)} {platform} accounts ...", flush=True)
        har = accounts_recording(work / "accounts.har", platform, refs)
        print(f"database {database_url.split('@')[-1]}, redis {redis_url}, {os.cpu_count()} CPUs", flush=True)
        if args.network:
            run_network(args, client, redis_url, database_url, platform, refs, har, work)
            return
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
