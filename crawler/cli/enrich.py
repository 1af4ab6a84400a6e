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
import textwrap
from collections import Counter
from datetime import date, datetime, time, timezone
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from crawler.cli._common import DATABASE_OPTION, PROBLEM, USAGE, console, err, fail, friendly_errors, line

# Enrichment, storage and pyarrow are imported inside the commands: every `wangzi` command
# imports every command module at start-up, and these take ~0.9 s (SQLModel, lingua, the
# brand automaton) that a `wangzi parse` should not pay.

features_app = typer.Typer(help="Export the feature table for scoring jobs.", no_args_is_help=True)

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


REFERENCE_OPTION = typer.Option(
    None, "--reference",
    help="Rank against this frozen reference (NAME or NAME@vN) or 'cohort' (default: the newest frozen one, else the cohort).")


def enrich_command(
    candidate: str = typer.Option(None, "--candidate", "-c", help="Only this candidate (id, name or alias)."),
    force: bool = typer.Option(False, "--force", help="Recompute even when there is no new data."),
    as_of: str = typer.Option(None, "--as-of", help="Compute features as of this time (default now)."),
    weights: Path = typer.Option(None, "--weights", help="Index weights TOML (default enrichment/data/weights.toml)."),
    reference: str = REFERENCE_OPTION,
    database_url: str = DATABASE_OPTION,
) -> None:
    """Compute features for candidates with new snapshots, posts or press mentions, then re-rank."""
    from enrichment.stage import enrich
    from storage.db import session_scope

    when = _parse_when(as_of, end_of_day=True)
    loaded = _weights(weights)
    with friendly_errors(), session_scope(database_url) as session:
        ids = [_candidate_id(session, candidate)] if candidate else None
        result = enrich(session, ids, as_of=when, force=force, weights=loaded, reference=reference)
    console.print(line(
        "enriched ", (str(result.computed), "bold"), f" candidate(s) with new data, {result.skipped} unchanged; "
        f"ranked {result.ranked} against ", result.reference,
    ))


# --------------------------------------------------------------------------- rank

#: Columns of the ranking table after the candidate: (header, width).
_RANK_COLUMNS = (("score", 5), ("index", 5), ("cov", 4), ("lead", 5), ("sales", 5), ("infl", 5), ("tier", 5), ("!", 1))
_SHORT = {"leadership": "lead", "sales_driving": "sales", "influence": "infl"}


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _why(item: dict[str, Any]) -> str:
    """One top contributor: ``shopping_post_share p100 +8.3`` (yes/no facts: ``ip_abroad yes``)."""
    value = item.get("value")
    shown = ("yes" if value else "no") if isinstance(value, bool) else f"p{item['percentile']:.0f}"
    return f"{item['component']} {shown} {item['points']:+.1f}"


def ranking_entries(session: Any, by: str = "composite", top: int = 10, *, min_coverage: float | None = None,
                    exclude_suspicious: bool = False) -> list[dict[str, Any]]:
    """The newest ranking as plain rows (what ``--json`` prints): streamed from the database in
    score order, filtered, and cut at ``top``."""
    from enrichment.schema import INDICES, RANK_BY, coverage_column, index_column, score_column
    from enrichment.stage import suspicious_flags
    from storage.features import iter_ranked_rows

    key = RANK_BY[by]
    out: list[dict[str, Any]] = []
    for row in iter_ranked_rows(session, score_column(key), coverage=coverage_column(key), min_coverage=min_coverage):
        features = row.features or {}
        flagged = suspicious_flags(features.get("growth_flags"))
        if exclude_suspicious and flagged:
            continue
        out.append({
            "rank": len(out) + 1, "candidate_id": row.candidate_id, "display_name": row.display_name, "by": key,
            "score": getattr(row, score_column(key)), "index": getattr(row, index_column(key)),
            "coverage": getattr(row, coverage_column(key)),
            "scores": {name: getattr(row, score_column(name)) for name in (*INDICES, "composite")},
            "indices": {name: getattr(row, index_column(name)) for name in (*INDICES, "composite")},
            "coverages": {name: getattr(row, coverage_column(name)) for name in (*INDICES, "composite")},
            "tier": row.tier, "reference": row.reference, "as_of": row.as_of.isoformat(),
            "growth_authenticity": features.get("growth_authenticity"), "growth_flags": features.get("growth_flags"),
            "suspicious": bool(flagged), "why": (row.top_contributors or {}).get(key, []),
            "synthetic_history": bool(features.get("synthetic_history")),
        })
        if len(out) >= top:
            break
    return out


