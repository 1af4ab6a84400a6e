"""``wangzi enrich``, ``rank``, ``features export`` and ``report``: the enrichment stage.

``enrich`` computes features for candidates with new data since their last feature
snapshot and re-ranks the cohort; ``rank`` prints the ranking; ``features export`` writes
one row per candidate (parquet, csv or jsonl) with the versioned columns documented in
docs/features.md; ``report`` writes a self-contained HTML page about one candidate.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from crawler.cli._common import PROBLEM, USAGE, console, err, fail, friendly_errors

# Enrichment, storage and pyarrow are imported inside the commands: every `wangzi` command
# imports every command module at start-up, and these take ~0.9 s (SQLModel, lingua, the
# brand automaton) that a `wangzi parse` should not pay.

features_app = typer.Typer(help="Export the feature table for scoring jobs.", no_args_is_help=True)

DATABASE_OPTION = typer.Option(None, "--database-url", envvar="DATABASE_URL", help="Database (default sqlite:///wangzi.db).")
FORMATS = ("parquet", "csv", "jsonl")


def _parse_when(text: str | None, *, end_of_day: bool) -> datetime | None:
    """ "2026-11-01" (the end of that day, UTC, for --as-of) or a full ISO time, from 2000-01-01
    to the end of tomorrow (UTC): anything else is a one-line usage error."""
    from enrichment.stage import AsOfOutOfRange, checked_as_of

    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            value = datetime.combine(day, time.max if end_of_day else time.min, tzinfo=timezone.utc)
        else:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--as-of {text!r} is not a date (YYYY-MM-DD) or an ISO time", USAGE) from None
    try:
        return checked_as_of(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    except AsOfOutOfRange as exc:
        raise fail(f"--as-of {text!r}: {exc}", USAGE) from None


def _weights(path: Path | None) -> Any:
    from enrichment.indices import WeightsError, load_weights
    from enrichment.schema import FEATURE_NAMES

    try:
        return load_weights(path, known_features=FEATURE_NAMES)
    except WeightsError as exc:
        raise fail(str(exc), USAGE) from None


def _candidate_id(session: Any, text: str) -> int:
    from storage.candidates import find_candidate

    found = find_candidate(session, text)
    if found is None:
        raise fail(f"no candidate {text!r} (by id, name or alias); see `wangzi candidates list`", USAGE)
    return found.id  # type: ignore[return-value]


def enrich_command(
    candidate: str = typer.Option(None, "--candidate", "-c", help="Only this candidate (id, name or alias)."),
    force: bool = typer.Option(False, "--force", help="Recompute even when there is no new data."),
    as_of: str = typer.Option(None, "--as-of", help="Compute features as of this time (default now)."),
    weights: Path = typer.Option(None, "--weights", help="Index weights TOML (default enrichment/data/weights.toml)."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Compute features for candidates with new snapshots, posts or press mentions, then re-rank."""
    from enrichment.stage import enrich
    from storage.db import session_scope

    when = _parse_when(as_of, end_of_day=True)
    loaded = _weights(weights)
    with friendly_errors(), session_scope(database_url) as session:
        ids = [_candidate_id(session, candidate)] if candidate else None
        result = enrich(session, ids, as_of=when, force=force, weights=loaded)
    console.print(
        f"enriched [bold]{result.computed}[/] candidate(s) with new data, {result.skipped} unchanged; "
        f"ranked {result.ranked} in the cohort"
    )


def print_ranking(session: Any, by: str = "composite", top: int = 10) -> int:
    """Print the newest ranking as a rich table; returns the number of rows printed."""
    from enrichment.schema import (
        COMPOSITE,
        INDICES,
        RANK_BY,
        coverage_column,
        index_column,
    )
    from storage.features import top_feature_snapshots

    key = RANK_BY[by]
    rows = top_feature_snapshots(session, index_column(key), top)
    table = Table(title=f"Top {top} by {by} index", show_lines=False)
    for name in ("#", "candidate", *RANK_BY, "coverage"):
        table.add_column(name, justify="left" if name == "candidate" else "right",
                         no_wrap=name != "candidate", min_width=12 if name == "candidate" else None)
    table.add_column("why (top components, percentile)", justify="left", overflow="fold")

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    for position, (snapshot, name) in enumerate(rows, start=1):
        tops = snapshot.top_contributors or {}
        if key == COMPOSITE:  # the strongest component of each index
            top_parts = [item for index in INDICES for item in tops.get(index, [])[:1]]
        else:
            top_parts = tops.get(key, [])
        why = ", ".join(f"{item['component']} p{item['percentile']:.0f}" for item in top_parts[:3] if item["points"] > 0)
        coverage = getattr(snapshot, coverage_column(key))
        scores = [fmt(getattr(snapshot, index_column(RANK_BY[shown]))) for shown in RANK_BY]
        table.add_row(str(position), f"{name} [dim]#{snapshot.candidate_id}[/]", *scores,
                      "-" if coverage is None else f"{coverage:.0%}", why or "-")
    if rows:
        console.print(table)
        console.print("[dim]indices 0-100 (percentile within the active cohort); coverage = share of the index weight with data; "
                      "- = no data[/]")
    else:
        console.print("no feature snapshots yet: run `wangzi enrich`")
    return len(rows)


