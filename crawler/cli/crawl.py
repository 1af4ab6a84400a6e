"""``wangzi crawl``, ``lookup``, ``record`` and ``demo``: the commands that run spiders.

Scrapy, Twisted, Redis and storage (SQLAlchemy) are imported inside the commands, not at the
top: every ``wangzi`` command, ``--help`` included, imports this module.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

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
    json_log_overrides,
    line,
    log_overrides,
    setting_overrides,
    shown_detail,
)
from crawler.candidates_csv import csv_records, import_rows
from crawler.cli.candidates import candidate_rows, followers_table
from crawler.cli.enrich import print_ranking
from records import PLATFORMS
from spiders.pages.registry import normalize_account

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"


def _crawl_due(
    database_url: str | None, platforms: list[str], candidate_ids: list[int], policy_file: Path | None,
    limit: int | None, redis_url: str | None, replay: Path | None, overrides: dict[str, Any], press: bool = True,
) -> None:
    """``crawl --due`` (see crawler.schedule) and ``crawl --due --distributed`` (crawler.distributed).
    ``press``: also due press searches (not when the crawl was narrowed with --platform)."""
    from crawler.extensions.progress import stop_progress
    from crawler.schedule import PolicyError, RefreshPolicy, run_due_crawl

    try:
        policy = RefreshPolicy.load(policy_file)
    except PolicyError as exc:
        raise fail(str(exc), USAGE) from None
    if redis_url:
        from redis.exceptions import RedisError

        from crawler.distributed.enqueue import enqueue_due

        if replay:
            raise fail("--replay is a worker option with --distributed (wangzi worker --replay FILE)", USAGE)
        try:
            queued = enqueue_due(redis_url, database_url, platforms, policy=policy, candidate_ids=candidate_ids or None, limit=limit)
        except RedisError as exc:
            raise fail(f"cannot use Redis at {redis_url}: {exc}", PROBLEM) from None
        for name, count in queued.items():
            console.print(line(f"{name}: queued {count} due account(s) in Redis"))
        return
    run_id, claimed, settled = run_due_crawl(
        database_url, platforms, policy=policy, candidate_ids=candidate_ids or None, limit=limit, replay=replay,
        overrides=overrides, press=press,
    )
    if run_id is None:
        err.print("nothing is due (see `wangzi runs --due`)")
        raise typer.Exit(OK)
    stop_progress()
    _print_summary(run_summary(database_url, run_id))
    err.print(f"leases: {settled.get('done', 0)} refreshed, {settled.get('retry_later', 0)} to retry later, "
              f"{settled.get('released', 0)} released without data")


def run_summary(database_url: str | None, run_id: int) -> dict[str, Any]:
    """What one run stored: snapshots and failures, JSON-ready."""
    from crawler.replay import real_urls_in
    from storage.db import session_scope
    from storage.runs import get_run, run_failures, run_snapshots

    with session_scope(database_url) as session:
        run = get_run(session, run_id)
        profiles = [
            {
                "platform": account.platform,
                "handle": account.handle,
                "platform_user_id": account.platform_user_id,
                "display_name": snap.display_name,
                "followers": snap.followers,
                "following": snap.following,
                "posts": snap.posts,
                "likes": snap.likes,
                "views": snap.views,
                "verified": snap.verified,
                "verified_reason": snap.verified_reason,
                "ip_location": snap.ip_location,
                "country": snap.country,
                "joined_at": snap.joined_at.isoformat() if snap.joined_at else None,
                "approximate": snap.approximate,
                "captured_at": snap.captured_at.isoformat(),
                "source_url": snap.source_url,
            }
            for account, snap in run_snapshots(session, run_id)
        ]
        failures = [
            {"platform": f.platform, "kind": f.kind, "url": real_urls_in(f.url), "status": f.http_status,
             "detail": real_urls_in(f.detail or "")}
            for f in run_failures(session, run_id)
        ]
        return {
            "run_id": run_id,
            "status": run.status if run else None,
            "stats": run.stats if run else {},
            "profiles": profiles,
            "failures": failures,
        }


def _print_summary(summary: dict[str, Any]) -> None:
    table = PlainTable(title=f"Run {summary['run_id']} ({summary['status']})")
    for column in ("platform", "requests", "snapshots", "posts", "failures"):
        table.add_column(column, justify="left" if column == "platform" else "right")
    for platform, stats in sorted(summary["stats"].items()):
        failures = ", ".join(f"{k}: {v}" for k, v in sorted((stats.get("failures") or {}).items())) or "0"
        table.add_row(platform, str(stats.get("requests") or 0), str(stats.get("snapshots")), str(stats.get("posts")), failures)
    console.print(table)


# --------------------------------------------------------------------------- crawl


def crawl(
    platform: list[str] = typer.Option(None, "--platform", "-p", help="Only these platforms (repeatable). Default: all."),
    candidate: list[str] = typer.Option(None, "--candidate", "-c", help="Only these candidates (id or name; repeatable). Default: all active."),
    replay: Path = typer.Option(None, "--replay", help="Serve every request from this HAR recording (offline)."),
    setting: list[str] = typer.Option(None, "--set", "-s", help="Scrapy/Wangzi setting NAME=VALUE (repeatable)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Scrapy's INFO log instead of warnings only."),
    database_url: str = DATABASE_OPTION,
    due: bool = typer.Option(False, "--due", help="Only accounts whose refresh is due (refresh policy); each is leased, so overlapping runs never crawl one account twice."),
    policy: Path = typer.Option(None, "--policy", help="With --due: refresh policy TOML (default: WANGZI_REFRESH_POLICY or the bundled crawler/data/refresh.toml)."),
    limit: int = typer.Option(None, "--limit", min=1, help="With --due: at most this many accounts this run."),
    distributed: str = typer.Option(None, "--distributed", metavar="REDIS_URL", help="With --due: queue the due accounts in Redis for `wangzi worker` processes instead of crawling here."),
    log_json: bool = typer.Option(False, "--log-json", help="Log one JSON object per line on stderr."),
    no_press: bool = typer.Option(False, "--no-press", help="Do not search the press for the candidates (a crawl narrowed with --platform never does)."),
    retry_dead_letters: bool = typer.Option(False, "--retry-dead-letters", help="Crawl nothing: store again the items a crawl could not store (dead-letter files), idempotently. Exit 1 if some still fail."),
    dead_letter_dir: Path = typer.Option(None, "--dead-letter-dir", envvar="WANGZI_DEAD_LETTER_DIR", help="With --retry-dead-letters: the folder (default ./dead-letters)."),
) -> None:
    """Crawl every account of the active candidates (or of --candidate) on every platform
    (or --platform), search the press for them (unless --no-press or --platform), store
    snapshots, posts, press mentions and typed failures, and print the run's summary.

    With --due only what the refresh policy says is due (safe to start every few minutes from cron); with --due --distributed redis://HOST:6379/0 the due accounts are queued for `wangzi worker` processes."""
    from crawler.extensions.progress import stop_progress
    from crawler.runner import run_crawl
    from crawler.schedule import press_spiders
    from storage.candidates import account_refs, active_candidate_ids, find_candidate
    from storage.db import session_scope

    if retry_dead_letters:
        _retry_dead_letters(database_url, dead_letter_dir)
        return
    if (distributed or policy or limit) and not due:
        raise fail("--distributed, --policy and --limit go with --due", USAGE)
    with friendly_errors():
        platforms = chosen_platforms(platform)
        with session_scope(database_url) as session:
            ids = []
            for text in candidate or []:
                found = find_candidate(session, text)
                if found is None:
                    raise fail(f"no candidate {text!r} (see `wangzi candidates list`)", USAGE)
                ids.append(found.id)
            if due:
                targets, press_ids = {}, []
            else:
                targets = {p: account_refs(session, p, candidate_ids=ids or None) for p in platforms}
                # A full crawl searches the press for the same candidates, as crawl --due and lookup do.
                press_ids = [] if platform or no_press else (ids or active_candidate_ids(session))
        if due:
            _crawl_due(database_url, platforms, ids, policy, limit, distributed, replay,
                       {**log_overrides(verbose, sys.stderr.isatty() and not log_json), **json_log_overrides(log_json),
                        **setting_overrides(setting)},
                       press=not platform and not no_press)
            return
        extra = [(name, {"candidates": ",".join(map(str, press_ids))}) for name in press_spiders()] if press_ids else []
        if not any(targets.values()) and not extra:
            err.print("nothing to crawl: no active candidate has an account on " + ", ".join(platforms))
            raise typer.Exit(OK)
        run_id = run_crawl(
            targets, trigger="manual", database_url=database_url, replay=replay, extra_spiders=extra,
            overrides={**log_overrides(verbose, sys.stderr.isatty() and not log_json), **json_log_overrides(log_json),
                       **setting_overrides(setting)},
        )
    stop_progress()
    _print_summary(run_summary(database_url, run_id))


