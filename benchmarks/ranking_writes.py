"""What rewriting every ranking costs, stored on the feature rows (before migration 0024) and in a table of their own (since).

When every row's ranking moves (``enrich_scale.py``'s "every row moves" step), the ranking
writes 2,000 rows. Stored on the feature row, as before migration 0024, SQLite rewrote each
feature row whole: its ~6 KB document with its ~2 KB ranking. This measures that write alone,
in raw SQLite (WAL, ``synchronous=NORMAL``, as ``storage/db.py`` opens a database), on a copy
of the feature rows ``enrich_scale.py`` left in its database: laid out as ``featuresnapshot``
was before migration 0024 (the ranking columns on the row), and as it is now (the ranking in
``featureranking``, keyed by the feature row). Each round writes a new ranking to the newest
2,000 rows (their real rankings with every number moved a little and one percentile in each
contributor text changed). Prints the update and commit seconds of each round and the ratio
of today's layout to the one before. (The copies are small, fresh files: in the benchmark's
own 2.4 GB database the same writes cost 0.20-0.23 s before and 0.06 s now, the checkpoint's
sync of scattered pages included.)

    python benchmarks/enrich_scale.py          # once: makes the database and its feature rows
    python benchmarks/ranking_writes.py        # --db PATH for another enrich_scale database
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

#: The columns a ranking writes (``enrichment.stage._write_rankings``).
RANKING = ["ranked_at", "reference", "ranking_digest", "tier", "top_contributors"] + [
    f"{index}_{kind}" for index in ("leadership", "sales_driving", "influence", "composite")
    for kind in ("index", "coverage", "score")]
ROUNDS = 3


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _layouts(source: Path, folder: Path) -> tuple[sqlite3.Connection, sqlite3.Connection, list[str], list[tuple]]:
    """The layout before migration 0024 and today's, each holding the source's feature rows
    with their rankings."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    features = [row[1] for row in src.execute("PRAGMA table_info(featuresnapshot)")]
    columns = features + RANKING
    rows = src.execute(f"SELECT {', '.join('f.' + name for name in features)}, {', '.join('r.' + name for name in RANKING)} "
                       "FROM featuresnapshot f LEFT JOIN featureranking r ON r.snapshot_id = f.id ORDER BY f.id").fetchall()
    src.close()
    at = {name: i for i, name in enumerate(columns)}
    before = _open(folder / "before.db")
    before.execute(f"CREATE TABLE featuresnapshot ({', '.join(n + (' INTEGER PRIMARY KEY' if n == 'id' else '') for n in columns)})")
    before.execute("CREATE INDEX ix_featuresnapshot_candidate_as_of ON featuresnapshot (candidate_id, as_of)")
    before.execute("CREATE INDEX ix_featuresnapshot_ranked_at ON featuresnapshot (ranked_at)")
    before.execute("BEGIN")
    before.executemany(f"INSERT INTO featuresnapshot VALUES ({', '.join('?' * len(columns))})", rows)
    before.execute("COMMIT")
    today = _open(folder / "today.db")
    today.execute(f"CREATE TABLE featuresnapshot ({', '.join(n + (' INTEGER PRIMARY KEY' if n == 'id' else '') for n in features)})")
    today.execute("CREATE INDEX ix_featuresnapshot_candidate_as_of ON featuresnapshot (candidate_id, as_of)")
    today.execute(f"CREATE TABLE featureranking (snapshot_id INTEGER PRIMARY KEY, {', '.join(RANKING)})")
    today.execute("CREATE INDEX ix_featureranking_ranked_at ON featureranking (ranked_at)")
    today.execute("BEGIN")
    today.executemany(f"INSERT INTO featuresnapshot VALUES ({', '.join('?' * len(features))})",
                      [[row[at[name]] for name in features] for row in rows])
    today.executemany(f"INSERT INTO featureranking VALUES (?, {', '.join('?' * len(RANKING))})",
                      [[row[at["id"]]] + [row[at[name]] for name in RANKING] for row in rows])
    today.execute("COMMIT")
    return before, today, columns, rows


def _rankings(columns: list[str], rows: list[tuple], round_: int, rng: random.Random) -> list[list[object]]:
    """A new ranking for each of the newest 2,000 rows, its id last."""
    out = []
    for row in rows[-2000:]:
        values = dict(zip(columns, row))
        text = (values["top_contributors"] or "{}").replace('"percentile": 1', f'"percentile": {round_ + 2}')
        out.append([f"2026-12-03 19:00:0{round_}.000000", values["reference"], f"{rng.getrandbits(128):032x}",
                    values["tier"], text]
                   + [None if values[name] is None else values[name] + rng.random() / 100 for name in RANKING[5:]]
                   + [values["id"]])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/wangzi-bench/enrich-2000x8x365.db"))
    args = parser.parse_args()
    if not args.db.exists():
        sys.exit(f"{args.db} does not exist: run `python benchmarks/enrich_scale.py` first")
    with tempfile.TemporaryDirectory() as folder:
        before, today, columns, rows = _layouts(args.db, Path(folder))
        if len(rows) < 2000:
            sys.exit(f"{args.db} holds {len(rows)} feature rows: run `python benchmarks/enrich_scale.py` first")
        assignments = ", ".join(f"{name} = ?" for name in RANKING)
        totals: dict[str, list[float]] = {"before": [], "today": []}
        rng = random.Random(1)
        for round_ in range(ROUNDS):
            values = _rankings(columns, rows, round_, rng)
            for label, db, table, key in (("before", before, "featuresnapshot", "id"),
                                          ("today", today, "featureranking", "snapshot_id")):
                db.execute("BEGIN")
                begun = time.perf_counter()
                db.executemany(f"UPDATE {table} SET {assignments} WHERE {key} = ?", values)
                updated = time.perf_counter()
                db.execute("COMMIT")
                committed = time.perf_counter()
                totals[label].append(committed - begun)
                print(f"round {round_ + 1}, {label:<6}: update {updated - begun:.3f} s, commit {committed - updated:.3f} s")
        before.close()
        today.close()
    best = {label: min(seconds) for label, seconds in totals.items()}
    print(f"2,000 rankings rewritten, best of {ROUNDS}: on the feature rows (before 0024) {best['before']:.3f} s, "
          f"in featureranking (today) {best['today']:.3f} s (ratio {best['today'] / best['before']:.2f}, "
          f"{best['before'] - best['today']:.3f} s saved)")


if __name__ == "__main__":
    main()
