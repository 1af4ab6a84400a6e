"""``wangzi proxies list`` / ``wangzi proxies check``: the configured forward proxies.

Proxies come from ``WANGZI_PROXIES`` or ``WANGZI_PROXIES_FILE`` (docs/operations.md). Only a
proxy's name and address (``scheme://host:port``) are ever printed, never its credentials.
``list`` shows each proxy with what crawls last saw of it per platform (``identitystate``: ok
or quarantined until when, the last failure, requests, refusals, the configured rate);
``check`` sends one request through each proxy (``--url``) and exits 1 naming those that fail.
"""

from __future__ import annotations

import json
import time
from typing import Any

import typer
from rich.text import Text

from crawler.cli._common import (
    DATABASE_OPTION,
    OK,
    PROBLEM,
    USAGE,
    PlainTable,
    console,
    err,
    fail,
    friendly_errors,
    line,
)

app = typer.Typer(help="Forward proxies: their state per platform, and a check that each answers.", no_args_is_help=True)


def _configured() -> list[Any]:
    from spiders.credentials import ProxyProblem, configured_proxies

    try:
        return configured_proxies()
    except ProxyProblem as exc:
        raise fail(str(exc), USAGE) from None


@app.command("list")
def list_proxies(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Every configured proxy (name, address, labels) and, per platform, its last known state."""
    from storage.db import session_scope
    from storage.identities import identity_states

    proxies = _configured()
    with friendly_errors():
        with session_scope(database_url) as session:
            states = identity_states(session, "proxy")
    by_name: dict[str, list[Any]] = {}
    for state in states:
        by_name.setdefault(state.name, []).append(state)
    rows = []
    for proxy in proxies:
        for state in by_name.pop(proxy.name, []) or [None]:
            rows.append({
                "name": proxy.name, "address": proxy.address, "labels": proxy.labels, "configured": True,
                "platform": state.platform if state else None, "status": state.status if state else "unused",
                "until": state.until.isoformat() if state and state.until else None,
                "requests": state.requests if state else 0, "refused": state.refused if state else 0,
                "quarantines": state.quarantines if state else 0, "last_failure": state.last_failure if state else None,
                "last_failure_at": state.last_failure_at.isoformat() if state and state.last_failure_at else None,
                "rate": state.rate if state else None,
            })
    for name, gone in by_name.items():  # proxies crawls used that are no longer configured
        for state in gone:
            rows.append({"name": name, "address": None, "labels": {}, "configured": False, "platform": state.platform,
                         "status": state.status, "until": state.until.isoformat() if state.until else None,
                         "requests": state.requests, "refused": state.refused, "quarantines": state.quarantines,
                         "last_failure": state.last_failure,
                         "last_failure_at": state.last_failure_at.isoformat() if state.last_failure_at else None,
                         "rate": state.rate})
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        raise typer.Exit(OK)
    table = PlainTable(title="Proxies")
    for column in ("proxy", "address", "labels", "platform", "state", "until", "requests", "refused", "last failure", "rate/s"):
        table.add_column(column, justify="right" if column in {"requests", "refused", "rate/s"} else "left")
    for row in rows:
        status = Text(row["status"], "bold red" if row["status"] == "quarantined" else "green" if row["status"] == "ok" else "dim")
        table.add_row(
            row["name"], row["address"] or "(no longer configured)", " ".join(f"{k}={v}" for k, v in row["labels"].items()) or "-",
            row["platform"] or "-", status, (row["until"] or "-")[:16], str(row["requests"]), str(row["refused"]),
            f"{row['last_failure']} {row['last_failure_at'][:16]}" if row["last_failure"] else "-",
            "-" if row["rate"] is None else f"{row['rate']:g}",
        )
    console.print(table)
    if not proxies:
        err.print(line("no proxies configured (WANGZI_PROXIES or WANGZI_PROXIES_FILE; see docs/operations.md)"))


def check_one(proxy: Any, url: str, timeout: float) -> tuple[bool, str]:
    """One GET of ``url`` through ``proxy``: (ok, what happened). Never names the credentials."""
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy.url, "https": proxy.url}))
    started = time.monotonic()
    try:
        with opener.open(urllib.request.Request(url, headers={"User-Agent": "wangzi proxies check"}), timeout=timeout) as answer:
            answer.read(1024)
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"{type(reason).__name__}: {getattr(reason, 'strerror', None) or reason}".replace(proxy.url, proxy.address)
    took = (time.monotonic() - started) * 1000
    if status in (403, 407, 429) or status >= 500:
        return False, f"HTTP {status} in {took:.0f} ms"
    return True, f"HTTP {status} in {took:.0f} ms"


@app.command("check")
def check_proxies(
    url: str = typer.Option("https://www.bilibili.com/", "--url", help="What to ask through each proxy."),
    timeout: float = typer.Option(15.0, "--timeout", min=0.1, help="Seconds per proxy."),
) -> None:
    """Send one request through each proxy; exit 1 naming those that fail."""
    proxies = _configured()
    if not proxies:
        raise fail("no proxies configured (WANGZI_PROXIES or WANGZI_PROXIES_FILE)", USAGE)
    bad = 0
    for proxy in proxies:
        ok, what = check_one(proxy, url, timeout)
        bad += not ok
        console.print(line((proxy.name, "bold"), f" {proxy.address}: ", ("ok" if ok else "FAILED", "green" if ok else "bold red"),
                           f" ({what})"))
    raise typer.Exit(PROBLEM if bad else OK)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="proxies")