def _retry_dead_letters(database_url: str | None, directory: Path | None) -> None:
    """``crawl --retry-dead-letters`` (crawler/deadletter.py); the folder defaults to the
    ``WANGZI_DEAD_LETTER_DIR`` setting, where the storage pipeline keeps them."""
    from crawler.deadletter import retry_dead_letters
    from crawler.runner import crawl_settings

    folder = directory or Path(crawl_settings().get("WANGZI_DEAD_LETTER_DIR"))
    with friendly_errors():
        report = retry_dead_letters(folder, database_url)
    written = ", ".join(f"{k}: {v}" for k, v in sorted(report.rows.items()) if v) or "nothing new"
    console.print(line(f"{report.applied} dead letter(s) from {folder} re-applied ({written})"))
    for problem in report.still_failing:
        err.print(line(("still failing", "red"), f" {problem}"))
    if report.still_failing:
        raise typer.Exit(PROBLEM)


# --------------------------------------------------------------------------- lookup


def resolve_lookup(session: Any, text: str, platforms: list[str]) -> tuple[Any, dict[str, list[Any]]]:
    """(candidate or None, platform -> account refs) for a candidate id/name/alias, a
    ``platform:handle`` pair or a profile URL."""
    from storage.candidates import account_refs, find_account, find_candidate

    candidate = find_candidate(session, text)
    if candidate is not None:
        return candidate, {p: account_refs(session, p, candidate_ids=[candidate.id]) for p in platforms}
    prefix, sep, rest = text.partition(":")
    if sep and prefix in PLATFORMS and not rest.startswith("//"):
        if prefix not in platforms:
            raise ValueError(f"platform {prefix!r} is not implemented yet")
        ref = normalize_account(prefix, rest)
        stored = find_account(session, ref)
        if stored is not None:
            ref.account_id = stored.id
        return None, {prefix: [ref]}
    if "/" in text or "." in text:
        for name in platforms:
            try:
                ref = normalize_account(name, text)
            except ValueError:
                continue
            stored = find_account(session, ref)
            if stored is not None:
                ref.account_id = stored.id
            return None, {name: [ref]}
    raise ValueError(
        f"{text!r} is not a candidate id, name or alias, a profile URL, or PLATFORM:HANDLE "
        "(e.g. bilibili:2, weibo:1669879400)"
    )


