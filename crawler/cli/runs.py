"""``wangzi runs`` (recent crawl runs) and ``wangzi health`` (is any platform failing?).

Health compares, per platform, the runs of the last ``--window`` with those of the
``--baseline`` period before it. A platform is unhealthy when its account success rate
(accounts that gave a profile / accounts tried) is below ``--min-success``, or when the
share of accounts that only failed rose by ``--max-jump`` or more over the baseline: the
signs that a platform changed its format or started blocking. ``wangzi health`` then exits
1 and names the platform, so cron, systemd or Kubernetes can alert on it.

Press feed failures (Google News, GDELT) are listed with the run's other failures, in the
``press`` row of ``wangzi runs``; they are not account outcomes and never make a platform
unhealthy.

Storage (SQLAlchemy) and the scheduler (Scrapy) are imported inside the functions that use
them, so ``wangzi --help`` does not load them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from crawler.cli._common import (
    DATABASE_OPTION,
    OK,
    PROBLEM,
    USAGE,
    PlainTable,
    chosen_platforms,
    console,
    err,
    fail,
    friendly_errors,
    line,
    setting_overrides,
)


#: Run triggers health does not judge: ``wangzi health --probe`` runs (their absent canary
#: fails on purpose).
NOT_JUDGED = frozenset({"probe"})


@dataclass
class PlatformWindow:
    """What the runs of one period did on one platform."""

    runs: int = 0
    requests: int = 0
    snapshots: int = 0
    accounts_ok: int = 0
    accounts_failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def accounts(self) -> int:
        return self.accounts_ok + self.accounts_failed

    @property
    def success_rate(self) -> float | None:
        return self.accounts_ok / self.accounts if self.accounts else None

    @property
    def failure_share(self) -> float | None:
        return self.accounts_failed / self.accounts if self.accounts else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(failures=dict(self.failures), accounts=self.accounts, success_rate=self.success_rate)
        return data


@dataclass
class PlatformHealth:
    platform: str
    current: PlatformWindow
    baseline: PlatformWindow
    problems: list[str]

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"platform": self.platform, "healthy": self.healthy, "problems": self.problems,
                "current": self.current.to_json(), "baseline": self.baseline.to_json()}


def window_stats(session: Any, start: datetime, end: datetime) -> dict[str, PlatformWindow]:
    """Per platform: the runs that started in [start, end), summed."""
    from storage.runs import run_account_outcomes, runs_between

    # Probe runs crawl canaries, one of them absent on purpose; a reparse is not a crawl.
    runs = [run for run in runs_between(session, start, end) if run.trigger not in NOT_JUDGED]
    windows: dict[str, PlatformWindow] = {}
    for run in runs:
        for platform, stats in (run.stats or {}).items():
            if not isinstance(stats, dict):
                continue
            window = windows.setdefault(platform, PlatformWindow())
            window.runs += 1
            window.requests += int(stats.get("requests") or 0)
            window.snapshots += int(stats.get("snapshots") or 0)
            window.failures.update({k: int(v) for k, v in (stats.get("failures") or {}).items()})
    for platform, outcome in run_account_outcomes(session, [r.id for r in runs if r.id is not None]).items():
        window = windows.setdefault(platform, PlatformWindow())
        window.accounts_ok += outcome["accounts_ok"]
        window.accounts_failed += outcome["accounts_failed"]
    return windows


def assess(
    database_url: str | None,
    *,
    window: timedelta = timedelta(hours=24),
    baseline: timedelta = timedelta(days=7),
    min_success: float = 0.8,
    max_jump: float = 0.25,
    min_accounts: int = 1,
    now: datetime | None = None,
) -> list[PlatformHealth]:
    """Health of every platform crawled in the window (see module docstring)."""
    from storage.db import session_scope
    from storage.models import utcnow
    from storage.runs import interrupt_dead_runs

    now = now or utcnow()
    with session_scope(database_url) as session:
        interrupt_dead_runs(session)
        current = window_stats(session, now - window, now + timedelta(seconds=1))
        before = window_stats(session, now - window - baseline, now - window)
    report = []
    for platform in sorted(current):
        cur, base = current[platform], before.get(platform, PlatformWindow())
        problems = []
        if cur.accounts >= min_accounts and cur.success_rate is not None and cur.success_rate < min_success:
            problems.append(f"success rate {cur.success_rate:.0%} < {min_success:.0%} "
                            f"({cur.accounts_failed} of {cur.accounts} accounts failed{_top(cur.failures)})")
        if (cur.accounts >= min_accounts and base.accounts >= min_accounts and cur.failure_share is not None
                and base.failure_share is not None and cur.failure_share - base.failure_share >= max_jump):
            problems.append(f"failures jumped from {base.failure_share:.0%} to {cur.failure_share:.0%} of accounts"
                            f"{_top(cur.failures)}")
        report.append(PlatformHealth(platform, cur, base, problems))
    return report


def _top(failures: Counter[str]) -> str:
    if not failures:
        return ""
    return "; mostly " + ", ".join(f"{kind} x{count}" for kind, count in failures.most_common(2))


def _duration(text: str, option: str) -> timedelta:
    from crawler.schedule import PolicyError, parse_duration

    try:
        value = parse_duration(text, option)
    except PolicyError as exc:
        raise fail(str(exc), USAGE) from None
    if value is None:
        raise fail(f"{option} cannot be 'off'", USAGE)
    return value


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


# --------------------------------------------------------------------------- commands


def runs(
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=100_000, help="How many recent runs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    due: bool = typer.Option(False, "--due", help="Also show, per platform, how many accounts are due and leased now."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Recent crawl runs: trigger, status, duration and per platform requests, snapshots,
    failures by kind and success rate."""
    from storage.db import session_scope
    from storage.runs import interrupt_dead_runs, recent_runs

    with friendly_errors():
        with session_scope(database_url) as session:
            interrupt_dead_runs(session)  # a run whose process is gone is not shown running
            rows = recent_runs(session, limit)
        overview = None
        if due:
            from crawler.schedule import RefreshPolicy, due_overview

            overview = due_overview(database_url, RefreshPolicy.load(), chosen_platforms(None))
    if as_json:
        payload: Any = [
            {"id": r.id, "trigger": r.trigger, "status": r.status, "started_at": r.started_at.isoformat(),
             "finished_at": r.finished_at.isoformat() if r.finished_at else None, "stats": r.stats}
            for r in rows
        ]
        if overview is not None:
            payload = {"runs": payload, "due": overview}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        raise typer.Exit(OK)
    table = PlainTable(title="Recent runs")
    for column in ("run", "trigger", "status", "started (UTC)", "took", "platform", "requests", "snapshots", "success", "failures"):
        table.add_column(column, justify="right" if column in {"run", "requests", "snapshots", "success"} else "left")
    for run in rows:
        took = str(run.finished_at - run.started_at).split(".")[0] if run.finished_at else "-"
        platforms = sorted((run.stats or {}).items()) or [("-", {})]
        for index, (platform, stats) in enumerate(platforms):
            first = index == 0
            failures = ", ".join(f"{k} {v}" for k, v in sorted((stats.get("failures") or {}).items())) or "-"
            table.add_row(
                str(run.id) if first else "", run.trigger if first else "", run.status if first else "",
                run.started_at.strftime("%Y-%m-%d %H:%M:%S") if first else "", took if first else "",
                platform, str(stats.get("requests") or 0) if stats else "", str(stats.get("snapshots", "")),
                _pct(stats.get("parse_success_rate")), failures if stats else "",
            )
    console.print(table)
    _print_probe_skips(database_url)
    if overview is not None:
        due_table = PlainTable(title="Due now")
        for column in ("platform", "accounts", "due", "leased"):
            due_table.add_column(column, justify="left" if column == "platform" else "right")
        for platform, counts in overview.items():
            due_table.add_row(platform, str(counts["accounts"]), str(counts["due"]), str(counts["leased"]))
        console.print(due_table)


