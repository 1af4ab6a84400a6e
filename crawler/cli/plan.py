"""``wangzi plan``: what the refresh policy costs per platform, and how many identities it needs.

For each platform: the accounts of the active candidates (or ``--assume N`` candidates with
one account on every platform), the requests one account costs per day (each spider's
``refresh_requests`` per kind - the primary endpoints only, fallbacks not counted - times
how often the policy refreshes that kind: profiles daily, details weekly, posts ...), the
requests per day, the polite rate one identity may use, the hours those requests take at it,
and how many identities (proxies x sessions) fit them in 24 hours.

One identity's rate on a platform is the lowest of the proxy rate (``WANGZI_PROXY_RATES``) and
the spider's per-host politeness (one request per ``DOWNLOAD_DELAY``, which holds per proxy);
a logged-in session also has a window per endpoint (``WANGZI_SESSION_WINDOWS``: X's 95 or 50
per 15 minutes), and the busiest endpoint may need longer than the rate alone says.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer

from crawler.cli._common import (
    DATABASE_OPTION,
    OK,
    USAGE,
    PlainTable,
    chosen_platforms,
    console,
    err,
    fail,
    friendly_errors,
    line,
)

DAY = 86400.0


@dataclass
class PlatformPlan:
    platform: str
    accounts: int
    per_account: float  # requests per account per day
    per_day: float
    identity_rate: float  # requests/s one identity achieves (its day's requests / the time they take)
    hours_one_identity: float
    identities_needed: int
    identities_configured: int
    limited_by: str


def per_account_per_day(refresh_requests: dict[str, float], intervals: dict[str, timedelta | None]) -> dict[str, float]:
    """Requests per account per day, by kind: each kind's requests times its refreshes a day."""
    return {kind: requests * DAY / intervals[kind].total_seconds()  # type: ignore[union-attr]
            for kind, requests in refresh_requests.items() if intervals.get(kind) is not None}


def seconds_one_identity(spider: type, settings: Any, platform: str, per_day_by_kind: dict[str, float]) -> tuple[float, str]:
    """(seconds one identity needs for a day's requests on ``platform``, what limits it).

    Every request waits for the identity's request rate: the lowest of the proxy rate
    (``WANGZI_PROXY_RATES``, when set) and the spider's per-host politeness (one request per
    ``DOWNLOAD_DELAY``, which holds per proxy). A logged-in session also has a window per
    endpoint (``WANGZI_SESSION_WINDOWS``), used in parallel: the busiest endpoint's share of
    its window may take longer still."""
    per_day = sum(per_day_by_kind.values())
    rates: list[tuple[float, str]] = []
    proxy_rates = {str(k): float(v) for k, v in settings.getdict("WANGZI_PROXY_RATES").items()}
    rate = proxy_rates.get(platform, proxy_rates.get("*", 0.0))
    if rate > 0:
        rates.append((rate, "WANGZI_PROXY_RATES"))
    delay = float((getattr(spider, "custom_settings", None) or {}).get("DOWNLOAD_DELAY")
                  or getattr(spider, "page_delay", 0) or settings.getfloat("DOWNLOAD_DELAY"))
    if delay > 0:
        rates.append((1.0 / delay, f"DOWNLOAD_DELAY {delay:g}s"))
    slowest = min(rates) if rates else (float("inf"), "nothing")
    times = [(per_day / slowest[0], slowest[1])]
    windows = settings.getdict("WANGZI_SESSION_WINDOWS")
    for kind, endpoint in (getattr(spider, "kind_endpoints", None) or {}).items():
        window = windows.get(endpoint)
        if window and per_day_by_kind.get(kind):
            times.append((per_day_by_kind[kind] / (int(window[0]) / float(window[1])), f"session window {endpoint}"))
    return max(times)


def configured_identities(spider: type, platform: str) -> int:
    """Proxies (1 without: the machine's own address) x sessions (1 for platforms without)."""
    from spiders.credentials import configured_proxies

    try:
        proxies = len(configured_proxies()) or 1
    except (OSError, ValueError):
        proxies = 1
    sessions = 1
    if hasattr(spider, "platform_sessions"):
        try:
            sessions = len(spider().platform_sessions())
        except (OSError, ValueError):
            sessions = 0
    return proxies * sessions


def make_plan(database_url: str | None, platforms: list[str], policy: Any, assume: int | None) -> list[PlatformPlan]:
    from crawler.runner import crawl_settings, spider_class

    settings = crawl_settings()
    counts: dict[str, int] = {}
    if assume is None:
        from storage.candidates import account_refs
        from storage.db import session_scope

        with session_scope(database_url) as session:
            counts = {p: len(account_refs(session, p)) for p in platforms}
    plans = []
    for platform in platforms:
        spider = spider_class(platform, settings)
        accounts = assume if assume is not None else counts.get(platform, 0)
        intervals = {kind: policy.interval(platform, kind) for kind in ("profiles", "details", "posts")}
        by_kind = per_account_per_day(dict(spider.refresh_requests), intervals)
        per_account = sum(by_kind.values())
        per_day = per_account * accounts
        seconds, limited_by = seconds_one_identity(spider, settings, platform, {k: v * accounts for k, v in by_kind.items()})
        plans.append(PlatformPlan(
            platform=platform, accounts=accounts, per_account=per_account, per_day=per_day,
            identity_rate=per_day / seconds if seconds else 0.0,
            hours_one_identity=seconds / 3600, identities_needed=max(1, math.ceil(seconds / DAY)) if per_day else 0,
            identities_configured=configured_identities(spider, platform), limited_by=limited_by,
        ))
    return plans


def plan(
    assume: int = typer.Option(None, "--assume", min=1, help="Plan for N candidates with one account on every platform, instead of the active candidates."),
    platform: list[str] = typer.Option(None, "--platform", "-p", help="Only these platforms (repeatable)."),
    policy_file: Path = typer.Option(None, "--policy", help="Refresh policy TOML (default WANGZI_REFRESH_POLICY or the bundled one)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Requests per day per platform under the refresh policy, the time they take at one
    identity's polite rate, and how many identities (proxies x sessions) fit them in 24 hours."""
    from crawler.schedule import PolicyError, RefreshPolicy

    try:
        policy = RefreshPolicy.load(policy_file)
    except PolicyError as exc:
        raise fail(str(exc), USAGE) from None
    with friendly_errors():
        plans = make_plan(database_url, chosen_platforms(platform), policy, assume)
    if as_json:
        typer.echo(json.dumps([asdict(p) for p in plans], indent=2))
        raise typer.Exit(OK)
    who = f"{assume:,} candidates, one account on every platform" if assume else "the active candidates' accounts"
    table = PlainTable(title=f"Refresh plan: {who} ({policy.source})")
    for column in ("platform", "accounts", "req/account/day", "req/day", "rate/identity", "hours at 1", "identities needed",
                   "configured", "rate limited by"):
        table.add_column(column, justify="left" if column in {"platform", "rate limited by"} else "right")
    for p in plans:
        short = p.identities_configured < p.identities_needed
        table.add_row(p.platform, f"{p.accounts:,}", f"{p.per_account:.2f}", f"{p.per_day:,.0f}", f"{p.identity_rate:.3g}/s",
                      f"{p.hours_one_identity:,.1f}", str(p.identities_needed),
                      f"{p.identities_configured}" + (" (short)" if short else ""), p.limited_by)
    console.print(table)
    total = sum(p.per_day for p in plans)
    err.print(line(f"{total:,.0f} requests a day in all; identities = proxies x sessions (a session always keeps one proxy)"))


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
