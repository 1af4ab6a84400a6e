"""``wangzi reparse``: today's parsers over the raw archive (issue 16 item 4).

Every answer a crawl received is in the archive (``crawler/middlewares/archive.py``,
``crawler/warc.py``) with its run, account and source. Reparse reads the answers of each
account's chain in the order they came, runs the platform's page parser on each
(``spiders.pages.<platform>.parse`` through ``safe_parse``, as ``wangzi parse`` and the fixture
tests do, keeping ``WANGZI_RECENT_POSTS`` posts), merges them with the platform spider's own
``finish_account`` and stores the profiles and posts with the crawl's writer
(``storage.writer.write_items``) in the run that captured them. Snapshots carry the parser
version of today and ``reparse_of``, the capture they were re-read from. Nothing is updated
or deleted: an answer that failed before and parses now becomes a snapshot; one read the
same way by the same version writes nothing (the snapshot key is account, run, payload hash
and parser version), so a second reparse adds nothing. Failures are not stored again.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
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


@dataclass
class PlatformReparse:
    """What a reparse did on one platform."""

    parser_version: str = ""
    answers: int = 0
    accounts: int = 0
    snapshots: int = 0
    posts: int = 0
    from_failures: int = 0  # accounts whose crawl stored no snapshot and the reparse did
    still_failing: Counter[str] = field(default_factory=Counter)  # accounts with no profile, by failure kind
    missing: int = 0  # answers whose WARC file retention deleted (or that could not be read)


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text!r} is not a date (YYYY-MM-DD or an ISO 8601 time)") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def reparse_archive(
    database_url: str | None, archive_dir: Path, platforms: list[str], since: datetime | None = None,
) -> dict[str, PlatformReparse]:
    """Re-read the archived answers of ``platforms`` (see the module docstring)."""
    from crawler.runner import crawl_settings, spider_class
    from crawler.warc import read_payload
    from records import AccountRef, Failure, PostsItem, Profile, ProfileItem, Provenance
    from spiders.base import Source
    from spiders.pages.parsing import limit_posts, safe_parse
    from spiders.pages.registry import platform_module
    from storage.archive_index import captures_to_reparse, crawled_snapshot_exists
    from storage.candidates import account_for_ref
    from storage.db import session_scope
    from storage.writer import write_items

    settings = crawl_settings()
    recent_posts, max_bytes = settings.getint("WANGZI_RECENT_POSTS"), settings.getint("WANGZI_PARSE_MAX_BYTES")
    with session_scope(database_url) as session:
        captures = captures_to_reparse(session, platforms, since)
    chains: dict[tuple[Any, ...], list[Any]] = {}
    for capture in captures:
        key = (capture.crawl_run_id, capture.platform, capture.account_id, capture.handle, capture.platform_user_id)
        chains.setdefault(key, []).append(capture)

    report: dict[str, PlatformReparse] = {}
    spiders: dict[str, Any] = {}
    for (run_id, platform, account_id, handle, user_id), chain in chains.items():
        module = platform_module(platform)
        version = str(module.PARSER_VERSION)
        done = report.setdefault(platform, PlatformReparse(parser_version=version))
        if platform not in spiders:
            spiders[platform] = spider_class(platform, settings)()
            spiders[platform].parser_version = version  # the page module's version of today
        spider = spiders[platform]
        parser = limit_posts(module.parse, recent_posts)
        ref = AccountRef(platform=platform, handle=handle, platform_user_id=user_id, account_id=account_id)
        results = []
        for capture in chain:
            try:
                _, _, payload = read_payload(archive_dir, capture.warc_file, capture.warc_offset)
            except (OSError, ValueError):
                done.missing += 1
                continue
            done.answers += 1
            result = safe_parse(parser, payload, capture.url, capture.http_status, max_bytes=max_bytes)
            provenance = Provenance(
                source_url=capture.url, parser=capture.source or platform, parser_version=version,
                payload_sha256=capture.payload_sha256, captured_at=capture.captured_at,
                http_status=capture.http_status, reparse_of=capture.id,
            )
            results.append((Source(url=capture.url, parser=parser, name=capture.source or platform), result, provenance, capture.url))
        if not results:
            continue
        done.accounts += 1
        first_profile = next((r[2] for r in results if isinstance(r[1], Profile)), None)
        items = []
        for item in spider.finish_account(ref, results):
            if isinstance(item, ProfileItem):
                # A merged profile's provenance is built anew: it was re-read from its first answer.
                item.provenance.reparse_of = first_profile.reparse_of if first_profile else None
                items.append(item)
            elif isinstance(item, PostsItem):
                items.append(item)
        if not any(isinstance(item, ProfileItem) for item in items):
            kinds = [r[1].kind.value for r in results if isinstance(r[1], Failure)]
            done.still_failing[kinds[-1] if kinds else "no profile"] += 1
        if not items:
            continue
        with session_scope(database_url) as session:
            stored = account_for_ref(session, ref)
            crawled = crawled_snapshot_exists(session, stored.id, run_id)  # type: ignore[arg-type]
            counts = write_items(session, items, run_id)
        done.snapshots += counts["snapshots"]
        done.posts += counts["posts"]
        if counts["snapshots"] and not crawled:
            done.from_failures += 1
    return report


def reparse(
    platform: list[str] = typer.Option(None, "--platform", "-p", help="Only these platforms (repeatable). Default: all."),
    since: str = typer.Option(None, "--since", metavar="DATE", help="Only answers captured on or after DATE (YYYY-MM-DD or ISO time, UTC)."),
    archive_dir: Path = typer.Option(None, "--archive-dir", help="The archive (default: WANGZI_ARCHIVE_DIR, ./archive)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Run today's parsers over archived answers and append what they read as snapshots of the
    runs that captured them (marked with the new parser version and the capture they came
    from). Old rows are never changed; a second reparse adds nothing."""
    from crawler.runner import crawl_settings

    with friendly_errors():
        platforms = chosen_platforms(platform)
        start = _since(since)
        folder = archive_dir or Path(crawl_settings().get("WANGZI_ARCHIVE_DIR") or "archive")
        if not folder.is_dir():
            raise fail(f"no archive at {folder} (WANGZI_ARCHIVE_DIR); crawls keep one unless WANGZI_ARCHIVE_ENABLED=false", USAGE)
        report = reparse_archive(database_url, folder, platforms, start)
    if as_json:
        typer.echo(json.dumps({p: {**asdict(r), "still_failing": dict(r.still_failing)} for p, r in report.items()},
                              ensure_ascii=False, indent=2))
        raise typer.Exit(OK)
    if not report:
        err.print(line(f"no archived answers to reparse in {folder}"))
        raise typer.Exit(OK)
    table = PlainTable(title=f"Reparse of {folder}")
    for column in ("platform", "parser", "answers", "accounts", "new snapshots", "were failures", "posts", "still failing", "missing"):
        table.add_column(column, justify="left" if column in {"platform", "parser", "still failing"} else "right")
    for name, r in sorted(report.items()):
        failing = ", ".join(f"{k} {v}" for k, v in r.still_failing.most_common()) or "-"
        table.add_row(name, f"v{r.parser_version}", str(r.answers), str(r.accounts), str(r.snapshots), str(r.from_failures),
                      str(r.posts), failing, str(r.missing))
    console.print(table)
    raise typer.Exit(OK)


def register(app: typer.Typer) -> None:
    app.command("reparse")(reparse)
