"""The review desk at scale (issue 18): server time of the filtered, sorted cohort table page
and of a candidate page, on SQLite and on PostgreSQL.

The cohort: 10,000 candidates with 2 accounts each and 365 days of daily snapshots (7.3M
profile snapshot rows), 3 posts per account, press mentions for a fifth of them, a shortlist
of 500, then a full ``enrich`` (generation and enrichment are not timed). Then, through the
real app in-process (FastAPI's TestClient, logged in), ``--requests`` requests of each kind:

* **table**: filtered and sorted views as analysts make them - a platform, tiers, an index
  range and a minimum coverage, sorted by followers on a platform (a JSON feature), by the
  composite score, by freshness, a text search, a shortlist's statuses - on random pages;
* **candidate**: a random candidate's page (follower history of both accounts, 365 points
  each, index breakdown against the reference, press, posts, failures, suggestions).

The candidate page is timed twice: percentiles against the live cohort (what ``enrich``
leaves without a frozen reference: ``explain`` re-reads every newest feature row) and against
a frozen reference (``wangzi reference freeze``, the documented set-up for a stable cohort).

Prints p50/p95 per kind and the ratio to the targets (p95 < 200 ms table, < 300 ms candidate),
and beside them the p50/p95 of the CPU time this process spent per request (the app and, on
SQLite, the database; a PostgreSQL server's own time is not in it), which grows much less than
the wall time when other jobs share the machine.

    python benchmarks/web_app.py                         # both databases, 10,000 x 365
    python benchmarks/web_app.py --database sqlite --candidates 2000
    python benchmarks/web_app.py --sqlite-path /tmp/wangzi-bench/web.db --reuse
    python benchmarks/web_app.py --database postgresql --postgresql-url postgresql+psycopg://... --reuse

``--reuse`` measures a database an earlier run generated (upgraded to the code's newest
migration, then ranked against the live cohort again first, as the last run left it ranked
against its frozen reference); each run freezes one more version of the ``bench`` reference.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PLATFORMS = ["bilibili", "weibo", "xiaohongshu", "douyin", "youtube", "instagram", "tiktok", "x"]
DOMESTIC = {"bilibili", "weibo", "xiaohongshu", "douyin"}
TEXTS = ["今天分享{brand}的新品，海淘回来的", "Trying {brand} in Tokyo, a quick haul", "去日本溯源{brand}的工厂",
         "日常vlog：周末在家做饭", "{brand}免税店价格对比", "東京で{brand}を買いました"]
BRANDS = ["SK-II", "Swisse", "Dyson", "La Mer", "资生堂", "Aesop", "Blackmores", "兰蔻", "HiPP", "Rimowa"]
PLACES = ["广东", "上海", "美国", "日本", "法国", "韩国", "澳大利亚", "英国"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
TOKEN = "bench-token"
TABLE_TARGET, CANDIDATE_TARGET = 0.200, 0.300


def generate(url: str, candidates: int, days: int, accounts_per: int, seed: int = 18) -> None:
    """The cohort above, through SQLAlchemy Core (same code for both databases), then enrich."""
    from sqlalchemy import insert

    from storage.db import get_engine, upgrade
    from storage.models import (
        Account,
        Candidate,
        CrawlRun,
        Post,
        PostSnapshot,
        PressMention,
        Shortlist,
        ShortlistEvent,
        ShortlistMember,
    )
    from storage.names import alias_search_keys, search_key

    upgrade(url)
    engine = get_engine(url)
    rng = random.Random(seed)
    end = datetime.now(timezone.utc).replace(microsecond=0)
    started = time.monotonic()
    with engine.begin() as db:
        db.execute(insert(CrawlRun.__table__), [{"id": 1, "trigger": "scheduled", "started_at": end - timedelta(days=days),
                                                  "finished_at": end, "status": "finished", "stats": {}}])
        rows = []
        for c in range(1, candidates + 1):
            name = f"{rng.choice(SURNAMES)}{rng.choice(['小', '大', '阿'])}{c}" if c % 3 else f"Creator {c}"
            aliases = [f"creator-{c}", f"{name} official"] if c % 2 else []
            rows.append({"id": c, "display_name": name, "aliases": aliases, "notes": None, "active": True,
                         "created_at": end, "updated_at": end, "name_key": search_key(name),
                         "alias_keys": alias_search_keys(aliases)})
        db.execute(insert(Candidate.__table__), rows)
        accounts = []
        for c in range(1, candidates + 1):
            for k, platform in enumerate(rng.sample(PLATFORMS, accounts_per)):
                accounts.append({"id": (c - 1) * accounts_per + k + 1, "candidate_id": c, "platform": platform,
                                 "handle": f"h{c}_{k}", "created_at": end,
                                 "profile_url": f"https://example.test/{platform}/{c}_{k}"})
        db.execute(insert(Account.__table__), accounts)

    def snapshot_rows() -> Any:
        for account in accounts:
            followers = int(10 ** rng.uniform(3, 7.3))
            place = rng.choice(PLACES)
            offset = timedelta(seconds=rng.randint(0, 80_000))
            skip = set(range(rng.randint(30, 300), rng.randint(30, 300) + rng.choice([0, 0, 0, 5, 12])))
            spike = rng.random() < 0.03
            for day in range(days, 0, -1):
                followers = max(0, followers + rng.randint(-50, 400) + (followers // 3 if spike and day == 40 else 0))
                if day in skip:
                    continue
                yield {"account_id": account["id"], "crawl_run_id": 1, "captured_at": end - timedelta(days=day) + offset,
                       "display_name": None, "followers": followers,
                       "ip_location": place if account["platform"] in DOMESTIC else None,
                       "approximate": [], "lower_bound": [], "source_url": f"https://example.test/{account['id']}",
                       "parser": f"{account['platform']}.bench", "parser_version": "1",
                       "payload_sha256": hashlib.sha256(f"{account['id']}:{day}".encode()).hexdigest()}

    write_snapshots(url, snapshot_rows())
    print(f"  snapshots written in {time.monotonic() - started:.0f} s", flush=True)
    with engine.begin() as db:
        posts, counts, post_id = [], [], 0
        for account in accounts:
            for _ in range(3):
                post_id += 1
                text = rng.choice(TEXTS).format(brand=rng.choice(BRANDS))
                posts.append({"id": post_id, "account_id": account["id"], "platform": account["platform"],
                              "post_id": str(post_id), "kind": "post", "url": f"https://example.test/p/{post_id}",
                              "published_at": end - timedelta(days=rng.uniform(0, 60)), "title": None, "text": text,
                              "first_seen_at": end})
                counts.append({"post_id": post_id, "crawl_run_id": 1, "captured_at": end, "likes": rng.randint(0, 50_000),
                               "comments": rng.randint(0, 2_000), "shares": rng.randint(0, 500), "views": None,
                               "approximate": []})
        for start in range(0, len(posts), 20_000):
            db.execute(insert(Post.__table__), posts[start:start + 20_000])
            db.execute(insert(PostSnapshot.__table__), counts[start:start + 20_000])
        mentions = [{"candidate_id": c, "source": "gdelt", "url": f"https://news.example.com/{c}/{k}",
                     "canonical_url": f"https://news.example.com/{c}/{k}", "outlet_domain": "news.example.com",
                     "outlet_name": "Example", "country": rng.choice(["US", "JP", "FR", "GB"]), "language": "en",
                     "published_at": end - timedelta(days=rng.uniform(1, 300)), "title": f"Article {k} about {c}",
                     "matched_alias": f"creator-{c}", "snippet": None, "confidence": 0.8, "status": "confirmed",
                     "parser_version": "1", "first_seen_at": end, "last_seen_at": end}
                    for c in range(1, candidates + 1, 5) for k in range(rng.randint(1, 4))]
        db.execute(insert(PressMention.__table__), mentions)
        db.execute(insert(Shortlist.__table__), [{"id": 1, "name": "bench", "description": None, "created_by": "bench",
                                                   "created_at": end}])
        chosen = rng.sample(range(1, candidates + 1), min(500, candidates))
        statuses = ["new", "shortlisted", "contacted", "approved", "rejected"]
        events = [{"id": i + 1, "shortlist_id": 1, "candidate_id": c, "status": statuses[i % 5], "note": None,
                   "actor": "bench", "at": end} for i, c in enumerate(chosen)]
        db.execute(insert(ShortlistEvent.__table__), events)
        db.execute(insert(ShortlistMember.__table__), [
            {"shortlist_id": 1, "candidate_id": e["candidate_id"], "status": e["status"], "note": None, "changed_by": "bench",
             "changed_at": end, "event_id": e["id"]} for e in events])
    if engine.dialect.name == "postgresql":
        with engine.begin() as db:
            from sqlalchemy import text

            for table in ("candidate", "account", "profilesnapshot", "post", "postsnapshot", "pressmention",
                          "shortlistevent", "shortlistmember"):
                db.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
            db.execute(text("ANALYZE"))
    print(f"  generated in {time.monotonic() - started:.0f} s; enriching ...", flush=True)
    from enrichment.stage import enrich
    from storage.db import session_scope

    began = time.monotonic()
    with session_scope(url) as session:
        enrich(session, as_of=end)
    print(f"  enriched in {time.monotonic() - began:.0f} s", flush=True)


SNAPSHOT_COLUMNS = ("account_id", "crawl_run_id", "captured_at", "display_name", "followers", "ip_location", "approximate",
                    "lower_bound", "source_url", "parser", "parser_version", "payload_sha256")


def write_snapshots(url: str, rows: Any) -> None:
    """7.3M rows the fast way each database offers: SQLite's executemany on its own connection
    (synchronous off), PostgreSQL's COPY."""
    columns = ", ".join(SNAPSHOT_COLUMNS)
    if url.startswith("sqlite"):
        import sqlite3

        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        db.execute("PRAGMA synchronous=OFF")
        db.executemany(f"INSERT INTO profilesnapshot ({columns}) VALUES ({', '.join('?' * len(SNAPSHOT_COLUMNS))})",
                       (tuple(_sqlite_value(row[c]) for c in SNAPSHOT_COLUMNS) for row in rows))
        db.commit()
        db.close()
        return
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        with connection.cursor() as cursor, cursor.copy(f"COPY profilesnapshot ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_pg_value(row[c]) for c in SNAPSHOT_COLUMNS])


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return "[]" if value == [] else value


def _pg_value(value: Any) -> Any:
    return "[]" if value == [] else value


TABLE_VIEWS = [
    "/?platform=weibo&tier=micro&tier=mid&tier=macro&composite_min=20&min_coverage=0.2&sort=followers_weibo&dir=desc",
    "/?platform=bilibili&platform=douyin&sort=composite&dir=desc&composite_min=30",
    "/?country=JP&country=US&sort=freshness&dir=desc&tier=mid",
    "/?q=creator-1&sort=followers_total&dir=desc",
    "/?flag=suspicious&sort=leadership&dir=desc",
    "/?list=1&status=shortlisted&status=contacted&sort=press&dir=desc",
    "/?tier=mega&tier=macro&influence_min=40&sort=overseas_share&dir=desc",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(url: str, requests: int, candidates: int, seed: int = 7) -> dict[str, dict[str, float]]:
    """p50/p95 per kind of the wall time of each request and of the CPU time this process spent
    on it (the app runs in-process: on a machine shared with other jobs the wall time grows
    with the load average, the CPU time much less)."""
    from fastapi.testclient import TestClient

    from crawler.service.app import create_app

    rng = random.Random(seed)
    results: dict[str, list[tuple[float, float]]] = {"table": [], "candidate": []}

    def timed(kind: str, path: str) -> Any:
        began, cpu = time.perf_counter(), time.process_time()
        answer = client.get(path)
        results[kind].append((time.perf_counter() - began, time.process_time() - cpu))
        return answer

    with TestClient(create_app(url, token=TOKEN, workers=1)) as client:
        login = client.get("/desk/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
        client.post("/desk/login", data={"token": TOKEN, "who": "bench", "csrf_token": csrf, "next": "/"})
        for warm in (TABLE_VIEWS[0], "/desk/candidates/1"):
            assert client.get(warm).status_code == 200
        for i in range(requests):
            view = TABLE_VIEWS[i % len(TABLE_VIEWS)] + f"&page={rng.randint(1, 5)}"
            answer = timed("table", view)
            assert answer.status_code == 200, (view, answer.text[:300])
        for _ in range(requests):
            answer = timed("candidate", f"/desk/candidates/{rng.randint(1, candidates)}")
            assert answer.status_code == 200 and "Follower history" in answer.text
    figures = {}
    for kind, pairs in results.items():
        walls, cpus = [wall for wall, _ in pairs], [cpu for _, cpu in pairs]
        figures[kind] = {"p50": percentile(walls, 0.5), "p95": percentile(walls, 0.95), "n": len(pairs),
                         "cpu_p50": percentile(cpus, 0.5), "cpu_p95": percentile(cpus, 0.95)}
    return figures


def freeze(url: str) -> None:
    from enrichment.stage import enrich, freeze_reference
    from storage.db import session_scope

    with session_scope(url) as session:
        freeze_reference(session, "bench")
    with session_scope(url) as session:
        enrich(session)  # re-ranks every row against the frozen reference


def rank_live(url: str) -> None:
    """Rank every row against the live cohort again: a reused database was left ranked against
    the frozen reference of its last run, so its "cohort reference" figures would be frozen ones."""
    from enrichment.stage import enrich
    from storage.db import session_scope

    with session_scope(url) as session:
        enrich(session, reference="cohort")


def report(database: str, label: str, figures: dict[str, dict[str, float]]) -> None:
    for kind, target in (("table", TABLE_TARGET), ("candidate", CANDIDATE_TARGET)):
        f = figures.get(kind)
        if f is None:
            continue
        print(f"{database:10} {label:28} {kind:9} n={f['n']:<4.0f} p50 {f['p50'] * 1000:7.1f} ms  "
              f"p95 {f['p95'] * 1000:7.1f} ms  p95/target {f['p95'] / target:.2f}  "
              f"(CPU p50 {f['cpu_p50'] * 1000:.1f} ms, p95 {f['cpu_p95'] * 1000:.1f} ms)", flush=True)


def run(database: str, url: str, args: argparse.Namespace) -> None:
    print(f"{database}: {url.split('@')[-1]}", flush=True)
    if not args.reuse:
        generate(url, args.candidates, args.days, 2)
    else:
        from storage.db import upgrade

        upgrade(url)  # a database from an earlier run may predate the code's newest migration
        rank_live(url)
    print(f"  load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}", flush=True)
    report(database, "cohort reference", measure(url, args.requests, args.candidates))
    freeze(url)
    print(f"  load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}", flush=True)
    report(database, "frozen reference", measure(url, args.requests, args.candidates, seed=8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=70)
    parser.add_argument("--sqlite-path", type=Path, default=Path("/tmp/wangzi-bench/web_app.db"))
    parser.add_argument("--reuse", action="store_true", help="Measure the database generated by an earlier run.")
    parser.add_argument("--postgresql-url", help="A PostgreSQL database to use instead of starting a server here "
                        "(with --reuse: one an earlier run generated).")
    args = parser.parse_args()
    print(f"web app: {args.candidates} candidates x 2 accounts x {args.days} days; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    if args.database in ("sqlite", "both"):
        path = args.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        run("sqlite", f"sqlite:///{path}", args)
    if args.database in ("postgresql", "both") and args.postgresql_url:
        run("postgresql", args.postgresql_url, args)
    elif args.database in ("postgresql", "both"):
        from tests.postgres import PostgresServer

        server = PostgresServer().start()
        try:
            import psycopg

            with psycopg.connect(server.dsn("postgres"), autocommit=True) as connection:
                connection.execute("CREATE DATABASE bench")
            args.reuse = False
            run("postgresql", server.url("bench"), args)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
