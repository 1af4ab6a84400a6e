"""``wangzi explain CANDIDATE``: why a candidate ranks where it does.

Every index with its coverage-aware score, raw index and coverage; the candidate's follower
tier and each platform's; every component's weight, value, tier group, percentile and points
(or why it has none: no data, no spread in the reference); the suspicious-growth verdict with
its evidence; and the reference the percentiles were taken against. The numbers come from
:func:`enrichment.stage.explain_candidate`, which the HTML report and the HTTP API show too.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import typer
from rich.text import Text

from crawler.cli._common import DATABASE_OPTION, USAGE, PlainTable, console, fail, friendly_errors, line

INDEX_NAMES = {"composite": "Composite", "leadership": "Import-consumption leadership",
               "sales_driving": "International sales-driving", "influence": "International influence"}


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def _when(stamp: str | None) -> str:
    return "-" if not stamp else stamp[:16].replace("T", " ")


def _number(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _coverage(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def print_explanation(data: dict[str, Any]) -> None:
    """The explanation as text (names and values from users and platforms printed as text)."""
    reference = data["reference"]
    tiers = ", ".join(f"{platform} {tier}" for platform, tier in data["platform_tiers"].items())
    console.print(line((f"{data['display_name']} #{data['candidate_id']}", "bold"),
                       " · tier ", data["tier"] or "-", f" ({tiers})" if tiers else ""))
    frozen = f"frozen {_when(reference['created_at'])}, " if reference["frozen"] and reference["created_at"] else ""
    console.print(line("reference ", (reference["label"], "bold"), f" ({frozen}{reference['size']} candidates)"))
    console.print(line(f"features as of {_when(data['as_of'])}, ranking standing since {_when(data['ranked_at'])} (UTC)"))
    composite = data["composite"]
    console.print(line(("Composite", "bold"), f"  score {_number(composite['score'])}  index {_number(composite['raw'])}"
                       f"  coverage {_coverage(composite['coverage'])}"))
    for index in data["indices"]:
        console.print()
        console.print(line((INDEX_NAMES.get(index["index"], index["index"]), "bold"),
                           f"  score {_number(index['score'])}  index {_number(index['raw'])}"
                           f"  coverage {_coverage(index['coverage'])}"))
        table = PlainTable(box=None, padding=(0, 1), show_edge=False, pad_edge=False)
        table.add_column("component", no_wrap=True, overflow="ellipsis", min_width=12)
        table.add_column("w", justify="right", no_wrap=True)
        table.add_column("value", justify="right", no_wrap=True, overflow="ellipsis", max_width=12)
        table.add_column("group", no_wrap=True, overflow="ellipsis", max_width=18)
        table.add_column("pct", justify="right", no_wrap=True)
        table.add_column("points", justify="right", no_wrap=True)
        for component in index["components"]:
            pct = component["percentile"]
            table.add_row(
                component["component"], f"{component['weight']:g}", _value(component["value"]),
                ", ".join(component["groups"]) or "-",
                _number(pct, ".0f") if pct is not None else Text(component["note"], style="dim"),
                "-" if component["points"] is None else f"{component['points']:+.1f}",
            )
        console.print(table)
    authenticity = data["authenticity"]
    console.print()
    flags = authenticity["growth_flags"]
    verdict = ("suspicious: " + ", ".join(authenticity["suspicious"])) if authenticity["suspicious"] else (
        "not judged (" + ", ".join(flags) + ")" if flags else ("clean" if authenticity["growth_authenticity"] is not None
                                                               else "not computed"))
    console.print(line(("Follower growth", "bold"), "  authenticity ",
                       _number(authenticity["growth_authenticity"], ".0f"), " · ",
                       (verdict, "yellow" if authenticity["suspicious"] else "")))
    for finding in authenticity["evidence"] or []:
        console.print(line("  ", json.dumps(finding, ensure_ascii=False, default=str)))
    legend = ("score = coverage x index + (1 - coverage) x 50; points = how far a component moves the index score "
              "from 50; pct = percentile in the reference (yes/no facts: 100 or 0); no spread = the reference's values "
              "do not differ, so the component says nothing")
    for text in textwrap.wrap(legend, max(20, console.width)):
        console.print(Text(text, style="dim"))


def explain_command(
    candidate: str = typer.Argument(..., help="Candidate id, name or alias."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Explain a candidate's indices: every component's value, tier, percentile and points."""
    from crawler.cli.enrich import _candidate_id, _finite
    from enrichment.stage import explain_candidate
    from storage.candidates import get_candidate
    from storage.db import session_scope

    with friendly_errors(), session_scope(database_url) as session:
        candidate_id = _candidate_id(session, candidate)
        data = explain_candidate(session, candidate_id)
        name = get_candidate(session, candidate_id).display_name  # type: ignore[union-attr]
    if data is None:
        raise fail(f"candidate {candidate!r} has no features yet: run `wangzi enrich`", USAGE)
    data = {"display_name": name, **data}
    if as_json:
        typer.echo(json.dumps(_finite(data)[0], ensure_ascii=False, indent=2, allow_nan=False))
        return
    print_explanation(data)


def register(app: typer.Typer) -> None:
    app.command("explain")(explain_command)
