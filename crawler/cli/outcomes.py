"""``wangzi outcomes import`` and ``wangzi evaluate``: the marketplace's outcomes (orders, GMV,
clicks, conversions per candidate and period, from its affiliate or order data), and how well
the indices rank candidates by them.

``outcomes import FILE.csv`` reads a header row naming ``candidate`` (id, display name or
alias), ``period`` and any of ``orders``, ``gmv``, ``clicks``, ``conversions``; a bad row is
reported with its row number and why, the good rows are kept (exit 1 when any row was
rejected). ``evaluate`` prints, for each index and its components, the Spearman correlation
with each outcome (95 % bootstrap interval, N), precision@k against the top outcome decile,
and component weights fitted by cross-validated non-negative regression next to the weights
in use, writing them as a weights file only with ``--write-weights`` (docs/features.md,
"Calibration against outcomes").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import typer

from crawler.cli._common import (
    DATABASE_OPTION,
    PROBLEM,
    USAGE,
    PlainTable,
    console,
    err,
    fail,
    friendly_errors,
    line,
    os_error,
)
from crawler.cli.candidates import csv_records, decode_csv

outcomes_app = typer.Typer(help="Marketplace outcomes (orders, GMV, clicks, conversions) to check the indices against.",
                           no_args_is_help=True)

CANDIDATE_COLUMNS = ("candidate", "candidate_id", "name", "display_name")


# --------------------------------------------------------------------------- import


@dataclass
class OutcomeImport:
    stored: list[tuple[int, str]] = field(default_factory=list)  # (row number, what was stored)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, why the row was rejected)
    warnings: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0


def import_outcomes(text: str, database_url: str | None, source: str | None = None) -> OutcomeImport:
    """Import outcome rows from CSV text (rows numbered as a spreadsheet does, the header is
    row 1). Every row is checked whole - candidate, period, each value - and a row with any
    problem is rejected with all of them named; the good rows are stored in one transaction."""
    from storage.candidates import find_candidate
    from storage.db import session_scope
    from storage.outcomes import (
        OUTCOMES,
        OutcomeRefused,
        parse_amount,
        parse_period,
        store_outcome,
    )

    report = OutcomeImport()
    records = csv_records(text)
    first = next(records, None)
    if first is None or not isinstance(first[1], list) or not any(h.strip() for h in first[1]):
        problem = first[1] if first is not None and isinstance(first[1], str) else "the file is empty"
        report.errors.append((1, f"{problem} (expected a header row: candidate,period,orders,gmv,clicks,conversions)"))
        return report
    header = first[1]
    columns = {h.strip().lower().replace("-", "_").replace(" ", "_"): index for index, h in enumerate(header)}
    candidate_column = next((columns[c] for c in CANDIDATE_COLUMNS if c in columns), None)
    missing = [name for name, found in (("candidate", candidate_column), ("period", columns.get("period")))
               if found is None]
    given = [name for name in OUTCOMES if name in columns]
    if missing or not given:
        what = [f"no {name!r} column" for name in missing] + ([] if given else [f"no outcome column ({', '.join(OUTCOMES)})"])
        report.errors.append((1, f"{'; '.join(what)} in header {header}"))
        return report
    unknown = [h for h in columns if h not in {*CANDIDATE_COLUMNS, "period", *OUTCOMES}]
    if unknown:
        report.warnings.append(f"ignoring unknown column(s) {unknown}; outcomes are {list(OUTCOMES)}")

    def cell(row: list[str], index: int | None) -> str:
        return row[index] if index is not None and index < len(row) else ""

    seen: dict[tuple[int, str], int] = {}
    with session_scope(database_url) as session:
        for number, row in records:
            if isinstance(row, str):
                report.errors.append((number, row))
                continue
            if not any(value.strip() for value in row):
                continue  # a blank line
            if len(row) > len(header):
                report.errors.append((number, f"row has more fields ({len(row)}) than the header ({len(header)})"))
                continue
            problems: list[str] = []
            candidate = None
            wanted = cell(row, candidate_column).strip()
            if not wanted:
                problems.append("missing candidate")
            else:
                try:
                    candidate = find_candidate(session, wanted)
                except ValueError as exc:  # control or invisible characters
                    problems.append(str(exc))
                else:
                    if candidate is None:
                        problems.append(f"no candidate {wanted!r} (by id, name or alias); see `wangzi candidates list`")
            period = None
            try:
                period = parse_period(cell(row, columns["period"]))
            except OutcomeRefused as exc:
                problems.append(str(exc))
            values: dict[str, int | float | None] = {}
            for name in given:
                try:
                    values[name] = parse_amount(name, cell(row, columns[name]))
                except OutcomeRefused as exc:
                    problems.append(str(exc))
            if not problems and all(value is None for value in values.values()):
                problems.append(f"no outcome value (give at least one of {', '.join(given)})")
            if not problems and candidate is not None and period is not None:
                key = (candidate.id, period.label)  # type: ignore[arg-type]
                if key in seen:
                    problems.append(f"candidate {candidate.id} and period {period.label} are already given in row {seen[key]}")
                else:
                    seen[key] = number
            if problems or candidate is None or period is None:
                report.errors.append((number, "; ".join(problems)))
                continue
            created = store_outcome(session, candidate.id, period, values, source)  # type: ignore[arg-type]
            report.created += created
            report.updated += not created
            shown = ", ".join(f"{name} {value:g}" for name, value in values.items() if value is not None)
            report.stored.append((number, f"{candidate.id} {candidate.display_name} {period.label}: {shown}"))
    return report


@outcomes_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="CSV with columns candidate, period and any of orders, gmv, clicks, conversions."),
    encoding: str = typer.Option(None, "--encoding", help="The file's encoding (default: UTF-8, else GB18030 as Excel on Chinese Windows saves it)."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Import outcomes per candidate and period. Bad rows are reported with their row number; good rows are kept.

    Periods: 2026, 2026-Q3, 2026-10, 2026-W41, 2026-10-05 or 2026-10-01/2026-10-31.

    A candidate's period imported again takes the values the new row gives. Exit code 1 when any row was rejected."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise os_error(exc) from None
    text = decode_csv(data, file, encoding)
    with friendly_errors():
        report = import_outcomes(text, database_url, source=file.name)
    for warning in report.warnings:
        err.print(line(("warning:", "yellow"), f" {warning}"))
    for number, stored in report.stored:
        console.print(line(f"row {number}: {stored}"))
    for number, message in report.errors:
        err.print(line((f"row {number}:", "red"), f" {message}"))
    console.print(f"{len(report.stored)} stored ({report.created} new, {report.updated} updated), "
                  f"{len(report.errors)} rejected")
    if report.errors:
        raise typer.Exit(PROBLEM)


# --------------------------------------------------------------------------- evaluate


def _as_of(text: str | None) -> datetime | None:
    from enrichment.stage import AsOfOutOfRange, checked_as_of

    if text is None:
        return None
    try:
        value = (datetime.combine(date.fromisoformat(text), time.max, tzinfo=timezone.utc) if len(text) == 10
                 else datetime.fromisoformat(text.replace("Z", "+00:00")))
        return checked_as_of(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    except AsOfOutOfRange as exc:
        raise fail(f"--as-of {text!r}: {exc}", USAGE) from None
    except ValueError:
        raise fail(f"--as-of {text!r} is not a date (YYYY-MM-DD) or an ISO time", USAGE) from None


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _correlation_cell(found: Any) -> str:
    if found.rho is None:
        return f"- (n={found.n})"
    interval = f" [{_fmt(found.low)}, {_fmt(found.high)}]" if found.low is not None else ""
    return f"{found.rho:+.2f}{interval} n={found.n}"


def print_evaluation(evaluation: Any) -> None:
    """The evaluation as tables (every value printed as text)."""
    from enrichment.schema import COMPOSITE

    outcomes = list(evaluation.outcomes)
    periods = ", ".join(evaluation.periods) if evaluation.periods else "none"
    console.print(line(f"{evaluation.candidates} candidate(s) with features; with outcomes: "
                       + (", ".join(f"{o} {n}" for o, n in evaluation.outcomes.items()) or "none")
                       + f"; periods: {periods}; weights: {evaluation.weights.source}"))
    if not outcomes:
        return
    table = PlainTable("index", "row", *outcomes, title="Spearman correlation with each outcome [95% bootstrap interval], N")
    for index, rows in evaluation.correlations.items():
        for row, by_outcome in rows.items():
            table.add_row(index if row == "score" else "", "score" if row == "score" else f"  {row}",
                          *(_correlation_cell(by_outcome[o]) for o in outcomes))
    console.print(table)
    table = PlainTable("index", *outcomes, title="precision@k of the ranking against the top outcome decile (chance)")
    for index, by_outcome in evaluation.precision.items():
        table.add_row(index, *(f"{_fmt(p.precision)} (k={p.k}, chance {_fmt(p.chance)})" if p.precision is not None
                               else "-" for p in (by_outcome[o] for o in outcomes)))
    console.print(table)
    if not evaluation.fits:
        return
    console.print(line(f"Weights fitted against {evaluation.fit_outcome} (non-negative least squares on the components' "
                       f"percentiles, 5-fold cross-validated):"))
    for fit in evaluation.fits:
        if fit.fitted is None and fit.held_out_fitted is None:
            console.print(line((f"  {fit.index}:", "bold"), f" not fitted: {fit.refused}"))
            continue
        verdict = ("" if fit.refused or fit.better else "; no better than the weights in use, which --write-weights keeps")
        console.print(line((f"  {fit.index}:", "bold"), f" held-out Spearman with {fit.outcome}: fitted "
                           f"{_fmt(fit.held_out_fitted, 3)}, weights in use {_fmt(fit.held_out_default, 3)} (n={fit.n})"
                           + (f"; not fitted: {fit.refused}" if fit.refused else verdict)))
        if fit.fitted is not None:
            table = PlainTable("component", "in use", "fitted", title=None, box=None, padding=(0, 2))
            for component, weight in fit.default.items():
                table.add_row(f"    {component}" if fit.index != COMPOSITE else f"    {component} (index)",
                              f"{weight:g}", f"{fit.fitted[component]:g}" + (" (no data: kept)" if component in fit.kept else ""))
            console.print(table)


def evaluate_command(
    outcome: list[str] = typer.Option(None, "--outcome", help="Only this outcome (repeatable): gmv, orders, conversions, clicks."),
    fit_outcome: str = typer.Option(None, "--fit-outcome", help="The outcome weights are fitted against (default: the first with data of gmv, orders, conversions, clicks)."),
    period: list[str] = typer.Option(None, "--period", help="Only this period (repeatable), e.g. 2026-10 or 2026-Q3; default every period imported."),
    as_of: str = typer.Option(None, "--as-of", help="Use each candidate's newest features as of this date/time (e.g. the periods' start)."),
    weights: Path = typer.Option(None, "--weights", help="The weights to evaluate and compare with (default enrichment/data/weights.toml)."),
    write_weights: Path = typer.Option(None, "--write-weights", help="Write the fitted weights as a weights TOML file."),
    k: int = typer.Option(None, "--k", min=1, help="precision@k's k (default: the size of the top outcome decile)."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, max=100_000, help="Bootstrap resamples for the intervals (0: none)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap and of the folds."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """How well the indices rank candidates by the imported outcomes; fit better weights on request.

    Exit code 1 when there is nothing to evaluate, or --write-weights and no weights could be fitted (it says why)."""
    from enrichment.calibration import (
        OUTCOME_NAMES,
        evaluate,
        load_cohort,
        weights_toml,
    )
    from enrichment.indices import WeightsError, load_weights
    from enrichment.schema import FEATURE_NAMES
    from storage.db import session_scope
    from storage.outcomes import OutcomeRefused, parse_period

    for name in [*(outcome or []), *([fit_outcome] if fit_outcome else [])]:
        if name not in OUTCOME_NAMES:
            raise fail(f"{name!r} is not an outcome; choose from {', '.join(OUTCOME_NAMES)}", USAGE)
    try:
        periods = [parse_period(p).label for p in period or []]
    except OutcomeRefused as exc:
        raise fail(f"--period: {exc}", USAGE) from None
    when = _as_of(as_of)
    try:
        loaded = load_weights(weights, known_features=FEATURE_NAMES)
    except WeightsError as exc:
        raise fail(str(exc), USAGE) from None
    with friendly_errors(), session_scope(database_url) as session:
        cohort = load_cohort(session, as_of=when, periods=periods or None)
    chosen = [o for o in (outcome or OUTCOME_NAMES) if cohort.outcomes.get(o)]
    if fit_outcome and fit_outcome not in chosen:
        raise fail(f"--fit-outcome {fit_outcome}: no imported {fit_outcome}" + (f" for {', '.join(periods)}" if periods else ""),
                   PROBLEM)
    if not cohort.features:
        raise fail("no feature rows" + (f" as of {as_of}" if as_of else "") + ": run `wangzi enrich` first", PROBLEM)
    if not chosen:
        raise fail("no outcomes" + (f" for {', '.join(periods)}" if periods else "") +
                   ": import them with `wangzi outcomes import FILE.csv`", PROBLEM)
    evaluation = evaluate(cohort, loaded, outcomes=chosen, fit_outcome=fit_outcome, k=k, resamples=bootstrap, seed=seed)
    if as_json:
        typer.echo(json.dumps(evaluation.as_json(), ensure_ascii=False, allow_nan=False, indent=2))
    else:
        print_evaluation(evaluation)
    if write_weights is None:
        return
    if not any(f.better for f in evaluation.fits):
        reasons = "; ".join(f"{f.index}: {f.refused or 'no better on held-out folds than the weights in use'}"
                            for f in evaluation.fits) or "no outcome to fit against"
        raise fail(f"not writing {write_weights}: no fitted weights to write ({reasons})", PROBLEM)
    try:
        write_weights.write_text(weights_toml(evaluation, Path(loaded.source), when=datetime.now(timezone.utc)),
                                 encoding="utf-8")
    except OSError as exc:
        raise os_error(exc) from None
    err.print(line(f"wrote fitted weights to {write_weights} (use: wangzi enrich --weights {write_weights})"))


def register(app: typer.Typer) -> None:
    app.add_typer(outcomes_app, name="outcomes")
    app.command("evaluate")(evaluate_command)
