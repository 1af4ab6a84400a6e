"""Memory of a long Playwright crawl: does it stay flat over hundreds of browser pages?

    python benchmarks/playwright_memory.py                    # 200 profile pages, 4 at a time
    python benchmarks/playwright_memory.py --pages 500 --concurrency 1

Everything is real and local: ``wangzi crawl --platform xiaohongshu --replay`` runs the
Xiaohongshu spider in its own process; Debian's Chromium (through scrapy-playwright) loads
``--pages`` distinct recorded profile pages (built from the synthetic fixture
``tests/fixtures/xiaohongshu/profile_page_synthetic``, one user id each) from the loopback
replay server, and the snapshots land in a SQLite file.

While it runs, every ``--interval`` seconds the script reads ``/proc`` for the crawl
process and all its descendants (the Playwright Node driver and every Chromium process)
and records their summed RSS and PSS (proportional set size: shared pages split between
processes, so the sum is not inflated by Chromium's shared memory), together with how many
snapshots are stored so far. It prints the series, the peaks per process group, and the
flatness ratio: mean PSS over the last quarter of the pages divided by the mean over the
second quarter (after start-up). A leak of pages or contexts shows as a ratio well above 1.

Politeness delays are turned off (``DOWNLOAD_DELAY=0``, no AutoThrottle) and the storage
batch is 10 rows so that progress is visible; everything else is the spider as shipped.
Record the output in BENCHMARKS.md with the command.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FIXTURE = REPO / "tests" / "fixtures" / "xiaohongshu" / "profile_page_synthetic" / "response.html"
FIXTURE_UID = "5a1b2c3d4e5f60718293a4b5"


def user_ids(count: int) -> list[str]:
    return [f"{0x5a0000000000000000000000 + n:024x}" for n in range(count)]


def build(workdir: Path, count: int) -> tuple[str, Path]:
    """A migrated SQLite database with ``count`` Xiaohongshu accounts and a HAR answering each."""
    from storage.db import session_scope, upgrade
    from storage.models import Account, Candidate, utcnow
    from tests.helpers import Exchange, write_har

    database_url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(database_url)
    page = FIXTURE.read_text(encoding="utf-8")
    ids = user_ids(count)
    with session_scope(database_url) as session:
        now = utcnow()
        candidates = [Candidate(display_name=f"bench {n}", created_at=now, updated_at=now) for n in range(count)]
        session.add_all(candidates)
        session.flush()
        session.add_all(
            Account(candidate_id=c.id, platform="xiaohongshu", platform_user_id=uid) for c, uid in zip(candidates, ids)
        )
    exchanges = [
        Exchange(
            url=f"https://www.xiaohongshu.com/user/profile/{uid}",
            body=page.replace(FIXTURE_UID, uid).replace("Lena在纽约", f"bench {n}").encode("utf-8"),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        for n, uid in enumerate(ids)
    ]
    return database_url, write_har(workdir / "pages.har", exchanges)


# --------------------------------------------------------------------------- /proc


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(root: int) -> list[int]:
    tree = _children()
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(tree.get(pid, []))
    return found


def _kib(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def group(pid: int) -> str:
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "gone"
    if "chrom" in name:
        return "chromium"
    if name.startswith("node"):
        return "playwright-node"
    return "crawl" if name.startswith("python") else name


def sample(root: int) -> dict[str, tuple[int, int]]:
    """(RSS KiB, PSS KiB) summed per process group."""
    totals: dict[str, tuple[int, int]] = {}
    for pid in descendants(root):
        rss = _kib(f"/proc/{pid}/status", "VmRSS")
        pss = _kib(f"/proc/{pid}/smaps_rollup", "Pss")
        name = group(pid)
        if name == "gone":
            continue
        old = totals.get(name, (0, 0))
        totals[name] = (old[0] + rss, old[1] + pss)
    return totals


def stored(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("select count(*) from profilesnapshot").fetchone()[0]
    except sqlite3.Error:
        return -1


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200, help="profile pages to crawl (default 200)")
    parser.add_argument("--concurrency", type=int, default=4, help="pages at once (CONCURRENT_REQUESTS_PER_DOMAIN)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between /proc samples")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wangzi-pwmem-") as tmp:
        workdir = Path(tmp)
        database_url, har = build(workdir, args.pages)
        env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO)}
        command = [
            sys.executable, "-m", "crawler.cli", "crawl", "--platform", "xiaohongshu", "--replay", str(har),
            "--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False",
            "--set", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.concurrency}",
            "--set", f"PLAYWRIGHT_MAX_PAGES_PER_CONTEXT={args.concurrency}",
            "--set", "WANGZI_STORAGE_BATCH=10",
        ]
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        series: list[tuple[float, int, dict[str, tuple[int, int]]]] = []
        while process.poll() is None:
            series.append((time.monotonic() - started, stored(workdir / "bench.db"), sample(process.pid)))
            time.sleep(args.interval)
        out, err = process.communicate()
        elapsed = time.monotonic() - started
        done = stored(workdir / "bench.db")

    if process.returncode not in (0, 1) or done != args.pages:
        print(out, err[-3000:], sep="\n", file=sys.stderr)
        print(f"crawl exited {process.returncode} with {done}/{args.pages} snapshots", file=sys.stderr)
        return 1

    def total(sample_: dict[str, tuple[int, int]], index: int) -> int:
        return sum(v[index] for v in sample_.values())

    print(f"{args.pages} Xiaohongshu profile pages through Chromium, {args.concurrency} at a time: "
          f"{elapsed:.1f} s ({args.pages / elapsed:.1f} pages/s), {done} snapshots stored")
    print(f"{'t (s)':>7} {'pages':>6} {'procs RSS MiB':>14} {'PSS MiB':>8}  per group (PSS MiB)")
    step = max(1, len(series) // 25)
    for t, pages, groups in series[::step] + [series[-1]]:
        detail = ", ".join(f"{k} {v[1] / 1024:.0f}" for k, v in sorted(groups.items()))
        print(f"{t:7.1f} {pages:6d} {total(groups, 0) / 1024:14.0f} {total(groups, 1) / 1024:8.0f}  {detail}")

    peak_rss = max(total(g, 0) for _, _, g in series)
    peak_pss = max(total(g, 1) for _, _, g in series)
    print(f"peak RSS (sum over crawl + Node + Chromium processes): {peak_rss / 1024:.0f} MiB")
    print(f"peak PSS (same processes, shared pages split):         {peak_pss / 1024:.0f} MiB")
    names = sorted({name for _, _, g in series for name in g})
    for name in names:
        print(f"  peak {name:16s} RSS {max(g.get(name, (0, 0))[0] for _, _, g in series) / 1024:6.0f} MiB"
              f"  PSS {max(g.get(name, (0, 0))[1] for _, _, g in series) / 1024:6.0f} MiB")

    def mean_pss(low: float, high: float) -> float:
        # Only while the browser runs: start-up and shutdown samples would flatter the ratio.
        values = [total(g, 1) for _, pages, g in series
                  if "chromium" in g and low * args.pages <= pages < high * args.pages]
        return statistics.mean(values) if values else float("nan")

    early, late = mean_pss(0.25, 0.5), mean_pss(0.75, 1.01)
    print(f"mean PSS with 25-50% of pages done: {early / 1024:.0f} MiB; with 75-100% done: {late / 1024:.0f} MiB; "
          f"ratio late/early {late / early:.2f} (flat = about 1.0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