def _print_probe_skips(database_url: str | None) -> None:
    """Name the platforms scheduled crawls skip because their last probe said drift."""
    from storage.db import session_scope
    from storage.probe_results import drifted_platforms

    with session_scope(database_url) as session:
        drifted = drifted_platforms(session)
    for platform, result in drifted.items():
        err.print(line(("skipped:", "bold yellow"), f" scheduled crawls skip {platform}: its last probe "
                       f"({result.probed_at:%Y-%m-%d %H:%M} UTC, run {result.crawl_run_id}) said drift "
                       f"({result.parser} v{result.parser_version}: {result.detail}); once the parser is fixed, "
                       "run `wangzi health --probe` again"))


def _probe(database_url: str | None, canaries: Path | None, platforms: list[str] | None, replay: Path | None,
           setting: list[str] | None, as_json: bool) -> None:
    """``wangzi health --probe`` (crawler/probes.py)."""
    from crawler.extensions.progress import stop_progress
    from crawler.probes import CanaryError, load_canaries, probe

    try:
        found = load_canaries(canaries)
    except CanaryError as exc:
        raise fail(str(exc), USAGE) from None
    with friendly_errors():
        wanted = chosen_platforms(platforms) if platforms else list(found)
        missing = [p for p in wanted if p not in found]
        if missing:
            raise fail(f"no canaries for {', '.join(missing)} in the canaries file (add a [{missing[0]}] table)", USAGE)
        chosen = {p: found[p] for p in wanted}
        run_id, verdicts = probe(database_url, chosen, replay=replay,
                                 overrides={"LOG_LEVEL": "WARNING", "WANGZI_PROGRESS": False, **setting_overrides(setting)})
    stop_progress()
    bad = [v for v in verdicts if v.status != "ok"]
    if as_json:
        typer.echo(json.dumps({"run_id": run_id, "ok": not bad, "platforms": [v.to_json() for v in verdicts]},
                              ensure_ascii=False, indent=2))
    else:
        styles = {"ok": "green", "drift": "bold red", "wrong-absence": "bold red", "blocked": "yellow"}
        table = PlainTable(title=f"Probes (run {run_id})")
        for column in ("platform", "status", "parser", "detail"):
            table.add_column(column)
        for v in verdicts:
            table.add_row(v.platform, Text(v.status, styles[v.status]), f"{v.parser} v{v.parser_version}", v.detail)
        console.print(table)
    for v in bad:
        err.print(line((f"probe {v.status}:", "bold red"), f" {v.platform} (parser {v.parser} v{v.parser_version}): {v.detail}"))
    if any(v.status == "drift" for v in verdicts):
        err.print(line("scheduled crawls (crawl --due) skip a platform whose last probe said drift"))
    raise typer.Exit(PROBLEM if bad else OK)