def ranking_lines(entries: list[dict[str, Any]], *, width: int = 80, why: bool = True) -> list[Text]:
    """The ranking as lines of text that fit ``width`` columns: one row per candidate (the name
    cut to fit) and, with ``why``, the components that explain the score on the line under it.
    Names are text, never markup."""
    fixed = 3 + sum(w for _, w in _RANK_COLUMNS) + 2 * (len(_RANK_COLUMNS) + 1)
    name_width = max(12, width - fixed)

    def cells(first: str, name: Text, rest: list[str], style: str = "") -> Text:
        name.truncate(name_width, overflow="ellipsis", pad=True)
        parts: list[Any] = [(first.rjust(3), style), "  ", name]
        for (_, w), value in zip(_RANK_COLUMNS, rest):
            parts += ["  ", (value.rjust(w) if w > 1 else value.ljust(w), style)]
        return Text.assemble(*parts)

    out = [cells("#", Text("candidate", style="bold"), [h for h, _ in _RANK_COLUMNS], "bold")]
    for entry in entries:
        scores = entry["scores"]
        coverage = entry["coverage"]
        # S: the features read the invented history `wangzi demo` adds (storage/synthetic.py).
        name = Text(f"{entry['display_name']} #{entry['candidate_id']}" + (" S" if entry.get("synthetic_history") else ""))
        out.append(cells(str(entry["rank"]), name, [
            _number(entry["score"]), _number(entry["index"]), "-" if coverage is None else f"{coverage:.0%}",
            *(_number(scores[index]) for index in _SHORT), entry["tier"] or "-", "!" if entry["suspicious"] else "",
        ]))
        if why:
            reasons = [_why(item) for item in entry["why"]] or ["no component with data"]
            for text in _wrap_items("why: ", reasons, max(20, width - 5)):
                out.append(Text.assemble("     ", (text, "dim")))
            if entry["suspicious"]:
                flags = ", ".join(str(flag) for flag in entry["growth_flags"] or [])
                authenticity = entry["growth_authenticity"]
                note = f"flagged: {flags}" + ("" if authenticity is None else f" (growth authenticity {authenticity:.0f})")
                for text in textwrap.wrap(note, width=max(20, width - 5)):
                    out.append(Text.assemble("     ", (text, "yellow")))
    return out


def _wrap_items(prefix: str, items: list[str], width: int) -> list[str]:
    """``prefix`` and the items joined by ", ", broken into lines of at most ``width``
    characters between items (an item is never split unless it alone is too long)."""
    lines, current = [], prefix
    for position, item in enumerate(items):
        piece = item + ("," if position < len(items) - 1 else "")
        if current.strip() and len(current) + len(piece) + 1 > width and current != prefix:
            lines.append(current.rstrip())
            current = " " * len(prefix)
        current += ("" if current.endswith((" ", prefix)) else " ") + piece
    lines.append(current.rstrip())
    return [part for text in lines for part in (textwrap.wrap(text, width, subsequent_indent=" " * len(prefix))
                                                if len(text) > width else [text])]


def print_ranking(session: Any, by: str = "composite", top: int = 10, *, min_coverage: float | None = None,
                  exclude_suspicious: bool = False, why: bool = True) -> int:
    """Print the newest ranking (fits the terminal, 80 columns included); returns the number
    of candidates printed."""
    entries = ranking_entries(session, by, top, min_coverage=min_coverage, exclude_suspicious=exclude_suspicious)
    if not entries:
        console.print("no ranked feature snapshots" + (" with that coverage" if min_coverage else "")
                      + ": run `wangzi enrich`")
        return 0
    references = sorted({str(entry["reference"] or "cohort") for entry in entries})
    console.print(line((f"Top {len(entries)} by {by} score", "bold italic"), " (reference: ", ", ".join(references), ")"))
    width = console.width
    for text in ranking_lines(entries, width=width, why=why):
        console.print(text)
    legend = ("score = coverage x index + (1 - coverage) x 50, what the list is sorted by; index = weighted "
              "percentile over the components with data; cov = coverage, the share of the index weight with data; "
              "lead/sales/infl = the index scores; tier = follower tier; ! = suspicious follower growth; - = no data"
              + ("; S = computed from synthetic demo history, not real data" if any(e.get("synthetic_history") for e in entries) else ""))
    for text in textwrap.wrap(legend, width=max(20, width)):
        console.print(Text(text, style="dim"))
    return len(entries)


