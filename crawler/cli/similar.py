"""``wangzi similar CANDIDATE``: registered candidates and new leads most like one candidate.

The index (``enrichment.similarity``: TF-IDF over character n-grams of bio and recent post
text, brand sets weighted by rarity, overseas countries and languages) is built from what is
stored - candidates' newest bios and recent posts (``storage.candidate_texts``), leads' shown
texts (``storage.leads``) - each time the command runs; its size and build time are printed.
Every result says why: shared brands, shared terms, same countries and languages.
"""

from __future__ import annotations

import json
import time

import typer

from crawler.cli._common import DATABASE_OPTION, PROBLEM, USAGE, PlainTable, console, err, fail, friendly_errors, line


def similar(
    candidate: str = typer.Argument(..., metavar="CANDIDATE", help="Candidate id, name or alias."),
    top: int = typer.Option(20, "--top", min=1, max=1000, help="How many neighbours."),
    only: str = typer.Option("all", "--only", help="all, candidates or leads."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Rank registered candidates and new leads by how much they are like CANDIDATE (text,
    brands, overseas signals), each with why."""
    from enrichment.similarity import LookalikeIndex, candidate_document, lead_document
    from storage.candidate_texts import account_texts, candidate_names
    from storage.candidates import find_candidate
    from storage.db import session_scope
    from storage.leads import lead_documents

    if only not in ("all", "candidates", "leads"):
        raise fail(f"--only must be all, candidates or leads, not {only!r}", USAGE)
    with friendly_errors(), session_scope(database_url) as session:
        found = find_candidate(session, candidate)
        if found is None:
            raise fail(f"no candidate {candidate!r} (see `wangzi candidates list`)", USAGE)
        names = candidate_names(session)
        names[found.id] = found.display_name  # type: ignore[index]
        per_candidate: dict[int, list] = {}
        for row in account_texts(session, list(names)):
            per_candidate.setdefault(row.candidate_id, []).append(row)
        leads = lead_documents(session) if only != "candidates" else []
    started = time.perf_counter()
    documents = [candidate_document(cid, name, per_candidate.get(cid, [])) for cid, name in names.items()]
    query = next(d for d in documents if d.ident == found.id)
    if only == "leads":
        documents = [query]
    documents += [lead_document(row) for row in leads]
    index = LookalikeIndex.build(documents)
    built = time.perf_counter() - started
    if not (query.text or query.brands or query.countries or query.languages):
        raise fail(f"candidate {found.id} ({found.display_name}) has no stored bio, posts, brands or places to compare: "
                   f"run `wangzi lookup {found.id}` first", PROBLEM)
    started = time.perf_counter()
    kinds = {"all": None, "candidates": ("candidate",), "leads": ("lead",)}[only]
    matches = index.similar(query, top=top, kinds=kinds)
    asked = time.perf_counter() - started
    if as_json:
        typer.echo(json.dumps({
            "candidate": {"id": found.id, "name": found.display_name, "brands": sorted(query.brands),
                          "countries": sorted(query.countries), "languages": sorted(query.languages)},
            "index": {"documents": len(index), "build_seconds": round(built, 3), "query_seconds": round(asked, 4)},
            "matches": [m.to_json() for m in matches],
        }, ensure_ascii=False, indent=2))
        return
    err.print(f"index: {len(index):,} documents, built in {built:.2f} s, asked in {asked * 1000:.0f} ms")
    if not matches:
        console.print(line(f"nothing is like {found.display_name} yet"))
        return
    table = PlainTable(title=f"Like {found.display_name}")
    for column in ("#", "kind", "id", "platform", "name", "followers", "score", "why"):
        table.add_column(column, justify="right" if column in {"#", "id", "followers", "score"} else "left")
    for rank, match in enumerate(matches, start=1):
        doc = match.document
        table.add_row(str(rank), doc.kind, str(doc.ident), doc.platform or "", doc.name,
                      "-" if doc.followers is None else f"{doc.followers:,}", f"{match.score:.3f}", match.why())
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("similar")(similar)