def health(
    window: str = typer.Option("24h", "--window", help="Judge the runs started this long ago until now."),
    baseline: str = typer.Option("7d", "--baseline", help="Compare with the runs of this period before the window."),
    min_success: float = typer.Option(0.8, "--min-success", min=0.0, max=1.0, help="Lowest acceptable share of accounts that gave a profile."),
    max_jump: float = typer.Option(0.25, "--max-jump", min=0.0, max=1.0, help="Largest acceptable rise of the share of failed accounts over the baseline."),
    min_accounts: int = typer.Option(1, "--min-accounts", min=1, help="Judge a platform only when at least this many accounts were tried."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str = DATABASE_OPTION,
    probe: bool = typer.Option(False, "--probe", help="Instead: crawl each platform's canaries (a live account, an absent id) and classify it ok, drift, blocked or wrong-absence."),
    canaries: Path = typer.Option(None, "--canaries", help="With --probe: canaries TOML (default: WANGZI_CANARIES or the bundled crawler/data/canaries.toml)."),
    platform: list[str] = typer.Option(None, "--platform", "-p", help="With --probe: only these platforms (repeatable)."),
    replay: Path = typer.Option(None, "--replay", help="With --probe: serve every request from this HAR recording (offline)."),
    setting: list[str] = typer.Option(None, "--set", "-s", help="With --probe: Scrapy/Wangzi setting NAME=VALUE (repeatable)."),
) -> None:
    """Exit 1 naming each platform whose success rate fell below --min-success or whose
    failures jumped (a format change or a block), 0 when all are healthy.

    With --probe: crawl the canaries and exit 1 naming each platform (and its parser) that is
    not ok; a platform whose probe says drift is skipped by scheduled crawls until a probe
    says otherwise."""
    if probe:
        _probe(database_url, canaries, platform, replay, setting, as_json)
    if canaries or platform or replay or setting:
        raise fail("--canaries, --platform, --replay and --set go with --probe", USAGE)
    with friendly_errors():
        report = assess(
            database_url, window=_duration(window, "--window"), baseline=_duration(baseline, "--baseline"),
            min_success=min_success, max_jump=max_jump, min_accounts=min_accounts,
        )
    unhealthy = [h for h in report if not h.healthy]
    if as_json:
        typer.echo(json.dumps({"healthy": not unhealthy, "platforms": [h.to_json() for h in report]}, ensure_ascii=False, indent=2))
    else:
        table = PlainTable(title=f"Crawl health (last {window}, baseline {baseline} before)")
        for column in ("platform", "runs", "accounts", "success", "baseline", "failures", "status"):
            table.add_column(column, justify="right" if column in {"runs", "accounts", "success", "baseline"} else "left")
        for h in report:
            failures = ", ".join(f"{k} {v}" for k, v in h.current.failures.most_common()) or "-"
            table.add_row(h.platform, str(h.current.runs), str(h.current.accounts), _pct(h.current.success_rate),
                          _pct(h.baseline.success_rate), failures, Text("ok", "green") if h.healthy else Text("UNHEALTHY", "bold red"))
        console.print(table)
        if not report:
            err.print(line(f"no crawl runs in the last {window}"))
    for h in unhealthy:
        err.print(line(("unhealthy:", "bold red"), f" {h.platform}: " + "; ".join(h.problems)))
    from crawler.cli.sessions import expired_session_problems  # issue 17: sessions a crawl found expired

    with friendly_errors():
        expired = expired_session_problems(database_url, _duration(window, "--window"))
    for problem in expired:
        err.print(line(("unhealthy:", "bold red"), f" {problem}"))
    raise typer.Exit(PROBLEM if unhealthy or expired else OK)


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)
    app.command("health")(health)
