"""Enrichment at scale: 2,000 candidates x 8 accounts x 365 daily snapshots (~5.8M rows) in SQLite.

Times, on the same warm database file:

* the floor: one aggregate SQL scan of the snapshot table
  (``SELECT account_id, COUNT(*), MAX(captured_at), MAX(followers) ... GROUP BY account_id``);
* a full ``enrich`` (features of every candidate, then the cohort ranking);
* an incremental ``enrich`` after 1% of the candidates got a new snapshot on every account;

and prints the ratio full-enrich / floor. Target (issue 6): full enrich < 60 s, ratio < 5.

    python benchmarks/enrich_scale.py                     # generate (once) and measure
    python benchmarks/enrich_scale.py --candidates 200    # a quick smaller run
    python benchmarks/enrich_scale.py --db /tmp/e.db --regenerate

The generated database is kept (default ``/tmp/wangzi-bench/enrich-<N>.db``) and reused by
later runs; generation itself is not timed as part of the result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PLATFORMS = ["bilibili", "weibo", "xiaohongshu", "douyin", "youtube", "instagram", "tiktok", "x"]
TEXTS = [
    "今天分享{brand}的新品，海淘回来的，真的很好用",
    "Trying {brand} for the first time, a quick haul from Tokyo",
    "去日本溯源{brand}的工厂，探厂vlog来啦",
    "日常vlog：周末在家做饭",
    "{brand}免税店价格对比，代购要注意",
    "東京で{brand}を買いました",
    "My morning routine with {brand} and coffee",
    "直播预告：明晚八点不见不散",
]
BRANDS = ["Omorovicza", "雅诗兰黛", "SK-II", "Swisse", "爱他美", "Dyson", "La Mer", "资生堂", "Aesop", "戴森",
          "Blackmores", "Zeus 24K", "兰蔻", "Clarins", "HiPP", "Rimowa"]
TS = "%Y-%m-%d %H:%M:%S.%f"


def generate(path: Path, candidates: int, accounts_per: int, days: int, posts_per: int, end: datetime) -> None:
    from storage.db import get_engine, upgrade

    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    upgrade(f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()
    rng = random.Random(6)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    now = end.strftime(TS)
    db.executemany(
        "INSERT INTO candidate (id, display_name, aliases, active, created_at, updated_at) VALUES (?, ?, '[]', 1, ?, ?)",
        [(c, f"creator {c}", now, now) for c in range(1, candidates + 1)],
    )
    accounts = []
    for c in range(1, candidates + 1):
        for k, platform in enumerate(PLATFORMS[:accounts_per]):
            accounts.append(((c - 1) * accounts_per + k + 1, c, platform))
    db.executemany(
        "INSERT INTO account (id, candidate_id, platform, handle, created_at) VALUES (?, ?, ?, ?, ?)",
        [(a, c, p, f"h{a}", now) for a, c, p in accounts],
    )
    db.commit()

    def snapshots():
        for account_id, candidate_id, platform in accounts:
            followers = rng.randint(1_000, 5_000_000)
            offset = timedelta(seconds=rng.randint(0, 86_000), microseconds=rng.randint(0, 999_999))
            abroad = candidate_id % 5 == 0
            for day in range(days, 0, -1):
                followers = max(0, followers + rng.randint(-200, 1_000))
                at = end - timedelta(days=day) + offset
                ip = ("美国" if abroad else "广东") if platform in ("weibo", "xiaohongshu", "douyin", "bilibili") else None
                yield (account_id, at.strftime(TS), followers, ip, "[]", "[]",
                       f"https://example.test/{platform}/{account_id}", f"{platform}.bench", "1",
                       hashlib.sha256(f"{account_id}:{day}".encode()).hexdigest())

    db.executemany(
        "INSERT INTO profilesnapshot (account_id, captured_at, followers, ip_location, approximate, lower_bound,"
        " source_url, parser, parser_version, payload_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        snapshots(),
    )
    db.commit()
    post_rows, snap_rows = [], []
    post_id = 0
    for account_id, candidate_id, platform in accounts:
        for _ in range(posts_per):
            post_id += 1
            published = end - timedelta(days=rng.uniform(0, 170))
            text = rng.choice(TEXTS).format(brand=rng.choice(BRANDS)) + f" #{post_id}"
            post_rows.append((post_id, account_id, platform, str(post_id), "post", published.strftime(TS), text, now))
            snap_rows.append((post_id, now, rng.randint(0, 50_000), rng.randint(0, 2_000), rng.randint(0, 500), "[]"))
    db.executemany(
        "INSERT INTO post (id, account_id, platform, post_id, kind, published_at, text, first_seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", post_rows)
    db.executemany(
        "INSERT INTO postsnapshot (post_id, captured_at, likes, comments, shares, approximate) VALUES (?, ?, ?, ?, ?, ?)",
        snap_rows)
    db.commit()
    db.close()


def floor_scan(path: Path) -> float:
    db = sqlite3.connect(path)
    start = time.perf_counter()
    rows = db.execute(
        "SELECT account_id, COUNT(*), MAX(captured_at), MAX(followers) FROM profilesnapshot GROUP BY account_id"
    ).fetchall()
    elapsed = time.perf_counter() - start
    db.close()
    assert rows
    return elapsed


def touch(path: Path, candidate_ids: list[int], accounts_per: int, end: datetime) -> None:
    """One new snapshot on every account of the given candidates (what a crawl would add)."""
    db = sqlite3.connect(path)
    at = (end + timedelta(minutes=5)).strftime(TS)
    rows = []
    for c in candidate_ids:
        for k in range(accounts_per):
            account_id = (c - 1) * accounts_per + k + 1
            rows.append((account_id, at, 9_999_999, "[]", "[]", "https://example.test/new", "bench", "1",
                         hashlib.sha256(f"new:{account_id}:{at}".encode()).hexdigest()))
    db.executemany(
        "INSERT INTO profilesnapshot (account_id, captured_at, followers, approximate, lower_bound, source_url,"
        " parser, parser_version, payload_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=2_000)
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--posts", type=int, default=5, help="posts per account (default 5)")
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    path = args.db or Path(f"/tmp/wangzi-bench/enrich-{args.candidates}x{args.accounts}x{args.days}.db")
    meta_path = Path(str(path) + ".json")
    if args.regenerate or not path.exists() or not meta_path.exists():
        end = datetime.now(timezone.utc).replace(tzinfo=None)
        started = time.perf_counter()
        generate(path, args.candidates, args.accounts, args.days, args.posts, end)
        meta_path.write_text(json.dumps({"end": end.isoformat()}))
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    end = datetime.fromisoformat(json.loads(meta_path.read_text())["end"])
    as_of = (end + timedelta(hours=1)).replace(tzinfo=timezone.utc)

    from enrichment.stage import enrich
    from storage.db import get_engine, session_scope

    url = f"sqlite:///{path}"
    with get_engine(url).begin() as connection:
        connection.exec_driver_sql("DELETE FROM featuresnapshot")
    db = sqlite3.connect(path)
    snapshots = db.execute("SELECT COUNT(*) FROM profilesnapshot").fetchone()[0]
    db.close()
    floor_scan(path)  # warm the page cache so both timings read a warm file
    floor = min(floor_scan(path) for _ in range(3))

    started = time.perf_counter()
    with session_scope(url) as session:
        full = enrich(session, as_of=as_of)
    full_s = time.perf_counter() - started

    changed = list(range(1, args.candidates + 1, 100))  # 1%
    touch(path, changed, args.accounts, end)
    started = time.perf_counter()
    with session_scope(url) as session:
        incremental = enrich(session, as_of=as_of + timedelta(minutes=10))
    incremental_s = time.perf_counter() - started

    print(f"database:            {path}")
    print(f"profile snapshots:   {snapshots:,}")
    print(f"floor (one aggregate scan): {floor:.2f} s")
    print(f"full enrich:         {full_s:.2f} s  ({full.computed} candidates computed, {full.ranked} ranked)")
    print(f"incremental enrich:  {incremental_s:.2f} s  ({incremental.computed} candidates computed, "
          f"{len(changed)} changed, {incremental.ranked} ranked)")
    print(f"ratio full/floor:    {full_s / floor:.2f}  (target < 5; full enrich target < 60 s)")
    for name, seconds in full.timings.items():
        print(f"  full enrich {name:<16} {seconds:.2f} s")


if __name__ == "__main__":
    main()
