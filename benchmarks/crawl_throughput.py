"""Crawl throughput: the real Bilibili crawl against a bare Scrapy spider, same URLs, same server.

    python benchmarks/crawl_throughput.py                  # 2,000 candidates, concurrency 64
    python benchmarks/crawl_throughput.py --candidates 500 --concurrency 32

One run, two crawls, each in its own subprocess (Scrapy's reactor cannot restart):

* **ours** - ``wangzi crawl --platform bilibili --replay HAR`` over ``--candidates`` registered
  candidates in a fresh SQLite database: the real spider (nav prelude for the WBI keys, then
  the card answer per account, which holds every profile fact: one request per account since
  issue 17), the pure parsers, validation and the
  storage pipeline writing snapshots; politeness off (``DOWNLOAD_DELAY=0``, AutoThrottle off,
  ``--concurrency`` requests in flight, all on one host).
* **bare** - a plain ``scrapy.Spider`` with Scrapy's default settings and the same concurrency,
  fetching exactly the URLs ours fetched (the same recording, its own loopback replay server
  in-process, as ours has) and discarding the bodies.

Both figures are Scrapy's own stats of each crawl (``downloader/response_count`` over
``elapsed_time_seconds``, spider open to close); the subprocess wall times are printed too, and
the CPU seconds per response of each subprocess (less sensitive to a busy machine than wall
time). Both crawls pay for the loopback replay server, a Python thread in their own process
(as ``--replay`` runs it), which pulls the ratio toward 1; rounds alternate and medians are
compared because other load on the machine moves single rounds a lot.
The recording answers every account with the Bilibili fixtures (mid rewritten per account).
Target: ours / bare >= 0.7. Record the printed figures in BENCHMARKS.md with the command.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
FIXTURES = REPO / "tests" / "fixtures" / "bilibili"
FIRST_MID = 700000


def _fixture(case: str) -> bytes:
    (payload,) = [p for p in (FIXTURES / case).iterdir() if p.name.startswith("response.")]
    return payload.read_bytes()


def build_recording(path: Path, mids: list[int]) -> tuple[Path, list[str]]:
    """A HAR answering nav and every account's three calls (relation/stat and acc/info stay
    recorded for a spider that falls back to them); returns it and the URLs ours requests: nav
    and each account's card."""
    from crawler.replay import Exchange, write_har
    from spiders.pages.bilibili import ACC_INFO_URL, CARD_URL, NAV_URL, RELATION_STAT_URL, signed_url, wbi_keys_from_nav

    nav = _fixture("nav_not_logged_in_code_-101")
    keys = wbi_keys_from_nav(nav)
    assert keys is not None
    card = json.loads(_fixture("card_mid2"))
    stat = json.loads(_fixture("relation_stat_vmid332704117"))
    info = json.loads(_fixture("acc_info_wbi_mid2_2024_no_follower_field"))
    json_headers = {"Content-Type": "application/json; charset=utf-8"}
    exchanges = [Exchange(url=NAV_URL, body=nav, headers=json_headers)]
    urls = [NAV_URL]
    for n, mid in enumerate(mids):
        card["data"]["card"]["mid"] = str(mid)
        card["data"]["follower"] = card["data"]["card"]["fans"] = 1000 + n
        stat["data"]["mid"] = mid
        info["data"]["mid"] = mid
        signed = signed_url(ACC_INFO_URL, {"mid": str(mid)}, *keys)
        for url, body in ((CARD_URL.format(mid=mid), card), (RELATION_STAT_URL.format(mid=mid), stat), (signed, info)):
            exchanges.append(Exchange(url=url, body=json.dumps(body, ensure_ascii=False).encode(), headers=json_headers))
        urls.append(CARD_URL.format(mid=mid))
    return write_har(path, exchanges), urls


def register(database_url: str, mids: list[int]) -> None:
    """One candidate with one Bilibili account per mid, inserted in bulk."""
    from storage.db import session_scope, upgrade
    from storage.models import Account, Candidate, utcnow

    upgrade(database_url)
    with session_scope(database_url) as session:
        now = utcnow()
        candidates = [Candidate(display_name=f"bench {mid}", created_at=now, updated_at=now) for mid in mids]
        session.add_all(candidates)
        session.flush()
        session.add_all(Account(candidate_id=c.id, platform="bilibili", platform_user_id=str(mid))
                        for c, mid in zip(candidates, mids))


def run_ours(har: Path, database_url: str, concurrency: int) -> dict[str, Any]:
    settings = {
        "DOWNLOAD_DELAY": 0, "DOWNLOAD_DELAY_JITTER": 0, "AUTOTHROTTLE_ENABLED": "false",
        "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "LOG_LEVEL": "INFO",
    }
    args = [sys.executable, "-m", "crawler.cli", "crawl", "--platform", "bilibili", "--replay", str(har), "--verbose"]
    for name, value in settings.items():
        args += ["--set", f"{name}={value}"]
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    started, cpu = time.perf_counter(), _children_cpu()
    process = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if process.returncode not in (0, 1):
        raise SystemExit(f"wangzi crawl failed ({process.returncode}):\n{process.stderr[-3000:]}")
    log = process.stdout + process.stderr
    return {"wall_s": wall, "cpu_s": cpu, **_stats_from_log(log)}


