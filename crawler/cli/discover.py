"""``wangzi discover``: find the creators nobody registered yet (docs/discovery.md).

Seeds (``--seed`` or the seeds file) become search queries per platform; creator seeds (and,
with ``--expand``, every active candidate) are expanded from what is stored of them: the
accounts their bios link to and their posts @mention. The search spiders ask each platform's
public search within the request budget, and every account found lands in the leads queue
(``wangzi leads``). Storage and Scrapy are imported inside the command.
"""

from __future__ import annotations

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

SEEDS_FILE = Path(__file__).resolve().parent.parent / "data" / "seeds.toml"


def split_budget(total: int, platforms: list[str]) -> dict[str, int]:
    """``total`` requests shared evenly between ``platforms`` (the first ones get the remainder)."""
    if not platforms:
        return {}
    share, left = divmod(max(0, total), len(platforms))
    return {p: share + (1 if i < left else 0) for i, p in enumerate(platforms)}


def discover(
    seed: list[str] = typer.Option(None, "--seed", help="keyword:海淘, hashtag:开箱 (or #开箱), brand:Lancôme or creator:NAME_OR_ID; bare text is a keyword (repeatable). Default: the seeds file."),
    platform: list[str] = typer.Option(None, "--platform", "-p", help="Search only these platforms (bilibili, weibo, xiaohongshu, youtube; repeatable). Default: all four."),
    max_requests: int = typer.Option(None, "--max-requests", min=0, help="Requests in all, split between the platforms (default WANGZI_DISCOVERY_MAX_REQUESTS)."),
    pages: int = typer.Option(None, "--pages", min=1, help="Pages per query at most (default WANGZI_DISCOVERY_MAX_PAGES)."),
    hops: int = typer.Option(None, "--hops", min=0, max=3, help="Graph hops from what is found (default WANGZI_DISCOVERY_MAX_HOPS, 1)."),
    seeds_file: Path = typer.Option(None, "--seeds", help="Seeds TOML (default WANGZI_DISCOVERY_SEEDS or crawler/data/seeds.toml)."),
    expand: bool = typer.Option(False, "--expand", help="Also expand every active candidate: the accounts their bios link to and their posts @mention."),
    replay: Path = typer.Option(None, "--replay", help="Serve every request from this HAR recording (offline)."),
    setting: list[str] = typer.Option(None, "--set", "-s", help="Scrapy/Wangzi setting NAME=VALUE (repeatable)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Scrapy's INFO log instead of warnings only."),
    as_json: bool = typer.Option(False, "--json", help="Print the run's summary as JSON."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Search the platforms for the seeds, expand known creators, and queue every account found
    that no candidate owns yet as a lead (see `wangzi leads list`).

    Only public search answers and public profiles are read: never follower lists, never
    anything behind a login. Exit 1 when a search failed (blocked, captcha, ...)."""
    from crawler.extensions.progress import stop_progress
    from crawler.pipelines.leads import write_lead_items
    from crawler.runner import crawl_settings, run_crawl
    from records.leads import LeadItem
    from spiders.discovery import SEARCH_PLATFORMS, KnownAccount, SeedError, load_seed_file, parse_seed, plan_queries
    from spiders.discovery import expand as expand_account
    from storage.candidate_texts import account_texts, candidate_names
    from storage.candidates import find_candidate
    from storage.db import session_scope
    from storage.runs import finish_run, interrupt_dead_runs, start_run

    overrides = {**log_overrides(verbose, sys.stderr.isatty() and not as_json), **setting_overrides(setting)}
    settings = crawl_settings(overrides)
    with friendly_errors():
        chosen = list(dict.fromkeys(platform or SEARCH_PLATFORMS))
        unknown = [p for p in chosen if p not in SEARCH_PLATFORMS]
        if unknown:
            raise fail(f"no search for platform {unknown[0]!r}; discover searches {', '.join(SEARCH_PLATFORMS)}", USAGE)
        budget_total = settings.getint("WANGZI_DISCOVERY_MAX_REQUESTS") if max_requests is None else max_requests
        max_hops = settings.getint("WANGZI_DISCOVERY_MAX_HOPS") if hops is None else hops
        try:
            plans: dict[str, Any] = {}
            languages: dict[Any, str | None] = {}
            if seed:
                seeds = [parse_seed(text) for text in seed]
            else:
                path = seeds_file or Path(settings.get("WANGZI_DISCOVERY_SEEDS") or SEEDS_FILE)
                loaded = load_seed_file(path)
                seeds, plans = loaded.seeds(), loaded.platforms
                languages = {s: loaded.language_of(s) for s in seeds}
        except SeedError as exc:
            raise fail(str(exc), USAGE) from None
        queries = plan_queries(seeds, chosen, plans, languages)
        graph_items: list[LeadItem] = []
        with session_scope(database_url) as session:
            creators: dict[int, str] = {}
            for creator in (s for s in seeds if s.kind == "creator"):
                found = find_candidate(session, creator.value)
                if found is None:
                    raise fail(f"no candidate {creator.value!r} to expand (see `wangzi candidates list`)", USAGE)
                creators[found.id] = found.display_name  # type: ignore[index]
            if expand:
                creators.update(candidate_names(session))
            if max_hops >= 1 and creators:
                for account in account_texts(session, list(creators)):
                    known = KnownAccount(platform=account.platform, platform_user_id=account.platform_user_id,
                                         handle=account.handle, display_name=account.display_name, bio=account.bio,
                                         links=tuple(account.links), posts=tuple(account.posts))
                    expansion = expand_account(known, seed_kind="creator", seed=creators[account.candidate_id], hop=1,
                                               resolvable=chosen)
                    for hit in expansion.hits:
                        graph_items.append(LeadItem(hit=hit, seed_kind="creator", seed=creators[account.candidate_id],
                                                    source=f"graph.{hit.via}", source_url=hit.post_url, hop=1,
                                                    via_account=known.label))
                    for query in expansion.queries:
                        queries.setdefault(query_platform(query.via_account), []).append(query)
            interrupt_dead_runs(session)
            run_id = start_run(session, "discover").id
            graph_counts = write_lead_items(session, graph_items, run_id)
        searching = [p for p in chosen if queries.get(p)]
        budgets = split_budget(budget_total, searching)
        extra = [(f"{p}_search", {"queries": queries[p], "max_requests": budgets[p], "max_pages": pages, "max_hops": max_hops})
                 for p in searching if budgets[p] > 0]
        if not extra and not graph_items:
            err.print("nothing to search: no keyword, hashtag or brand seed for " + ", ".join(chosen)
                      + (" and nothing to expand" if not creators else "; the creators' profiles name no account"))
            with session_scope(database_url) as session:
                finish_run(session, run_id, "finished")
            raise typer.Exit(OK)
        run_crawl({}, trigger="discover", database_url=database_url, replay=replay, extra_spiders=extra,
                  overrides=overrides, run_id=run_id)
    stop_progress()
    summary = discovery_summary(database_url, run_id)
    summary["graph"] = dict(graph_counts)
    summary["budget"] = budgets
    for p in searching:  # a share of nothing: the platform's queries were never asked
        if budgets[p] == 0:
            summary["requests"][f"{p}_search"] = 0
            summary["stopped"][f"{p}_search"] = "budget"
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    else:
        print_summary(summary)
    raise typer.Exit(PROBLEM if summary["failures"] else OK)


def query_platform(via_account: str | None) -> str:
    """The platform of a ``platform:id`` account label (where its @mentions are searched)."""
    return (via_account or "").split(":", 1)[0]


def discovery_summary(database_url: str | None, run_id: int) -> dict[str, Any]:
    """What a discover run found, per source, and its failed searches."""
    from crawler.replay import real_urls_in
    from storage.db import session_scope
    from storage.leads import run_leads
    from storage.runs import get_run, run_failures

    with session_scope(database_url) as session:
        run = get_run(session, run_id)
        found = run_leads(session, run_id)
        sources = sorted(found.sightings)
        stats = run.stats if run else {}
        return {
            "run_id": run_id,
            "status": run.status if run else None,
            "requests": {name: (stats.get(name) or {}).get("requests") for name in sorted(stats)
                         if name.endswith("_search")},
            "stopped": {name: (stats.get(name) or {}).get("stopped") for name in sorted(stats)
                        if name.endswith("_search") and (stats.get(name) or {}).get("stopped")},
            "sources": [{"source": s, "sightings": found.sightings[s], "new": found.new[s], "duplicates": found.duplicates[s]}
                        for s in sources],
            "new_leads": sum(found.new.values()),
            "failures": [{"source": f.platform, "kind": f.kind, "status": f.http_status, "url": real_urls_in(f.url),
                          "detail": real_urls_in(f.detail or "")} for f in run_failures(session, run_id)],
        }


def print_summary(summary: dict[str, Any]) -> None:
    table = PlainTable(title=f"Discovery run {summary['run_id']} ({summary['status']})")
    for column in ("source", "sightings", "new leads", "duplicates"):
        table.add_column(column, justify="left" if column == "source" else "right")
    for row in summary["sources"]:
        table.add_row(row["source"], str(row["sightings"]), str(row["new"]), str(row["duplicates"]))
    console.print(table)
    requests = ", ".join(f"{name}: {count}" for name, count in summary["requests"].items() if count is not None)
    if requests:
        console.print(line(f"requests: {requests}"))
    for name, why in summary.get("stopped", {}).items():
        console.print(line((name, "yellow"), f": stopped ({why}); its other queries were not asked"
                           if summary["requests"].get(name) else f": not asked ({why})"))
    registered = summary.get("graph", {}).get("registered")
    if registered:
        console.print(line(f"{registered} account(s) named by known creators are registered already (not queued)"))
    for f in summary["failures"]:
        console.print(line((f["source"], "yellow"), f": {f['kind']} ({f['status'] or '-'}) {shown_detail(f['detail'], f['url'])}  {f['url']}"))
    console.print(line((str(summary["new_leads"]), "bold"), " new lead(s): see `wangzi leads list`"))


def register(app: typer.Typer) -> None:
    app.command("discover")(discover)

