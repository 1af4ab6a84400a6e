"""The raw archive's size per 1,000 account refreshes (issue 16 item 4).

    python benchmarks/archive_size.py                 # 1,000 Bilibili accounts, replayed
    python benchmarks/archive_size.py --accounts 2000

1. **A real crawl**: ``wangzi crawl --platform bilibili --replay HAR`` over ``--accounts``
   registered accounts (the recording of benchmarks/crawl_throughput.py: nav, then each
   account's card), archive on, in a fresh folder: bytes of the run's WARC files on disk,
   answers indexed, index rows' bytes in SQLite (``dbstat``), scaled to 1,000 refreshes.
2. **Per platform**, the same writer (``crawler.warc.WarcFile``, one gzip member per record,
   request records included) over one refresh's answers taken from real fixtures, 1,000 times:
   what a day of 1,000 refreshes costs on each platform, whose answers differ a thousandfold
   (a Bilibili card is 4 KB of JSON, a YouTube channel page 866 KB of HTML).

Record the printed figures in BENCHMARKS.md with the command.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
FIXTURES = REPO / "tests" / "fixtures"
FIRST_MID = 700000

#: One refresh's answers per platform (fixture cases, in the order a spider asks them).
REFRESHES = {
    "bilibili (card)": [("bilibili", "card_mid2")],
    "weibo (user_index + info + posts)": [("weibo", "user_index_1669879400"), ("weibo", "info_container_7736375999"),
                                          ("weibo", "posts_1076031669879400")],
    "instagram (web_profile_info)": [("instagram", "web_profile_info_synthetic")],
    "x (UserByScreenName)": [("x", "user_by_screen_name_2026_08_current_no_legacy")],
    "tiktok (profile page)": [("tiktok", "profile_page_statsv2_synthetic")],
    "youtube (channel page)": [("youtube", "channel_page_html_pageheader_hospitalrecords")],
}


def _payload(platform: str, case: str) -> tuple[bytes, str]:
    import json

    folder = FIXTURES / platform / case
    (payload,) = [p for p in folder.iterdir() if p.name.startswith("response.")]
    return payload.read_bytes(), json.loads((folder / "meta.json").read_text(encoding="utf-8"))["url"]


def crawl(accounts: int) -> None:
    from benchmarks.crawl_throughput import build_recording, register

    with tempfile.TemporaryDirectory(prefix="wangzi-archive-bench-") as tmp:
        folder, database = Path(tmp), Path(tmp) / "bench.db"
        url = f"sqlite:///{database}"
        mids = list(range(FIRST_MID, FIRST_MID + accounts))
        register(url, mids)
        har, _ = build_recording(folder / "bench.har", mids)
        archive = folder / "archive"
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO), "WANGZI_ARCHIVE_DIR": str(archive)}
        args = [sys.executable, "-m", "crawler.cli", "crawl", "--platform", "bilibili", "--replay", str(har)]
        for name, value in {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": "false", "CONCURRENT_REQUESTS": 32,
                            "CONCURRENT_REQUESTS_PER_DOMAIN": 32}.items():
            args += ["--set", f"{name}={value}"]
        started = time.perf_counter()
        process = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
        if process.returncode not in (0, 1):
            raise SystemExit(process.stderr[-3000:])
        wall = time.perf_counter() - started
        files = list(archive.rglob("*.warc.gz"))
        on_disk = sum(p.stat().st_size for p in files)
        with sqlite3.connect(database) as db:
            answers, payload = db.execute("select count(*), sum(size) from archivecapture").fetchone()
            try:
                index = db.execute("select sum(pgsize) from dbstat where name like '%archivecapture%'").fetchone()[0]
            except sqlite3.OperationalError:  # SQLite built without dbstat
                index = None
            snapshots = db.execute("select count(*) from profilesnapshot").fetchone()[0]
        per = 1000 / accounts
        print(f"crawl: {accounts:,} Bilibili accounts, {snapshots:,} snapshots, {answers:,} answers archived "
              f"({payload:,} payload bytes) in {len(files)} WARC file(s), {wall:.1f} s")
        print(f"  per 1,000 refreshes: WARC {on_disk * per / 1024:,.0f} KiB on disk "
              f"(payload {payload * per / 1024:,.0f} KiB, ratio {on_disk / payload:.2f})"
              + (f", index rows {index * per / 1024:,.0f} KiB in SQLite" if index else ""))


def per_platform() -> None:
    from crawler.replay import Exchange
    from crawler.warc import WarcFile

    print("per platform, 1,000 refreshes written with the archive's writer:")
    print(f"  {'platform (answers per refresh)':40} {'payload KiB':>12} {'WARC KiB':>10} {'ratio':>6}")
    for name, cases in REFRESHES.items():
        answers = [_payload(p, c) for p, c in cases]
        with tempfile.TemporaryDirectory() as tmp:
            warc = WarcFile(Path(tmp), 1, "bench")
            for _ in range(1000):
                for body, url in answers:
                    warc.write(Exchange(url=url, body=body, headers={"Content-Type": "application/json"},
                                        request_headers={"User-Agent": "Mozilla/5.0", "Accept": "*/*"}),
                               payload_sha256="0" * 64, context={"Run": "1", "Platform": name.split()[0], "Source": "x"})
            warc.close()
            size = warc.path.stat().st_size
        payload = 1000 * sum(len(b) for b, _ in answers)
        print(f"  {name:40} {payload / 1024:12,.0f} {size / 1024:10,.0f} {size / payload:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args()
    crawl(args.accounts)
    per_platform()


if __name__ == "__main__":
    main()
