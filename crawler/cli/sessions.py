"""``wangzi sessions list`` / ``wangzi sessions check``: the logged-in sessions of each platform.

Sessions are configured in the environment (``WANGZI_<PLATFORM>_SESSIONS``, a JSON list) or
the owner-only secrets file (``[sessions.<platform>.<name>]``); see docs/operations.md. Only
their names are ever printed. ``list`` shows each configured session with what crawls last
saw of it (``identitystate``: ok, locked for an endpoint until when, expired);
``check`` says whether each session's configuration is usable and exits 1 when a platform
has sessions configured but none usable (all expired), naming them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import typer
from rich.text import Text

from crawler.cli._common import (
    DATABASE_OPTION,
    OK,
    PROBLEM,
    PlainTable,
    chosen_platforms,
    console,
    err,
    friendly_errors,
    line,
)

app = typer.Typer(help="Logged-in sessions per platform: their state (ok, locked, expired).", no_args_is_help=True)


def configured(platforms: list[str]) -> dict[str, list[Any]]:
    """platform -> its configured sessions (as the spider reads them), or the error that stops them."""
    from crawler.runner import spider_class

    found: dict[str, list[Any]] = {}
    for platform in platforms:
        try:
            spider = spider_class(platform)
        except KeyError:
            continue
        if hasattr(spider, "platform_sessions"):
            sessions = spider().platform_sessions()
        else:
            from spiders.credentials import platform_sessions

            try:
                sessions = platform_sessions(platform)
            except (OSError, ValueError) as exc:
                sessions = [exc]
        if sessions:
            found[platform] = sessions
    return found


def stored_states(database_url: str | None, platforms: list[str]) -> dict[tuple[str, str], Any]:
    from storage.db import session_scope
    from storage.identities import identity_states

    with session_scope(database_url) as session:
        return {(s.platform, s.name): s for s in identity_states(session, "session", platforms)}


def expired_session_problems(database_url: str | None, since: timedelta = timedelta(days=7)) -> list[str]:
    """One line per session a crawl found expired in the last ``since`` (for ``wangzi health``)."""
    from storage.db import session_scope
    from storage.identities import expired_sessions
    from storage.models import utcnow

    with session_scope(database_url) as session:
        rows = expired_sessions(session, utcnow() - since)
    return [f"{s.platform} session {s.name} expired (a login wall while logged in, {s.updated_at:%Y-%m-%d %H:%M} UTC): "
            f"log in again and replace its cookies" for s in rows]


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


@app.command("list")
def list_sessions(
    platform: list[str] = typer.Option(None, "--platform", "-p", help="Only these platforms (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Every configured session (names only) and what crawls last saw of it."""
    with friendly_errors():
        platforms = chosen_platforms(platform)
        sessions = configured(platforms)
        states = stored_states(database_url, platforms)
    rows = []
    for name_platform in sorted({*((p, s.name) for p, ss in sessions.items() for s in ss if not isinstance(s, Exception)), *states}):
        state = states.get(name_platform)
        rows.append({
            "platform": name_platform[0], "name": name_platform[1],
            "configured": any(getattr(s, "name", None) == name_platform[1] for s in sessions.get(name_platform[0], [])),
            "status": state.status if state else "unused", "endpoint": state.endpoint if state else None,
            "until": state.until.isoformat() if state and state.until else None,
            "requests": state.requests if state else 0, "last_failure": state.last_failure if state else None,
            "last_failure_at": state.last_failure_at.isoformat() if state and state.last_failure_at else None,
        })
    problems = [(p, str(s)) for p, ss in sessions.items() for s in ss if isinstance(s, Exception)]
    if as_json:
        typer.echo(json.dumps({"sessions": rows, "problems": [{"platform": p, "error": e} for p, e in problems]}, indent=2))
        raise typer.Exit(OK)
    table = PlainTable(title="Sessions")
    for column in ("platform", "session", "status", "until", "requests", "last failure"):
        table.add_column(column, justify="right" if column == "requests" else "left")
    for row in rows:
        status = Text(row["status"], "bold red" if row["status"] == "expired" else "yellow" if row["status"] == "locked" else "green")
        if not row["configured"]:
            status = Text(f"{row['status']} (no longer configured)", "dim")
        until = f"{row['until'][:16]} ({row['endpoint']})" if row["until"] else "-"
        failure = f"{row['last_failure']} {row['last_failure_at'][:16]}" if row["last_failure"] else "-"
        table.add_row(row["platform"], row["name"], status, until, str(row["requests"]), failure)
    console.print(table)
    if not rows:
        err.print(line("no sessions configured (WANGZI_<PLATFORM>_SESSIONS or [sessions.<platform>.<name>] in "
                       "WANGZI_SECRETS_FILE; see docs/operations.md)"))
    for platform_name, error in problems:
        err.print(line(("error:", "bold red"), f" {platform_name} sessions: {error}"))


@app.command("check")
def check_sessions(
    platform: list[str] = typer.Option(None, "--platform", "-p", help="Only these platforms (repeatable)."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Exit 1 naming each platform whose sessions are misconfigured or all expired."""
    with friendly_errors():
        platforms = chosen_platforms(platform)
        sessions = configured(platforms)
        states = stored_states(database_url, platforms)
    bad = 0
    for name, found in sessions.items():
        errors = [s for s in found if isinstance(s, Exception)]
        usable = [s for s in found if not isinstance(s, Exception)
                  and getattr(states.get((name, s.name)), "status", "ok") != "expired"]
        for error in errors:
            bad += 1
            err.print(line(("error:", "bold red"), f" {name} sessions: {error}"))
        expired = [s.name for s in found if not isinstance(s, Exception) and s not in usable]
        if expired:
            err.print(line(("expired:", "bold red"), f" {name}: " + ", ".join(expired)))
        if not usable and not errors:
            bad += 1
        console.print(line(f"{name}: {len(usable)} usable session(s)" + (f", {len(expired)} expired" if expired else "")))
    if not sessions:
        err.print(line("no sessions configured"))
    raise typer.Exit(PROBLEM if bad else OK)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="sessions")
