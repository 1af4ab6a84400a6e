"""Enrichment at scale, two ways, in SQLite.

**History** (default): 2,000 candidates x 8 accounts x 365 daily snapshots (~5.8M rows) and 5
posts per account. Times, on the same warm database file:

* the floor: one aggregate SQL scan of the snapshot table
  (``SELECT account_id, COUNT(*), MAX(captured_at), MAX(followers) ... GROUP BY account_id``);
* a full ``enrich`` (features of every candidate, then the cohort ranking);
* an incremental ``enrich`` after 1% of the candidates got a new snapshot on every account,
  ranked against the live cohort: twice with a day's organic growth (40 followers more: ~10 % of
  the other rows' percentiles move), once with every changed candidate jumping to 9,999,999
  followers (nearly every row's ranking moves and is written again); and against a frozen
  reference (``wangzi reference freeze``: only the changed rows are ranked);

and prints the ratios full-enrich / floor (target < 5) and incremental / full (target <= 5 %),
each run's timings by stage and the cycle collector's share (every timed run starts after a
collection, so none pays for a pass the earlier runs of this process owed).

**Imported cohort** (``--imported 200000``): what a new user does first - 200,000 candidates
imported with two accounts each and no snapshot yet - then ``enrich``, ``rank --top 5`` and
the ``candidates list --json`` command, each in a child process whose peak RSS is read from
``getrusage``, and the database size. Target: enrich < 60 s and < 1 GB peak RSS.

    python benchmarks/enrich_scale.py                     # generate (once) and measure
    python benchmarks/enrich_scale.py --candidates 200    # a quick smaller run
    python benchmarks/enrich_scale.py --imported 200000   # the imported cohort
    python benchmarks/enrich_scale.py --db /tmp/e.db --regenerate

The generated databases are kept (default ``/tmp/wangzi-bench/``) and reused by later runs;
generation itself is not timed as part of the result.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
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


def touch(path: Path, candidate_ids: list[int], accounts_per: int, end: datetime, *, organic: bool) -> None:
    """One new snapshot on every account of the given candidates (what a crawl would add): with
    ``organic``, the last count plus 40 followers (a day's growth: most other candidates'
    percentiles stay where they were); otherwise 9,999,999 (every changed candidate jumps to
    the top on every platform, which moves nearly every other row's percentiles)."""
    db = sqlite3.connect(path)
    at = (end + timedelta(minutes=5)).strftime(TS)
    accounts = [(c - 1) * accounts_per + k + 1 for c in candidate_ids for k in range(accounts_per)]
    last = dict(db.execute(
        "SELECT account_id, followers FROM profilesnapshot WHERE id IN (SELECT max(id) FROM profilesnapshot "
        f"WHERE account_id IN ({','.join(map(str, accounts))}) GROUP BY account_id)").fetchall())
    rows = []
    for account_id in accounts:
        followers = (last.get(account_id) or 0) + 40 if organic else 9_999_999
        rows.append((account_id, at, followers, "[]", "[]", "https://example.test/new", "bench", "1",
                     hashlib.sha256(f"new:{account_id}:{at}".encode()).hexdigest()))
    db.executemany(
        "INSERT INTO profilesnapshot (account_id, captured_at, followers, approximate, lower_bound, source_url,"
        " parser, parser_version, payload_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def generate_imported(path: Path, candidates: int, end: datetime) -> None:
    """Candidates as ``candidates import`` leaves them: two accounts each, no snapshot."""
    from storage.db import get_engine, upgrade

    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    upgrade(f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    now = end.strftime(TS)
    db.executemany(
        "INSERT INTO candidate (id, display_name, aliases, active, created_at, updated_at) VALUES (?, ?, '[]', 1, ?, ?)",
        ((c, f"creator {c}", now, now) for c in range(1, candidates + 1)),
    )
    db.executemany(
        "INSERT INTO account (id, candidate_id, platform, platform_user_id, created_at) VALUES (?, ?, ?, ?, ?)",
        ((2 * c - k, c, platform, str(2 * c - k), now) for c in range(1, candidates + 1)
         for k, platform in enumerate(("weibo", "bilibili"))),
    )
    db.commit()
    db.close()


def child(task: str, url: str) -> None:
    """Run one task in this (child) process and print its seconds and peak RSS as JSON."""
    import resource

    started = time.perf_counter()
    out: dict[str, object] = {}
    if task == "enrich":
        from enrichment.stage import enrich
        from storage.db import session_scope

        with session_scope(url) as session:
            result = enrich(session)
        out.update(computed=result.computed, ranked=result.ranked, timings=result.timings)
    elif task == "rank":
        from crawler.cli.enrich import ranking_entries
        from storage.db import session_scope

        with session_scope(url) as session:
            out["rows"] = len(ranking_entries(session, "composite", 5))
    elif task == "list":
        # `wangzi candidates list --json` itself (every candidate, its accounts, their newest
        # snapshots, a page at a time), its output to /dev/null.
        import contextlib

        from crawler.cli import app

        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
            app(["candidates", "list", "--json", "--database-url", url], standalone_mode=False)
    out["seconds"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # what other jobs on the machine do not inflate
    out["peak_rss_mib"] = usage.ru_maxrss / 1024
    print(json.dumps(out))


def run_child(task: str, url: str, timeout: float) -> dict[str, object]:
    import subprocess

    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, __file__, "--child", task, "--db", url.removeprefix("sqlite:///")],
                              capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "timeout": timeout}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    return result


def imported(args: argparse.Namespace) -> None:
    path = args.db or Path(f"/tmp/wangzi-bench/imported-{args.imported}.db")
    if args.regenerate or not path.exists():
        started = time.perf_counter()
        generate_imported(path, args.imported, datetime.now(timezone.utc).replace(tzinfo=None))
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    url = f"sqlite:///{path}"
    from storage.db import upgrade

    upgrade(url)
    db = sqlite3.connect(path)
    db.execute("DELETE FROM rankinginput")  # (this connection does not enforce the foreign keys that would)
    db.execute("DELETE FROM featuresnapshot")
    db.execute("DELETE FROM featurereference")
    db.commit()
    db.execute("VACUUM")
    before = path.stat().st_size
    db.close()
    load = os.getloadavg()
    enriched = run_child("enrich", url, args.timeout)
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file's own size, the log written into it
    db.close()
    size = path.stat().st_size
    ranked = run_child("rank", url, args.timeout)
    listed = run_child("list", url, args.timeout)
    print(f"database:          {path} ({args.imported:,} candidates x 2 accounts, no snapshots)")
    print(f"load average:      {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min, {os.cpu_count()} CPUs)")
    print(f"enrich:            {enriched['seconds']:.1f} s ({enriched['cpu_seconds']:.1f} s CPU), "
          f"peak RSS {enriched['peak_rss_mib']:.0f} MiB "
          f"({enriched['computed']} computed, {enriched['ranked']} ranked)  (target < 60 s, < 1 GB)")
    for name, seconds in enriched["timings"].items():  # type: ignore[union-attr]
        print(f"  {name:<16} {seconds:.1f} s")
    print(f"database size:     {before / 2**20:.0f} MiB before, {size / 2**20:.0f} MiB after enrich")
    print(f"rank --top 5:      {ranked['seconds']:.1f} s ({ranked['cpu_seconds']:.1f} s CPU), "
          f"peak RSS {ranked['peak_rss_mib']:.0f} MiB")
    if listed.get("seconds") is None:
        print(f"candidates list --json: over {args.timeout:.0f} s")
    else:
        print(f"candidates list --json: {listed['seconds']:.1f} s ({listed['cpu_seconds']:.1f} s CPU), "
              f"peak RSS {listed['peak_rss_mib']:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=2_000)
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--posts", type=int, default=5, help="posts per account (default 5)")
    parser.add_argument("--imported", type=int, default=None, help="measure a cohort of this many imported candidates")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds a child task may take (imported cohort)")
    parser.add_argument("--without-growth-history", action="store_true",
                        help="do not load the 180 days of follower counts the suspicious-growth detector reads "
                             "(every account then has too little history to judge)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, f"sqlite:///{args.db}")
        return
    if args.imported:
        imported(args)
        return
    path = args.db or Path(f"/tmp/wangzi-bench/enrich-{args.candidates}x{args.accounts}x{args.days}.db")
    meta_path = Path(str(path) + ".json")
    if args.regenerate or not path.exists() or not meta_path.exists():
        end = datetime.now(timezone.utc).replace(tzinfo=None)
        started = time.perf_counter()
        generate(path, args.candidates, args.accounts, args.days, args.posts, end)
        meta_path.write_text(json.dumps({"end": end.isoformat()}))
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    end = datetime.fromisoformat(json.loads(meta_path.read_text())["end"])

    import enrichment.stage as stage
    from enrichment.stage import enrich, freeze_reference
    from storage.db import get_engine, session_scope, upgrade

    # The runs happen an hour after the generated year ends, whenever the database was made:
    # the stage's clock starts there (so growth windows and snapshot ages are what they were
    # at generation, and rows describe "now" instead of the past, which would make every
    # later enrich recompute every candidate).
    started_clock = time.monotonic()
    stage.utcnow = lambda: (end + timedelta(hours=1, seconds=time.monotonic() - started_clock)).replace(tzinfo=timezone.utc)
    if args.without_growth_history:
        stage.daily_follower_series = lambda *_args, **_options: {}  # type: ignore[assignment]

    url = f"sqlite:///{path}"
    upgrade(url)  # a database generated by an older version
    with get_engine(url).begin() as connection:
        connection.exec_driver_sql("DELETE FROM featuresnapshot")
        connection.exec_driver_sql("DELETE FROM featurereference")
        connection.exec_driver_sql("DELETE FROM followerseries")  # the first enrich builds them
        connection.exec_driver_sql("DELETE FROM posttextanalysis")  # and analyses every post
        # Snapshots an earlier run's incremental steps added (captured after the generated year).
        connection.exec_driver_sql("DELETE FROM profilesnapshot WHERE parser = 'bench'")
    db = sqlite3.connect(path)
    snapshots = db.execute("SELECT COUNT(*) FROM profilesnapshot").fetchone()[0]
    db.close()
    load = os.getloadavg()
    floor_scan(path)  # warm the page cache so both timings read a warm file
    floor = min(floor_scan(path) for _ in range(3))

    # The cycle collector's passes in each timed run, timed ("of which collector"). Enrich
    # pauses the collector (storage/collector.py), but a full pass owed to what the earlier
    # runs of this process allocated could fall in the next run (after the full enrich it
    # did: ~0.09 s of the first incremental run). Each timed run starts from a collection
    # made before its clock starts, so it pays for its own passes only. (A process's start -
    # imports, schema check - is not timed here, nor the passes its allocations set off.)
    collections_seen: list[float] = []
    collecting: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting["t"] = time.perf_counter()
        elif "t" in collecting:
            collections_seen.append(time.perf_counter() - collecting.pop("t"))

    gc.callbacks.append(on_gc)

    def timed_enrich(**options: object) -> tuple[float, object]:
        gc.collect()
        collections_seen.clear()
        begun, cpu = time.perf_counter(), time.process_time()
        with session_scope(url) as session:
            opened = time.perf_counter()
            outcome = enrich(session, **options)  # type: ignore[arg-type]
            done = time.perf_counter()
        outcome.cpu = time.process_time() - cpu  # type: ignore[attr-defined]
        # Outside enrich's own timings: opening the session, and committing what it wrote.
        outcome.timings["open session"] = opened - begun  # type: ignore[attr-defined]
        outcome.timings["commit"] = time.perf_counter() - done  # type: ignore[attr-defined]
        took = time.perf_counter() - begun
        outcome.timings["of which collector"] = sum(collections_seen)  # type: ignore[attr-defined]
        return took, outcome

    # The first enrich builds every account's kept follower series (storage/follower_series.py)
    # from the snapshots and analyses every post's text (kept: storage/post_analyses.py); a full
    # enrich after it (every feature row computed again, as after deleting them or changing the
    # features) folds in only what was added since and reads the kept analyses.
    first_s, first = timed_enrich(reference="cohort")
    with get_engine(url).begin() as connection:
        connection.exec_driver_sql("DELETE FROM featuresnapshot")
    full_s, full = timed_enrich(reference="cohort")
    steps = []  # (label, seconds, result, changed)
    for step, (label, reference, organic) in enumerate((
            ("first incremental, cohort, organic growth", "cohort", True),
            ("next incremental, cohort, organic growth", "cohort", True),
            ("incremental, cohort, every row moves", "cohort", False),
            ("incremental, frozen reference", None, False))):
        if reference is None:
            with session_scope(url) as session:
                freeze_reference(session, "bench")
        changed = list(range(1 + step, args.candidates + 1, 100))  # 1%, other candidates each time
        touch(path, changed, args.accounts, end + timedelta(minutes=5 + step), organic=organic)
        seconds, outcome = timed_enrich(reference=reference)
        steps.append((label, seconds, outcome, len(changed)))

    print(f"database:            {path}")
    print(f"growth history:      {'not loaded' if args.without_growth_history else 'loaded (180 days per account)'}")
    print(f"profile snapshots:   {snapshots:,}")
    print(f"load average:        {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min, {os.cpu_count()} CPUs)")
    print(f"floor (one aggregate scan): {floor:.2f} s")
    print(f"first enrich:        {first_s:.2f} s, {first.cpu:.2f} s CPU  (builds the kept follower series and post analyses; "  # type: ignore[attr-defined]
          f"ratio to the floor {first_s / floor:.2f})")
    print(f"full enrich:         {full_s:.2f} s, {full.cpu:.2f} s CPU  ({full.computed} candidates computed, "  # type: ignore[attr-defined]
          f"{full.ranked} ranked; the series kept)")  # type: ignore[attr-defined]
    print(f"ratio full/floor:    {full_s / floor:.2f}  (target < 5; full enrich target < 60 s)")
    import resource

    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    for label, seconds, outcome, changed in steps:
        print(f"{label} ({outcome.reference}): {seconds:.2f} s, {outcome.cpu:.2f} s CPU  "  # type: ignore[attr-defined]
              f"({outcome.computed} computed, {changed} changed, "  # type: ignore[attr-defined]
              f"{outcome.ranked} ranked) = {seconds / full_s:.1%} of full  (target <= 5 %)")  # type: ignore[attr-defined]
    for name, seconds in first.timings.items():  # type: ignore[attr-defined]
        print(f"  first enrich {name:<15} {seconds:.2f} s")
    for name, seconds in full.timings.items():  # type: ignore[attr-defined]
        print(f"  full enrich {name:<16} {seconds:.2f} s")
    for label, _, outcome, _ in steps:
        print(f"  {label}: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in outcome.timings.items()))  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
