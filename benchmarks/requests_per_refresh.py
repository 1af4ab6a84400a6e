"""Requests per account refresh, measured: replayed scheduled crawls (``wangzi crawl --due``) of
N accounts of one platform, the runs' own request counts (``crawlrun.stats``), per account.

    python benchmarks/requests_per_refresh.py                       # Bilibili, this tree, 500 accounts
    python benchmarks/requests_per_refresh.py --platform weibo --accounts 100
    python benchmarks/requests_per_refresh.py --repo /tmp/before    # another checkout (e.g. a worktree of an older commit)

The recording answers every endpoint the spider may ask from ``tests/fixtures/<platform>``
(``tests/ops_recording.py``), so what a run counts is what the spider chose to ask. Two due
crawls run: the first with every kind due (never crawled), the second two seconds later under
a policy refreshing profiles and posts every second and details weekly: a daily refresh.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--platform", default="bilibili")
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose spider is measured")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wangzi-requests-"))
    database_url = f"sqlite:///{work / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(args.repo)}
    prepare = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(args.repo)!r})
from storage.db import upgrade
upgrade({database_url!r})
from tests.ops_recording import accounts_recording, register_accounts
refs = register_accounts({database_url!r}, {args.platform!r}, {args.accounts})
accounts_recording(Path({str(work / 'accounts.har')!r}), {args.platform!r}, refs)
"""
    subprocess.run([sys.executable, "-c", prepare], env=env, cwd=args.repo, check=True)
    daily = work / "daily.toml"
    # A tree from before the details kind refuses the key: it refreshes everything daily.
    knows_details = '"details"' in (args.repo / "crawler" / "schedule.py").read_text(encoding="utf-8")
    daily.write_text('[default]\nprofiles = "1s"\nposts = "1s"\n' + ('details = "7d"\n' if knows_details else ""))
    import time

    for label, policy in (("first refresh (every kind due)", None), ("daily refresh", daily)):
        command = [sys.executable, "-m", "crawler.cli", "crawl", "--due", "-p", args.platform, "--replay", str(work / "accounts.har")]
        if policy is not None:
            time.sleep(2.5)
            command += ["--policy", str(policy)]
        crawl = subprocess.run(command, env=env, cwd=args.repo, capture_output=True, text=True)
        if crawl.returncode not in (0, 1):
            raise SystemExit(crawl.stderr[-2000:])
        runs = subprocess.run([sys.executable, "-m", "crawler.cli", "runs", "--json", "-n", "1"], env=env, cwd=args.repo,
                              capture_output=True, text=True, check=True)
        stats = json.loads(runs.stdout)[0]["stats"][args.platform]
        requests, snapshots = stats["requests"], stats["snapshots"]
        print(f"{args.repo} {args.platform}, {label}: {args.accounts} accounts, {snapshots} snapshots, {requests} requests "
              f"({requests / args.accounts:.3f} per account)", flush=True)


if __name__ == "__main__":
    main()
