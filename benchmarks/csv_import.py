"""The CSV import rate of ``wangzi candidates import`` (issue 18 item 6): 200,000 rows, target
at least 10,000 rows/s.

    python benchmarks/csv_import.py                        # 200,000 rows into a new SQLite database
    python benchmarks/csv_import.py --postgres             # the same on a PostgreSQL server started here
    python benchmarks/csv_import.py --rows 20000 --batch 1 # one transaction per row, as before batches

The file is what a talent team exports: a name, two aliases, a note and a Bilibili id, a Weibo
uid and an X handle per row (every fourth row has only two of the accounts), with a bad row every
1,000 rows (a formula as a name, a malformed id, an account an earlier row has, a name an earlier
row has) so the per-row report is exercised. What is timed is ``crawler.candidates_csv.import_rows``
on the decoded text - reading the CSV, validating each row (storage.names, each platform's
``normalize_account``), checking accounts and names against the database and storing them - the
same function ``candidates import`` and ``POST /candidates/import`` call. Printed: rows, rows
added and rejected, seconds (wall and CPU of this process), rows/s, the ratio to the target, the
load average before and after, and the database.

Record the printed figures in BENCHMARKS.md with the command.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET = 10_000  # rows per second


def csv_text(rows: int) -> tuple[str, int]:
    """The CSV file's text and how many of its rows are bad on purpose."""
    lines = ["name,aliases,notes,bilibili,weibo,x"]
    bad = 0
    for n in range(rows):
        if n % 1000 == 999:
            bad += 1
            kind = (n // 1000) % 4
            if kind == 0:
                lines.append(f"=HYPERLINK(\"http://evil.example/{n}\"),,,{5_000_000 + n},,")
            elif kind == 1:
                lines.append(f"Creator {n},,,not-a-number,,")
            elif kind == 2:
                lines.append(f"Creator {n},,,{5_000_000 + n - 1},,")  # the account the row before has
            else:
                lines.append(f"Creator {n - 1},,,,,")  # the name the row before has
            continue
        weibo = f"{6_000_000_000 + n}" if n % 4 else ""
        x = f"creator_{n}" if n % 4 != 1 else ""
        lines.append(f"Creator {n},创作者{n}|C{n},\"imported for the benchmark, row {n + 2}\",{5_000_000 + n},{weibo},{x}")
    return "\n".join(lines) + "\n", bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=None, help="rows per transaction (default: the import's own)")
    parser.add_argument("--postgres", action="store_true", help="start a PostgreSQL server (Debian's binaries) and use it")
    parser.add_argument("--database-url", default=None, help="an empty database to import into instead")
    args = parser.parse_args()

    from crawler.candidates_csv import import_rows
    from storage.db import upgrade

    work = Path(tempfile.mkdtemp(prefix="wangzi-import-bench-"))
    database_url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    postgres = None
    if args.postgres:
        import psycopg

        from tests.postgres import PostgresServer

        postgres = PostgresServer().start()
        with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE bench")
        database_url = postgres.url("bench")
    try:
        upgrade(database_url)
        text, bad = csv_text(args.rows)
        load_before = os.getloadavg()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        report = import_rows(text, database_url, batch=args.batch)
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        load_after = os.getloadavg()
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        rate = args.rows / wall
        where = database_url.split("@")[-1] if "@" in database_url else database_url
        print(f"database: {where} ({os.cpu_count()} CPUs)")
        print(f"rows: {args.rows:,} ({len(report.added):,} added, {len(report.errors):,} rejected; {bad:,} bad on purpose)")
        print(f"batch: {args.batch or 'default'}")
        print(f"seconds: {wall:.1f} wall, {cpu:.1f} CPU (this process)")
        print(f"rate: {rate:,.0f} rows/s; ratio to the target ({TARGET:,} rows/s): {rate / TARGET:.2f}")
        print(f"load average: {load_before[0]:.2f} before, {load_after[0]:.2f} after")
        if len(report.errors) != bad:
            raise SystemExit(f"expected {bad} rejected rows, got {len(report.errors)}: {report.errors[:5]}")
    finally:
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    main()