def lookup(
    who: str = typer.Argument(..., metavar="CANDIDATE_OR_HANDLE", help="Candidate id/name/alias, a profile URL, or PLATFORM:HANDLE."),
    platform: list[str] = typer.Option(None, "--platform", "-p", help="Only these platforms (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    replay: Path = typer.Option(None, "--replay", help="Serve every request from this HAR recording (offline)."),
    setting: list[str] = typer.Option(None, "--set", "-s", help="Scrapy/Wangzi setting NAME=VALUE (repeatable)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Scrapy's INFO log instead of warnings only."),
    database_url: str = DATABASE_OPTION,
    log_json: bool = typer.Option(False, "--log-json", help="Log one JSON object per line on stderr."),
) -> None:
    """Crawl one candidate (or one account) now and show what each platform said.

    Exit code 0 when at least one profile was read, 1 when every platform failed."""
    from crawler.extensions.progress import stop_progress
    from crawler.runner import run_crawl
    from crawler.schedule import press_spiders
    from storage.db import session_scope

    with friendly_errors():
        platforms = chosen_platforms(platform)
        with session_scope(database_url) as session:
            candidate, targets = resolve_lookup(session, who, platforms)
            candidate_info = {"id": candidate.id, "display_name": candidate.display_name} if candidate else None
        # A candidate's lookup also searches the press (unless narrowed to some platforms).
        extra = [(name, {"candidates": str(candidate.id)}) for name in press_spiders()] if candidate and not platform else []
        press_only = not any(targets.values())
        if press_only and not extra:
            raise fail(f"{who!r} has no accounts on {', '.join(platforms)}", PROBLEM)
        run_id = run_crawl(
            targets, trigger="lookup", database_url=database_url, replay=replay, extra_spiders=extra,
            overrides={**log_overrides(verbose, sys.stderr.isatty() and not as_json and not log_json),
                       **json_log_overrides(log_json), **setting_overrides(setting)},
        )
    stop_progress()
    summary = run_summary(database_url, run_id)
    summary["candidate"] = candidate_info
    summary["press"] = _press_mentions(database_url, candidate_info["id"]) if candidate_info else []
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    else:
        if press_only:
            err.print(line(f"{who!r} has no platform accounts: only the press was searched"))
        _print_lookup(summary)
    if press_only:  # only the press spider ran: every failure of the run is a failed feed
        raise typer.Exit(PROBLEM if summary["failures"] else OK)
    raise typer.Exit(OK if summary["profiles"] else PROBLEM)


def _press_mentions(database_url: str | None, candidate_id: int) -> list[dict[str, Any]]:
    """The candidate's stored press mentions, newest first."""
    from storage.db import session_scope
    from storage.mentions import candidate_mentions

    with session_scope(database_url) as session:
        rows = candidate_mentions(session, candidate_id)
        return [
            {"status": m.status, "title": m.title, "outlet": m.outlet_domain, "country": m.country, "language": m.language,
             "published_at": m.published_at.isoformat() if m.published_at else None, "confidence": m.confidence,
             "url": m.canonical_url or m.url}
            for m in sorted(rows, key=lambda m: str(m.published_at or ""), reverse=True)
        ]


def _print_lookup(summary: dict[str, Any]) -> None:
    who = summary.get("candidate")
    table = PlainTable(title=f"{who['display_name'] if who else 'Lookup'} (run {summary['run_id']})")
    for column in ("platform", "account", "name", "followers", "following", "posts", "IP location", "country"):
        table.add_column(column, justify="right" if column in {"followers", "following", "posts"} else "left")

    def show(value: Any, field: str, approx: list[str]) -> str:
        return "-" if value is None else ("~" if field in approx else "") + f"{value:,}"

    for p in summary["profiles"]:
        table.add_row(
            p["platform"], p["handle"] or p["platform_user_id"] or "", p["display_name"] or "",
            show(p["followers"], "followers", p["approximate"]), show(p["following"], "following", p["approximate"]),
            show(p["posts"], "posts", p["approximate"]), p["ip_location"] or "", p["country"] or "",
        )
    console.print(table)
    for f in summary["failures"]:
        console.print(line((f["platform"], "yellow"),
                           f": {f['kind']} ({f['status'] or '-'}) {shown_detail(f['detail'], f['url'])}  {f['url']}"))
    confirmed = [m for m in summary.get("press", []) if m["status"] == "confirmed"]
    if confirmed:
        console.print(f"press: {len(confirmed)} confirmed mention(s)")
        for m in confirmed[:10]:
            console.print(line(f"  {m['published_at'] or '?':.10} {m['country'] or '??'} {m['outlet']}: {m['title']}"))


# --------------------------------------------------------------------------- record


def record(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="The HAR file to write."),
    keep_secrets: bool = typer.Option(False, "--keep-secrets", help="Do not redact Cookie/Authorization/Set-Cookie and API keys."),
) -> None:
    """Run a live `lookup` or `crawl` and save every exchange as HAR 1.2:

    wangzi record session.har -- lookup bilibili:2

    The recording can then be served with --replay. Secrets are redacted unless --keep-secrets.
    """
    # Here, not at the top: the package imports this module while it registers the commands.
    from crawler.cli import app

    args = list(ctx.args)
    if args and args[0] == "--":
        args = args[1:]
    if not args or args[0] not in {"lookup", "crawl"}:
        raise fail("record wraps `lookup ...` or `crawl ...`: wangzi record OUT.har -- lookup bilibili:2", USAGE)
    if out.is_dir():
        raise fail(f"{out} is a directory; give the path of the HAR file to write", USAGE)
    if out.exists() and not out.is_file():  # /dev/full, a pipe: never replaced by a recording
        raise fail(f"{out} is not a regular file; give the path of the HAR file to write", USAGE)
    if not out.parent.is_dir():
        raise fail(f"{out.parent} is not a directory; the HAR file goes in an existing one", USAGE)
    out.unlink(missing_ok=True)
    # Settings for the wrapped command, which reads WANGZI_* settings from the environment
    # (crawler.runner.crawl_settings) like any other run.
    os.environ["WANGZI_RECORD"] = str(out)
    os.environ["WANGZI_RECORD_SECRETS"] = "true" if keep_secrets else "false"
    try:
        app(args=args, prog_name="wangzi", standalone_mode=False)
    except typer.Exit as exc:
        code = exc.exit_code
    else:
        code = OK
    err.print(line(f"recorded to {out}" if out.exists() else f"nothing was recorded ({out} not written)"))
    raise typer.Exit(code)


