"""``wangzi leads``: the review queue of accounts ``wangzi discover`` found.

``leads list`` shows new leads by pre-score; ``leads promote`` makes candidates of them (their
account registered, their name checked like any candidate's) and looks them up at once;
``leads reject`` takes them out of the queue for good (a rejected lead found again is not
proposed again). Names, bios and texts come from platforms: they are printed as text only
(crawler/cli/_common.py) and reach the database only as bound values.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

import typer

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
    log_overrides,
    setting_overrides,
    shown_detail,
)

leads_app = typer.Typer(help="Review the accounts `wangzi discover` found: list, promote, reject.", no_args_is_help=True)

STATUSES = ("new", "promoted", "rejected", "all")


def _who(by: str | None) -> str:
    """Who acts: ``--by``, else the login name; checked like a name (no control characters)."""
    from storage.names import InvalidName, clean_name

    try:
        return clean_name(by or getpass.getuser() or "unknown", "--by")
    except (InvalidName, OSError, KeyError) as exc:
        raise fail(str(exc), USAGE) from None


def lead_json(lead: Any, sightings: list[Any] | None = None) -> dict[str, Any]:
    data = {
        "id": lead.id, "platform": lead.platform, "platform_user_id": lead.platform_user_id, "handle": lead.handle,
        "display_name": lead.display_name, "followers": lead.followers, "followers_approximate": lead.followers_approximate,
        "verified": lead.verified, "bio": lead.bio, "ip_location": lead.ip_location, "country": lead.country,
        "brands": lead.brands, "languages": lead.languages, "score": lead.score, "status": lead.status,
        "status_by": lead.status_by, "status_at": lead.status_at.isoformat() if lead.status_at else None,
        "reason": lead.reason, "candidate_id": lead.candidate_id,
        "found": {"seed_kind": lead.seed_kind, "seed": lead.seed, "source": lead.source, "query": lead.query,
                  "source_url": lead.source_url, "post_url": lead.post_url, "hop": lead.hop, "via_account": lead.via_account},
        "first_seen_at": lead.first_seen_at.isoformat(), "last_seen_at": lead.last_seen_at.isoformat(),
        "sightings": lead.sightings,
    }
    if sightings is not None:
        data["seen_by"] = [{"source": s.source, "seed": s.seed, "query": s.query, "post_url": s.post_url, "hop": s.hop,
                            "run_id": s.crawl_run_id} for s in sightings]
    return data


def _followers(lead: Any) -> str:
    if lead.followers is None:
        return "-"
    return ("~" if lead.followers_approximate else "") + f"{lead.followers:,}"


def list_command(
    status: str = typer.Option("new", "--status", help="new, promoted, rejected or all."),
    platform: list[str] = typer.Option(None, "--platform", "-p", help="Only these platforms (repeatable)."),
    min_followers: int = typer.Option(None, "--min-followers", min=0, help="At least this many followers (leads whose answer showed no count are left out)."),
    country: str = typer.Option(None, "--country", help="Only leads from this country (ISO code, e.g. JP)."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (every field, and every way each lead was seen)."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Leads by pre-score, highest first: platform, account, name, followers, place, brands named
    and how each was found (`~` rounded by the platform, `-` not shown)."""
    from storage.db import session_scope
    from storage.leads import lead_sightings, list_leads

    if status not in STATUSES:
        raise fail(f"--status must be one of {', '.join(STATUSES)}, not {status!r}", USAGE)
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise fail(f"--country takes an ISO 3166-1 alpha-2 code such as JP or US, not {country!r}", USAGE)
    with friendly_errors(), session_scope(database_url) as session:
        leads = list_leads(session, status=None if status == "all" else status, platforms=platform or (),
                           min_followers=min_followers, country=country, limit=limit)
        seen = lead_sightings(session, [lead.id for lead in leads]) if as_json else {}
        rows = [lead_json(lead, seen.get(lead.id, [])) if as_json else lead for lead in leads]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        err.print(f"no {status if status != 'all' else ''} leads".replace("  ", " ") + " (run `wangzi discover`)")
        return
    table = PlainTable(title=f"Leads ({status})")
    for column in ("id", "platform", "account", "name", "followers", "place", "brands", "score", "found"):
        table.add_column(column, justify="right" if column in {"id", "followers", "score"} else "left")
    for lead in rows:
        place = lead.country or ""
        if lead.ip_location:
            place = f"{place} ({lead.ip_location})".strip()
        found = f"{lead.source}: {lead.query or lead.seed}" + (f" (hop {lead.hop})" if lead.hop else "")
        brands = ", ".join(lead.brands[:3]) + ("…" if len(lead.brands) > 3 else "")
        table.add_row(str(lead.id), lead.platform, lead.handle or lead.platform_user_id or "", lead.display_name or "",
                      _followers(lead), place, brands, f"{lead.score:.2f}", found)
    console.print(table)