def _children_cpu() -> float:
    """User + system CPU seconds of every finished child so far (the crawl subprocesses)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _stats_from_log(log: str) -> dict[str, Any]:
    """``downloader/response_count`` and ``elapsed_time_seconds`` from Scrapy's closing stats dump."""
    found: dict[str, Any] = {}
    for key, name in (("downloader/response_count", "responses"), ("elapsed_time_seconds", "elapsed_s"),
                      ("item_scraped_count", "items")):
        match = re.search(rf"'{re.escape(key)}': ([0-9.]+)", log)
        if match is None:
            raise SystemExit(f"no {key!r} in the crawl log:\n{log[-3000:]}")
        found[name] = float(match.group(1))
    return found


def run_bare(har: Path, urls_file: Path, concurrency: int) -> dict[str, Any]:
    args = [sys.executable, str(Path(__file__).resolve()), "--bare-child", str(har), str(urls_file),
            "--concurrency", str(concurrency)]
    started, cpu = time.perf_counter(), _children_cpu()
    process = subprocess.run(args, cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if process.returncode != 0:
        raise SystemExit(f"bare crawl failed:\n{process.stderr[-3000:]}")
    return {"wall_s": wall, "cpu_s": cpu, **json.loads(process.stdout.strip().splitlines()[-1])}


def bare_child(har: Path, urls_file: Path, concurrency: int) -> None:
    """The baseline: default Scrapy, every URL rewritten to the loopback server, bodies dropped."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from crawler.replay import Recording, ReplayServer, loopback_url

    urls = json.loads(urls_file.read_text(encoding="utf-8"))
    server = ReplayServer(Recording.load(har)).start()

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self):  # type: ignore[no-untyped-def]
            for url in urls:
                yield scrapy.Request(loopback_url(server.base_url, url), callback=self.discard, dont_filter=True)

        def discard(self, response):  # type: ignore[no-untyped-def]
            return None

    process = CrawlerProcess({
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
    })
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    server.stop()
    stats = crawler.stats.get_stats()
    print(json.dumps({"responses": stats.get("downloader/response_count", 0),
                      "elapsed_s": stats["elapsed_time_seconds"], "items": 0}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of (ours, bare); medians are compared")
    parser.add_argument("--bare-child", nargs=2, metavar=("HAR", "URLS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_child:
        bare_child(Path(args.bare_child[0]), Path(args.bare_child[1]), args.concurrency)
        return

    with tempfile.TemporaryDirectory(prefix="wangzi-throughput-") as tmp:
        folder = Path(tmp)
        mids = list(range(FIRST_MID, FIRST_MID + args.candidates))
        har, urls = build_recording(folder / "bilibili.har", mids)
        urls_file = folder / "urls.json"
        urls_file.write_text(json.dumps(urls), encoding="utf-8")
        rounds: dict[str, list[dict[str, Any]]] = {"ours": [], "bare": []}
        for n in range(args.repeat):
            database_url = f"sqlite:///{folder / f'wangzi{n}.db'}"  # a fresh database per round
            register(database_url, mids)
            rounds["ours"].append(run_ours(har, database_url, args.concurrency))
            rounds["bare"].append(run_bare(har, urls_file, args.concurrency))
            print(f"round {n + 1}: ours {_rate(rounds['ours'][-1]):.0f}/s, bare {_rate(rounds['bare'][-1]):.0f}/s",
                  flush=True)

        from sqlmodel import func, select

        from storage.db import session_scope
        from storage.models import FetchFailure, ProfileSnapshot

        with session_scope(database_url) as session:
            snapshots = session.exec(select(func.count()).select_from(ProfileSnapshot)).one()
            failed = session.exec(select(func.count()).select_from(FetchFailure)).one()

    print(f"candidates: {args.candidates}, URLs: {len(urls)}, concurrency: {args.concurrency}, politeness off, "
          f"{args.repeat} rounds, python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    rates = {}
    for label, results in rounds.items():
        result = sorted(results, key=_rate)[len(results) // 2]  # the median round
        rates[label] = _rate(result)
        print(f"{label:>4}: {int(result['responses'])} responses in {result['elapsed_s']:.2f} s crawl "
              f"({result['wall_s']:.2f} s subprocess) = {rates[label]:.0f} responses/s (median of "
              f"{', '.join(f'{_rate(r):.0f}' for r in results)})")
    print(f"ours stored {snapshots} snapshots and {failed} failures for {args.candidates} candidates (last round)")
    cpu = {label: sorted(r["cpu_s"] * 1000 / r["responses"] for r in results)[len(results) // 2]
           for label, results in rounds.items()}
    print(f"CPU per response (whole subprocess: start-up, replay server thread, crawl; median): "
          f"ours {cpu['ours']:.2f} ms, bare {cpu['bare']:.2f} ms, ratio bare/ours {cpu['bare'] / cpu['ours']:.2f}")
    ratio = rates["ours"] / rates["bare"]
    print(f"ratio ours/bare: {ratio:.2f} (target >= 0.7) -> {'OK' if ratio >= 0.7 else 'BELOW TARGET'}")


def _rate(result: dict[str, Any]) -> float:
    return result["responses"] / result["elapsed_s"]


if __name__ == "__main__":
    main()
