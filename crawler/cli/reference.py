"""``wangzi reference freeze`` / ``reference list``: frozen references for a stable scale.

``freeze`` stores the active cohort's distribution of every index component (per tier group
where ranked within tiers), the tier edges and each brand's first mentions as the next
version of a named reference, then ranks the cohort against it. From then on ``enrich``
ranks against the newest frozen reference (``--reference NAME[@vN]`` picks another,
``--reference cohort`` the live cohort), so a candidate's score does not move when others
join; rows and exports name the reference (``reference`` column).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from crawler.cli._common import DATABASE_OPTION, PlainTable, console, friendly_errors, line

reference_app = typer.Typer(help="Frozen references: a stable scale for the indices.", no_args_is_help=True)


@reference_app.command("freeze")
def freeze(
    name: str = typer.Option("default", "--name", help="Reference name (each freeze adds a version: NAME@v1, @v2 ...)."),
    weights: Path = typer.Option(None, "--weights", help="Index weights TOML (default enrichment/data/weights.toml)."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Store the current cohort's per-component distribution as the next version of a reference."""
    from crawler.cli.enrich import _weights
    from enrichment.stage import freeze_reference
    from storage.db import session_scope

    loaded = _weights(weights)
    with friendly_errors(), session_scope(database_url) as session:
        frozen = freeze_reference(session, name, weights=loaded)
    console.print(line("froze reference ", (frozen.label, "bold"), f": {frozen.size} candidate(s), "
                       f"{len(frozen.distributions)} distribution(s); the cohort is ranked against it, and so is every "
                       "enrich from now on (--reference cohort for the live cohort)"))


@reference_app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """The stored references, oldest first (enrich uses the newest unless told otherwise)."""
    from storage.db import session_scope
    from storage.references import list_references

    with friendly_errors(), session_scope(database_url) as session:
        rows = list_references(session)
    if as_json:
        typer.echo(json.dumps([{"reference": f"{r.name}@v{r.version}", "name": r.name, "version": r.version,
                                "created_at": r.created_at.isoformat(), "as_of": r.as_of.isoformat() if r.as_of else None,
                                "cohort_size": r.cohort_size, "weights": r.weights_source} for r in rows],
                              ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("no frozen reference yet: indices rank against the live cohort (`wangzi reference freeze` stores one)")
        return
    table = PlainTable("reference", "created (UTC)", "features as of", "size", "weights", title="Frozen references")
    for r in rows:
        table.add_row(f"{r.name}@v{r.version}", f"{r.created_at:%Y-%m-%d %H:%M}",
                      f"{r.as_of:%Y-%m-%d %H:%M}" if r.as_of else "-", str(r.cohort_size),
                      Path(r.weights_source).name if r.weights_source else "-")
    console.print(table)
    console.print(line(("enrich ranks against the newest one, ", "dim"), (f"{rows[-1].name}@v{rows[-1].version}", "bold")))


def register(app: typer.Typer) -> None:
    app.add_typer(reference_app, name="reference")