# --------------------------------------------------------------------------- demo

#: Secrets that change what a spider asks (a cookie adds weibo.com requests, an API key the
#: YouTube Data API): left out while the demo replays its recording, which has none of those.
DEMO_UNSET = ("YOUTUBE_API_KEY", "WANGZI_SECRETS_FILE", "WANGZI_X_COOKIE_FILE", "WANGZI_PROXIES")
#: X asks nothing without a session; the recording answers whatever these say (never sent
#: anywhere but the loopback replay server).
DEMO_X_SESSION = {"WANGZI_X_AUTH_TOKEN": "demo-replay-only", "WANGZI_X_CT0": "demo-replay-only"}


@contextmanager
def demo_environment() -> Iterator[None]:
    """The environment the bundled recording was made for, while the demo crawls."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name in DEMO_UNSET or (name.startswith("WANGZI_") and name.endswith(("_COOKIE", "_COOKIE_FILE", "_SESSIONS"))) \
                or name in DEMO_X_SESSION:
            del os.environ[name]
    os.environ.update(DEMO_X_SESSION)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def demo_candidate_ids(session: Any, names: list[str]) -> list[int]:
    """The demo's candidates by name: the one registered by the demo (notes starting "demo:")
    when people share the name, else the oldest."""
    from storage.candidates import candidates_named

    ids = []
    for name in names:
        found = candidates_named(session, name)
        if found:
            ids.append(next((c for c in found if (c.notes or "").startswith("demo:")), found[0]).id)
    return ids


def demo(
    replay: Path = typer.Option(DEMO_DIR / "demo.har", "--replay", help="Recording to serve (default: the bundled one)."),
    database_url: str = DATABASE_OPTION,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Scrapy's INFO log."),
) -> None:
    """Register the demo candidates, crawl every platform and the press for them from a
    bundled recording (no network), add a clearly marked synthetic history of earlier
    snapshots, compute features, and print followers per platform, press mentions and the
    ranking; then the command that opens the review desk on this database."""
    from crawler.demo import DESK_COMMAND
    from crawler.demo.backfill import DAYS, backfill
    from crawler.extensions.progress import stop_progress
    from crawler.runner import run_crawl
    from crawler.schedule import press_spiders
    from storage.candidates import account_refs
    from storage.db import database_url as resolve_url
    from storage.db import session_scope

    with friendly_errors():
        text = (DEMO_DIR / "candidates.csv").read_text(encoding="utf-8")
        names = [row[0] for _, row in list(csv_records(text))[1:] if isinstance(row, list) and row and row[0]]
        with session_scope(database_url) as session:
            missing = len(demo_candidate_ids(session, names)) < len(names)
        if missing:
            report = import_rows(text, database_url)
            for number, message in report.errors:
                if "already" not in message:
                    err.print(line(f"demo candidates row {number}: {message}"))
        with session_scope(database_url) as session:
            ids = demo_candidate_ids(session, names)
            targets = {p: account_refs(session, p, candidate_ids=ids) for p in PLATFORMS}
        extra = [(name, {"candidates": ",".join(map(str, ids))}) for name in press_spiders()]
        with demo_environment():
            run_id = run_crawl(
                targets, trigger="demo", database_url=database_url, replay=replay, extra_spiders=extra,
                overrides={**log_overrides(verbose, sys.stderr.isatty()), "WANGZI_GOOGLE_NEWS_ENABLED": False,
                           "WANGZI_GDELT_ENABLED": True},
            )
        added = backfill(database_url, ids)
    stop_progress()
    _print_summary(run_summary(database_url, run_id))
    console.print(followers_table(candidate_rows(database_url, ids), title="Demo candidates: followers per platform"))
    console.print("[dim]~ rounded by the platform, - not shown by the platform[/]")
    _demo_press(database_url, ids)
    _demo_ranking(database_url)
    if added:
        console.print(line((f"synthetic history: {added} invented daily snapshots ({DAYS} days before the demo crawl) "
                            "feed the growth and growth-authenticity features; they belong to a run with trigger "
                            "'synthetic', and every feature row that read them says synthetic_history (S above). "
                            "Demo only, never real data.", "dim")))
    console.print(line("Open the review desk on this database: ",
                       (DESK_COMMAND.format(database_url=shlex.quote(resolve_url(database_url)),
                                            replay=shlex.quote(str(replay.resolve()))), "bold")))


def _demo_press(database_url: str | None, candidate_ids: list[int]) -> None:
    """The demo candidates' confirmed press mentions, one line each."""
    from storage.candidates import list_candidates
    from storage.db import session_scope
    from storage.mentions import candidate_mentions

    with session_scope(database_url) as session:
        found = [(c.display_name, m) for c in list_candidates(session, ids=candidate_ids)
                 for m in candidate_mentions(session, c.id, confirmed_only=True)]  # type: ignore[arg-type]
        lines = [f"  {name}: {f'{m.published_at:%Y-%m-%d}' if m.published_at else 'undated'} {m.country or '??'} "
                 f"{m.outlet_domain or m.outlet_name or '?'} ({m.language or '?'}, confidence "
                 f"{'?' if m.confidence is None else f'{m.confidence:.1f}'}) {m.title or ''}"
                 for name, m in sorted(found, key=lambda pair: (pair[0], str(pair[1].published_at)))]
    console.print(f"Press: {len(lines)} confirmed overseas mention(s)")
    for text in lines:
        console.print(line(text))


def _demo_ranking(database_url: str | None) -> None:
    """Compute features and print the ranking."""
    from enrichment.stage import enrich_all
    from storage.db import session_scope

    with session_scope(database_url) as session:
        enrich_all(session)
    with session_scope(database_url) as session:
        print_ranking(session, by="composite", top=10)


def register(app: typer.Typer) -> None:
    app.command("crawl")(crawl)
    app.command("lookup")(lookup)
    app.command("record", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(record)
    app.command("demo")(demo)
