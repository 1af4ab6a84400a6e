"""``wangzi press CANDIDATE``: search the news for a candidate, confirm, store, print a table."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from crawler.cli._common import OK, PROBLEM, USAGE, PlainTable, console, err, fail, friendly_errors, line, shown_detail


def press(
    candidate: str = typer.Argument(..., help="Candidate id, display name or alias."),
    since: str = typer.Option(None, "--since", help="Only articles from this date on (YYYY-MM-DD)."),
    replay: Path = typer.Option(None, "--replay", help="Serve every request from this HAR recording (tests, demo)."),
    database_url: str = typer.Option(None, "--database-url", envvar="DATABASE_URL", help="Database URL."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored mentions as JSON lines."),
    all_rows: bool = typer.Option(False, "--all", help="Also list unconfirmed mentions."),
) -> None:
    """Search Google News (when enabled) and GDELT for the candidate's aliases, fetch each
    article, confirm the name in its own title/text, store PressMention rows and print them.

    A feed that answered with a typed failure (rate_limited, blocked, unrecognized, network,
    ...) is stored as a failure of the run and named on stderr after the table, as is each
    article URL a feed listed that was refused (not a public http(s) address; never fetched).
    Exit 0 when every feed answered and nothing was refused, 1 otherwise (a failed search is
    incomplete: run it again later), 2 for bad usage or an unreadable recording.
    """
    from crawler.runner import run_crawl
    from storage.db import database_url as resolve_url
    from storage.db import session_scope
    from storage.candidates import find_candidate

    if since:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise fail(f"--since {since!r} is not a date like 2024-01-31", USAGE) from None
    url = resolve_url(database_url)
    with friendly_errors():
        with session_scope(url) as session:
            found = find_candidate(session, candidate)
            if found is None:
                raise fail(f"no candidate {candidate!r}; add one with `wangzi candidates add`", USAGE)
            candidate_id = found.id
        kwargs = {"candidates": str(candidate_id)}
        if since:
            kwargs["since"] = since
        run_id = run_crawl({}, trigger="manual", database_url=url, replay=replay, extra_spiders=[("press", kwargs)])
    rows = mention_rows(url, candidate_id, include_unconfirmed=all_rows or as_json)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
    else:
        print_table(rows)
    failures = feed_failure_rows(url, run_id, candidate_id)
    print_feed_failures(failures)
    raise typer.Exit(PROBLEM if failures else OK)


def feed_failure_rows(database_url: str, run_id: int, candidate_id: int) -> list[dict]:
    """The feeds of this run that failed for the candidate, as plain dicts."""
    from crawler.replay import real_urls_in
    from storage.db import session_scope
    from storage.runs import run_feed_failures

    with session_scope(database_url) as session:
        return [
            {"source": f.platform, "kind": f.kind, "url": real_urls_in(f.url), "status": f.http_status,
             "detail": real_urls_in(f.detail or "")}
            for f in run_feed_failures(session, run_id, candidate_id)
        ]


def print_feed_failures(failures: list[dict]) -> None:
    """One line per failed feed, and per article URL a feed listed that was refused (not a
    public http(s) address: never fetched), on stderr (stdout stays the table or the JSON lines)."""
    failed = [f for f in failures if f["kind"] != "refused"]
    refused = [f for f in failures if f["kind"] == "refused"]
    for f in failed:
        status = f" (HTTP {f['status']})" if f["status"] else ""
        detail = shown_detail(f["detail"], f["url"])
        detail = f" - {detail}" if detail else ""
        err.print(line(("feed failed:", "bold red"), f" {f['source']} {f['kind']}{status} {f['url']}{detail}"))
    for f in refused:
        detail = shown_detail(f["detail"], f["url"])
        detail = f" - {detail}" if detail else ""
        err.print(line(("refused:", "bold yellow"), f" {f['url']} (listed by {f['source']}, not fetched){detail}"))
    if failed:
        err.print(line(f"{len(failed)} feed search(es) failed: the mentions above may be incomplete; "
                       "run `wangzi press` again later (see `wangzi runs`)"))
    if refused:
        err.print(line(f"{len(refused)} listed URL(s) refused: not public http(s) addresses, never fetched "
                       "(asking again will not change that)"))


def mention_rows(database_url: str, candidate_id: int, include_unconfirmed: bool = False) -> list[dict]:
    """The candidate's stored mentions, newest first, as plain dicts."""
    from storage.db import session_scope
    from storage.mentions import candidate_mentions

    with session_scope(database_url) as session:
        mentions = candidate_mentions(session, candidate_id, confirmed_only=not include_unconfirmed)
        rows = [
            {
                "source": m.source, "url": m.url, "canonical_url": m.canonical_url,
                "outlet_domain": m.outlet_domain, "outlet_name": m.outlet_name, "country": m.country,
                "overseas": m.overseas, "language": m.language,
                "published_at": m.published_at.isoformat() if m.published_at else None,
                "title": m.title, "matched_alias": m.matched_alias, "snippet": m.snippet,
                "confidence": m.confidence, "status": m.status,
                "first_seen_at": m.first_seen_at.isoformat() if m.first_seen_at else None,
            }
            for m in mentions
        ]
    rows.sort(key=lambda r: r["published_at"] or "", reverse=True)
    return rows


def print_table(rows: list[dict]) -> None:
    table = PlainTable(title=f"{len(rows)} press mention(s)")
    for column in ("date", "outlet", "country", "lang", "status", "conf.", "alias", "title"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            (row["published_at"] or "")[:10], row["outlet_name"] or row["outlet_domain"] or "",
            row["country"] or "?", row["language"] or "?", row["status"],
            "" if row["confidence"] is None else f"{row['confidence']:.2f}",
            row["matched_alias"] or "", (row["title"] or "")[:70],
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("press")(press)