def rank_command(
    by: str = typer.Option("composite", "--by", help="composite | leadership | sales | influence"),
    top: int = typer.Option(20, "--top", "--limit", min=1, help="How many candidates to show."),
    min_coverage: float = typer.Option(None, "--min-coverage", min=0.0, max=1.0,
                                       help="Only candidates with at least this coverage (0..1) of the ranked index."),
    exclude_suspicious: bool = typer.Option(False, "--exclude-suspicious",
                                            help="Leave out candidates flagged for suspicious follower growth."),
    why: bool = typer.Option(True, "--why/--no-why", help="The components behind each score, on the line under it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Print the candidates ranked by an index's coverage-aware score (from their newest feature snapshots)."""
    from enrichment.schema import RANK_BY
    from storage.db import session_scope

    if by not in RANK_BY:
        raise fail(f"--by {by!r}: choose one of {', '.join(RANK_BY)}", USAGE)
    with friendly_errors(), session_scope(database_url) as session:
        if as_json:
            entries = ranking_entries(session, by, top, min_coverage=min_coverage, exclude_suspicious=exclude_suspicious)
            typer.echo(json.dumps(_finite(entries)[0], ensure_ascii=False, indent=2, allow_nan=False))
            return
        print_ranking(session, by=by, top=top, min_coverage=min_coverage, exclude_suspicious=exclude_suspicious, why=why)


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


def write_export(rows: Iterable[dict[str, Any]], fmt: str, out: Path) -> Counter[str]:
    """Write the feature table. Lists and maps are JSON text in csv, native in jsonl and parquet
    (maps as JSON text in parquet too: their keys vary per row). Text cells of the csv that a
    spreadsheet would run as a formula get a leading quote (:mod:`enrichment.csv_cells`).

    No format gets a non-finite number: NaN and infinities (which a row ranked before weights
    were checked can hold) are written as null, and the count per column is returned for the
    caller to report. JSON (jsonl, and the JSON text in csv and parquet) is strict."""
    return export_rows(rows, fmt, out)[1]


#: Rows per parquet row group (the table is written as it is read, never held whole).
PARQUET_BATCH = 5000


def export_rows(rows: Iterable[dict[str, Any]], fmt: str, out: Path) -> tuple[int, Counter[str]]:
    """:func:`write_export`, streaming: returns how many rows were written and the non-finite
    numbers nulled per column."""
    from enrichment.schema import EXPORT_COLUMNS

    names = [spec.name for spec in EXPORT_COLUMNS]
    nulled: Counter[str] = Counter()
    written = 0

    def finite_rows() -> Iterator[dict[str, Any]]:
        nonlocal written
        for raw in rows:
            row = {}
            for name in names:
                row[name], count = _finite(raw.get(name))
                if count:
                    nulled[name] += count
            written += 1
            yield row

    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        with out.open("w", encoding="utf-8") as handle:
            for row in finite_rows():
                handle.write(_json({n: _plain(row.get(n)) for n in names}) + "\n")
    elif fmt == "csv":
        from enrichment.csv_cells import neutralise_formula

        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            for row in finite_rows():
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
        stream = finite_rows()
        first = next(stream, None)
        schema = pa.schema([pa.field(spec.name, types[spec.type]) for spec in EXPORT_COLUMNS],
                           metadata={"schema_version": first["schema_version"] if first else ""})

        def table(batch: list[dict[str, Any]]) -> Any:
            columns = {}
            for spec in EXPORT_COLUMNS:
                values = [row.get(spec.name) for row in batch]
                if spec.type == "map":
                    values = [None if v is None else _json(v) for v in values]
                elif spec.type == "float":
                    values = [None if v is None else float(v) for v in values]
                columns[spec.name] = pa.array(values, type=types[spec.type])
            return pa.table(columns, schema=schema)

        with pq.ParquetWriter(out, schema) as writer:
            batch = [] if first is None else [first]
            for row in stream:
                batch.append(row)
                if len(batch) >= PARQUET_BATCH:
                    writer.write_table(table(batch))
                    batch = []
            writer.write_table(table(batch))
    else:  # pragma: no cover - checked by the command
        raise ValueError(fmt)
    return written, nulled


def export_command(
    fmt: str = typer.Option(..., "--format", "-f", help="parquet | csv | jsonl"),
    out: Path = typer.Option(..., "--out", "-o", help="File to write."),
    as_of: str = typer.Option(None, "--as-of", help="Use each candidate's newest features as of this date/time."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Write one row per candidate with the documented, versioned feature columns."""
    from enrichment.stage import iter_feature_table
    from storage.db import session_scope

    if fmt not in FORMATS:
        raise fail(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}", USAGE)
    when = _parse_when(as_of, end_of_day=True)
    with friendly_errors(), session_scope(database_url) as session:
        count, nulled = export_rows(iter_feature_table(session, when), fmt, out)
    console.print(line(f"wrote {count} candidate row(s) to ", str(out), f" ({fmt})"))
    if nulled:
        columns = ", ".join(f"{name} ({n})" for name, n in sorted(nulled.items()))
        err.print(line((f"warning: {sum(nulled.values())} non-finite value(s) (NaN or infinity) written as null: "
                        f"{columns}; re-rank with `wangzi enrich` to recompute the indices", "yellow")), highlight=False)
    if not count:
        err.print(line(("no feature snapshots" + (f" as of {as_of}" if as_of else "") + ": run `wangzi enrich` first",
                        "yellow")))
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
    console.print(line("wrote ", str(out), "" if data.features else (" (no features yet: run `wangzi enrich`)", "yellow")))


def register(app: typer.Typer) -> None:
    app.command("enrich")(enrich_command)
    app.command("rank")(rank_command)
    features_app.command("export")(export_command)
    app.add_typer(features_app, name="features")
    app.command("report")(report_command)