def promote(
    ids: list[int] = typer.Argument(..., metavar="ID...", help="Lead ids (see `wangzi leads list`)."),
    name: str = typer.Option(None, "--name", help="The candidate's name, instead of the lead's display name (one ID only)."),
    by: str = typer.Option(None, "--by", help="Who promotes them (default: your login name)."),
    lookup: bool = typer.Option(True, "--lookup/--no-lookup", help="Look the new candidates up at once (default)."),
    replay: Path = typer.Option(None, "--replay", help="Serve the lookup from this HAR recording (offline)."),
    setting: list[str] = typer.Option(None, "--set", "-s", help="Scrapy/Wangzi setting NAME=VALUE (repeatable)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Scrapy's INFO log instead of warnings only."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Make candidates of leads: each gets a candidate with its account, then one lookup crawls
    them all. Exit 1 when a lead could not be promoted or the lookup read no profile."""
    from crawler.cli.crawl import run_summary
    from crawler.extensions.progress import stop_progress
    from crawler.runner import run_crawl
    from storage.candidates import account_refs
    from storage.db import session_scope
    from storage.leads import LeadRefused, promote_lead

    if name is not None and len(ids) != 1:
        raise fail("--name goes with one lead id", USAGE)
    who = _who(by)
    problems = 0
    promoted: list[tuple[int, str]] = []  # (candidate id, platform)
    with friendly_errors():
        for lead_id in dict.fromkeys(ids):
            try:
                done = promote_lead(database_url, lead_id, who, name=name)
            except LeadRefused as exc:
                err.print(line(("error:", "bold red"), f" {exc}" + ("; promote it with --name NAME" if exc.name_refused else "")))
                problems += 1
                continue
            promoted.append((done.candidate_id, done.platform))
            console.print(line(f"lead {lead_id} -> candidate ", (str(done.candidate_id), "bold"), f" {done.display_name}",
                               f" ({done.platform}:{done.account})"))
        if not promoted or not lookup:
            raise typer.Exit(PROBLEM if problems else OK)
        with session_scope(database_url) as session:
            targets: dict[str, list[Any]] = {}
            for candidate_id, lead_platform in promoted:
                targets.setdefault(lead_platform, []).extend(account_refs(session, lead_platform, candidate_id=candidate_id))
        run_id = run_crawl(targets, trigger="lookup", database_url=database_url, replay=replay,
                           overrides={**log_overrides(verbose, sys.stderr.isatty()), **setting_overrides(setting)})
    stop_progress()
    summary = run_summary(database_url, run_id)
    for profile in summary["profiles"]:
        followers = "-" if profile["followers"] is None else f"{profile['followers']:,}"
        console.print(line(f"looked up {profile['platform']}:{profile['handle'] or profile['platform_user_id']} ",
                           f"{profile['display_name'] or ''}: {followers} followers"))
    for f in summary["failures"]:
        console.print(line((f["platform"], "yellow"), f": {f['kind']} ({f['status'] or '-'}) {shown_detail(f['detail'], f['url'])}  {f['url']}"))
    raise typer.Exit(PROBLEM if problems or not summary["profiles"] else OK)


def reject(
    ids: list[int] = typer.Argument(..., metavar="ID...", help="Lead ids (see `wangzi leads list`)."),
    reason: str = typer.Option(..., "--reason", help="Why (kept with the lead)."),
    by: str = typer.Option(None, "--by", help="Who rejects them (default: your login name)."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Take leads out of the queue for good: found again, they are not proposed again."""
    from storage.db import session_scope
    from storage.leads import LeadRefused, reject_lead, reject_reason
    from storage.names import InvalidName

    try:
        why = reject_reason(reason)
    except InvalidName as exc:
        raise fail(f"--reason: {exc}", USAGE) from None
    who = _who(by)
    problems = 0
    with friendly_errors(), session_scope(database_url) as session:
        for lead_id in dict.fromkeys(ids):
            try:
                lead = reject_lead(session, lead_id, why, who)
            except LeadRefused as exc:
                err.print(line(("error:", "bold red"), f" {exc}"))
                problems += 1
                continue
            console.print(line(f"lead {lead_id} rejected ({lead.platform}:{lead.handle or lead.platform_user_id} ",
                               f"{lead.display_name or ''})"))
    raise typer.Exit(PROBLEM if problems else OK)


leads_app.command("list")(list_command)
leads_app.command("promote")(promote)
leads_app.command("reject")(reject)


def register(app: typer.Typer) -> None:
    app.add_typer(leads_app, name="leads")