def rank_command(
    by: str = typer.Option("composite", "--by", help="composite | leadership | sales | influence"),
    top: int = typer.Option(20, "--top", min=1, help="How many candidates to show."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Print the candidates ranked by an index (from their newest feature snapshots)."""
    from enrichment.schema import RANK_BY
    from storage.db import session_scope

    if by not in RANK_BY:
        raise fail(f"--by {by!r}: choose one of {', '.join(RANK_BY)}", USAGE)
    with friendly_errors(), session_scope(database_url) as session:
        print_ranking(session, by=by, top=top)


# --------------------------------------------------------------------------- export


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    return value


def _json(value: Any) -> str:
    """Strict JSON: a NaN or infinity left here is a bug, not ``NaN``/``Infinity`` in a file."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _finite(value: Any) -> tuple[Any, int]:
    """The value with every NaN and infinity (inside lists and maps too) replaced by None, and
    how many were replaced."""
    if isinstance(value, float) and not math.isfinite(value):
        return None, 1
    if isinstance(value, dict):
        pairs = {key: _finite(item) for key, item in value.items()}
        return {key: item for key, (item, _) in pairs.items()}, sum(count for _, count in pairs.values())
    if isinstance(value, (list, tuple)):
        items = [_finite(item) for item in value]
        return [item for item, _ in items], sum(count for _, count in items)
    return value, 0


def write_export(rows: list[dict[str, Any]], fmt: str, out: Path) -> Counter[str]:
    """Write the feature table. Lists and maps are JSON text in csv, native in jsonl and parquet
    (maps as JSON text in parquet too: their keys vary per row). Text cells of the csv that a
    spreadsheet would run as a formula get a leading quote (:mod:`enrichment.csv_cells`).

    No format gets a non-finite number: NaN and infinities (which a row ranked before weights
    were checked can hold) are written as null, and the count per column is returned for the
    caller to report. JSON (jsonl, and the JSON text in csv and parquet) is strict."""
    from enrichment.schema import EXPORT_COLUMNS

    names = [spec.name for spec in EXPORT_COLUMNS]
    nulled: Counter[str] = Counter()
    finite_rows = []
    for raw in rows:
        row = {}
        for name in names:
            row[name], count = _finite(raw.get(name))
            if count:
                nulled[name] += count
        finite_rows.append(row)
    rows = finite_rows
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        with out.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(_json({n: _plain(row.get(n)) for n in names}) + "\n")
    elif fmt == "csv":
        from enrichment.csv_cells import neutralise_formula

        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            for row in rows:
                cells = []
                for spec in EXPORT_COLUMNS:
                    value = row.get(spec.name)
                    if value is None:
                        cells.append("")
                    else:
                        cells.append(neutralise_formula(_json(value) if spec.type in ("list", "map") else _plain(value)))
                writer.writerow(cells)
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string(),
                 "datetime": pa.timestamp("us", tz="UTC"), "list": pa.list_(pa.string()), "map": pa.string()}
        schema = pa.schema([pa.field(spec.name, types[spec.type]) for spec in EXPORT_COLUMNS],
                           metadata={"schema_version": rows[0]["schema_version"] if rows else ""})
        columns = {}
        for spec in EXPORT_COLUMNS:
            values = [row.get(spec.name) for row in rows]
            if spec.type == "map":
                values = [None if v is None else _json(v) for v in values]
            elif spec.type == "float":
                values = [None if v is None else float(v) for v in values]
            columns[spec.name] = pa.array(values, type=types[spec.type])
        pq.write_table(pa.table(columns, schema=schema), out)
    else:  # pragma: no cover - checked by the command
        raise ValueError(fmt)
    return nulled


def export_command(
    fmt: str = typer.Option(..., "--format", "-f", help="parquet | csv | jsonl"),
    out: Path = typer.Option(..., "--out", "-o", help="File to write."),
    as_of: str = typer.Option(None, "--as-of", help="Use each candidate's newest features as of this date/time."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Write one row per candidate with the documented, versioned feature columns."""
    from enrichment.stage import feature_table
    from storage.db import session_scope

    if fmt not in FORMATS:
        raise fail(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}", USAGE)
    when = _parse_when(as_of, end_of_day=True)
    with friendly_errors(), session_scope(database_url) as session:
        rows = feature_table(session, when)
    nulled = write_export(rows, fmt, out)
    console.print(f"wrote {len(rows)} candidate row(s) to {out} ({fmt})")
    if nulled:
        columns = ", ".join(f"{name} ({count})" for name, count in sorted(nulled.items()))
        err.print(f"[yellow]warning: {sum(nulled.values())} non-finite value(s) (NaN or infinity) written as null: "
                  f"{columns}; re-rank with `wangzi enrich` to recompute the indices[/]", highlight=False)
    if not rows:
        err.print("[yellow]no feature snapshots" + (f" as of {as_of}" if as_of else "") + ": run `wangzi enrich` first[/]")
        raise typer.Exit(PROBLEM)


# --------------------------------------------------------------------------- report


def report_command(
    candidate: str = typer.Argument(..., help="Candidate id, name or alias."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="HTML file to write."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Write a self-contained HTML report (charts inline, no network) about one candidate."""
    from enrichment.report import load_report, render_report
    from storage.db import session_scope

    with friendly_errors(), session_scope(database_url) as session:
        data = load_report(session, _candidate_id(session, candidate))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(data), encoding="utf-8")
    console.print(f"wrote {out}" + ("" if data.features else " [yellow](no features yet: run `wangzi enrich`)[/]"))


def register(app: typer.Typer) -> None:
    app.command("enrich")(enrich_command)
    app.command("rank")(rank_command)
    features_app.command("export")(export_command)
    app.add_typer(features_app, name="features")
    app.command("report")(report_command)
