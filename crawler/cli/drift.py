"""``wangzi drift list`` / ``drift show ID``: answers a parser did not recognise (issue 16 item 5).

A crawl keeps every answer a parser calls ``unrecognized`` (``driftcapture``, by the drift
capture spider middleware), with its URL, platform, parser and version and its *shape*
(``spiders.pages.fingerprint``: the JSON key structure, or an HTML page's root element,
script ids and state globals). ``list`` groups them by platform, shape and parser, so one
format change shows as one line however many accounts met it; ``show`` prints one with the
start of its payload. ``wangzi fixtures add ID --case NAME`` turns one into a test fixture.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from crawler.cli._common import DATABASE_OPTION, OK, USAGE, PlainTable, console, err, fail, friendly_errors, line

drift_app = typer.Typer(help="Answers a parser did not recognise, grouped by platform and shape.", no_args_is_help=True)
#: Characters of the payload ``drift show`` prints.
PREVIEW = 2000


@drift_app.command("list")
def drift_list(
    platform: str = typer.Option(None, "--platform", "-p", help="Only this platform (or press source: gdelt, google_news)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Unrecognised answers grouped by platform, shape and parser: how many, when, the newest id."""
    from storage.db import session_scope
    from storage.drift_captures import drift_groups

    with friendly_errors():
        with session_scope(database_url) as session:
            groups = drift_groups(session, platform)
    if as_json:
        typer.echo(json.dumps([{**g.__dict__, "first_seen": g.first_seen.isoformat(), "last_seen": g.last_seen.isoformat()}
                               for g in groups], ensure_ascii=False, indent=2))
        raise typer.Exit(OK)
    if not groups:
        err.print(line("no unrecognized answers kept" + (f" for {platform}" if platform else "")))
        raise typer.Exit(OK)
    table = PlainTable(title="Drift: unrecognized answers by platform and shape")
    for column in ("platform", "shape", "parser", "answers", "first seen (UTC)", "last seen (UTC)", "newest id", "what it looks like"):
        table.add_column(column, justify="right" if column in {"answers", "newest id"} else "left")
    for g in groups:
        table.add_row(g.platform, g.shape, f"{g.parser} v{g.parser_version}", str(g.captures),
                      g.first_seen.strftime("%Y-%m-%d %H:%M"), g.last_seen.strftime("%Y-%m-%d %H:%M"), str(g.newest_id),
                      g.shape_summary)
    console.print(table)
    err.print(line("turn one into a test: wangzi fixtures add ID --case NAME"))


def capture_json(capture: Any) -> dict[str, Any]:
    """A drift capture's fields (without its payload)."""
    return {
        "id": capture.id, "platform": capture.platform, "parser": capture.parser, "parser_version": capture.parser_version,
        "run_id": capture.crawl_run_id, "captured_at": capture.captured_at.isoformat(), "url": capture.url,
        "status": capture.http_status, "content_type": capture.content_type, "detail": capture.detail,
        "shape": capture.shape, "shape_summary": capture.shape_summary, "payload_sha256": capture.payload_sha256,
        "size": capture.size, "truncated": capture.truncated,
    }


def load_capture(database_url: str | None, capture_id: int) -> Any:
    from storage.db import session_scope
    from storage.drift_captures import get_drift_capture

    with session_scope(database_url) as session:
        capture = get_drift_capture(session, capture_id)
    if capture is None:
        raise fail(f"no drift capture {capture_id} (see `wangzi drift list`)", USAGE)
    return capture


@drift_app.command("show")
def drift_show(
    capture_id: int = typer.Argument(..., metavar="ID", help="A drift capture id (wangzi drift list)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with the payload as text)."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """One unrecognised answer: where and when it came, the parser and its verdict, its shape,
    and the start of its payload."""
    with friendly_errors():
        capture = load_capture(database_url, capture_id)
    text = capture.payload.decode("utf-8", "replace")
    if as_json:
        typer.echo(json.dumps({**capture_json(capture), "payload": text}, ensure_ascii=False, indent=2))
        raise typer.Exit(OK)
    for key, value in capture_json(capture).items():
        console.print(line((f"{key}:", "bold"), f" {value}"))
    console.print(line(("payload:", "bold"), f" ({capture.size:,} bytes" + (", truncated" if capture.truncated else "") + ")"))
    console.print(line(text[:PREVIEW] + ("…" if len(text) > PREVIEW else "")))


def register(app: typer.Typer) -> None:
    app.add_typer(drift_app, name="drift")
