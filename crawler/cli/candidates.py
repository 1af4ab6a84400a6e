"""``wangzi candidates``: register people and their accounts, import them, list them.

``candidates add`` has one ``--PLATFORM`` option per platform in the registry, so a new
platform module gets its flag without touching this file. Storage (SQLAlchemy) is imported
inside the functions that use it, so ``wangzi --help`` does not load it.
"""

from __future__ import annotations

import codecs
import csv
import inspect
import io
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from crawler.cli._common import PROBLEM, USAGE, PlainTable, console, err, fail, friendly_errors, line
from records import PLATFORMS, AccountRef
from spiders.pages.registry import UnknownPlatform, normalize_account

candidates_app = typer.Typer(help="Register candidates and their platform accounts.", no_args_is_help=True)


def _option_name(platform: str) -> str:
    return "--" + platform.replace("_", "-")


def parse_accounts(values: dict[str, list[str] | str | None]) -> list[AccountRef]:
    """Platform -> user input (handle, id or URL; ``;``/``|`` separate several) as AccountRefs.

    Raises ValueError naming the platform and the input when one does not parse.
    """
    refs = []
    for platform, raw in values.items():
        items = raw if isinstance(raw, list) else [raw] if raw else []
        for text in items:
            for part in str(text).replace("|", ";").split(";"):
                part = unicodedata.normalize("NFKC", part).strip()
                if not part:
                    continue
                try:
                    refs.append(normalize_account(platform, part))
                except ValueError as exc:
                    raise ValueError(f"{platform} account {part!r}: {exc}") from None
    return refs


def add(display_name: str, alias: list[str], notes: str | None, database_url: str | None, **accounts: Any) -> None:
    from storage.candidates import register_candidate

    with friendly_errors():  # a name or alias storage refuses (storage/names.py) is a usage error
        refs = parse_accounts({p: accounts.get(p) for p in PLATFORMS})
        candidate = register_candidate(database_url, display_name, aliases=alias or [], notes=notes, accounts=refs)
        console.print(line(
            "added candidate ", (str(candidate.id), "bold"), f" {candidate.display_name}",
            (f" with {len(refs)} account(s): " + ", ".join(f"{r.platform}:{r.handle or r.platform_user_id}" for r in refs) if refs else ""),
        ))


def _add_signature() -> inspect.Signature:
    params = [
        inspect.Parameter("display_name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str,
                          default=typer.Argument(..., metavar="NAME", help="The person's display name.")),
        inspect.Parameter("alias", inspect.Parameter.KEYWORD_ONLY, annotation=list[str],
                          default=typer.Option(None, "--alias", help="Another name or script (repeatable): 李佳琦, Li Jiaqi.")),
        inspect.Parameter("notes", inspect.Parameter.KEYWORD_ONLY, annotation=str,
                          default=typer.Option(None, "--notes", help="Free text for the talent team.")),
        inspect.Parameter("database_url", inspect.Parameter.KEYWORD_ONLY, annotation=str,
                          default=typer.Option(None, "--database-url", envvar="DATABASE_URL", help="Database (default sqlite:///wangzi.db).")),
    ]
    for platform in PLATFORMS:
        params.append(
            inspect.Parameter(
                platform, inspect.Parameter.KEYWORD_ONLY, annotation=list[str],
                default=typer.Option(None, _option_name(platform),
                                     help=f"{platform} account: handle, id or profile URL (repeatable)."),
            )
        )
    return inspect.Signature(params)


def _add_command(**kwargs: Any) -> None:
    """Register a candidate with their accounts, e.g. `wangzi candidates add "老番茄" --bilibili 546195`."""
    add(kwargs.pop("display_name"), kwargs.pop("alias"), kwargs.pop("notes"), kwargs.pop("database_url"), **kwargs)


_add_command.__signature__ = _add_signature()  # type: ignore[attr-defined]
candidates_app.command("add")(_add_command)


# --------------------------------------------------------------------------- import

#: CSV columns: name (required), aliases and notes (optional), one column per platform.
NAME_COLUMNS = ("name", "display_name")


@dataclass
class ImportReport:
    added: list[tuple[int, str]] = field(default_factory=list)  # (row number, name)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message): rejected rows
    warnings: list[str] = field(default_factory=list)  # about the file, not a row (unknown columns)


def csv_records(text: str) -> Iterator[tuple[int, list[str] | str]]:
    """(row number, the row's fields or what is wrong with the row), rows numbered as a
    spreadsheet numbers them (the header is row 1; a quoted field with line breaks is one row).

    Read strictly, one row at a time, so a bad row costs only itself: a field over the size
    limit or a stray quote is reported and reading goes on. A quote that is never closed where
    it should be - which a lenient reader turns into one field holding the following lines, or
    the rest of the file - is reported on the row that opened it, and reading starts again on
    the line after that row's first line."""
    lines = list(io.StringIO(text, newline=""))
    position, number = 0, 0  # the line the current reader started on; the last row numbered
    while position < len(lines):
        reader = csv.reader(lines[position:], strict=True)
        while True:
            first_line = reader.line_num  # lines this reader consumed before this row
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                spanned = reader.line_num - first_line
                if "field larger" not in str(exc) and (spanned > 1 or "unexpected end of data" in str(exc)):
                    yield number, ('a quote (") opened in this row is never closed, so the lines after it would be '
                                   'read as one field; close it, or double a quote that is part of the text ("")')
                    position += first_line + 1
                    break
                yield number, csv_problem(exc)
                continue
            number += 1
            yield number, fields


def csv_problem(exc: csv.Error) -> str:
    """What a person can do about the csv module's error on a row."""
    text = str(exc)
    if "field larger than field limit" in text:
        return (f"a field is longer than {csv.field_size_limit():,} characters, the most a CSV field may hold here; "
                "shorten it (notes are free text, but not a document)")
    if "expected after" in text:
        return f'a quote (") inside a quoted field must be doubled (""): {text}'
    return f"cannot read this row as CSV: {text}"


def import_rows(text: str, database_url: str | None) -> ImportReport:
    """Import candidates from CSV text; every row is its own transaction, so one bad row
    never loses the good ones. Row numbers count the header as row 1, as spreadsheets do.
    Unknown columns are ignored with a warning (they reject no row)."""
    from storage.candidates import CandidateRefused, DuplicateAccount, register_candidate
    from storage.names import clean_name

    report = ImportReport()
    records = csv_records(text)
    first = next(records, None)
    if first is None or not isinstance(first[1], list) or not any(h.strip() for h in first[1]):
        problem = first[1] if first is not None and isinstance(first[1], str) else "the file is empty"
        report.errors.append((1, f"{problem} (expected a header row: name,aliases,notes,<platforms>)"))
        return report
    header = first[1]
    columns = {h.strip().lower().replace("-", "_"): index for index, h in enumerate(header)}
    name_col = next((columns[c] for c in NAME_COLUMNS if c in columns), None)
    if name_col is None:
        report.errors.append((1, f"no 'name' column in header {header}"))
        return report
    unknown = [h for h in columns if h not in {*NAME_COLUMNS, "aliases", "notes", *PLATFORMS}]
    if unknown:
        report.warnings.append(f"ignoring unknown column(s) {unknown}; platforms are {list(PLATFORMS)}")

    def cell(row: list[str], column: str) -> str:
        index = columns.get(column)
        return row[index] if index is not None and index < len(row) else ""

    for number, row in records:
        if isinstance(row, str):
            report.errors.append((number, row))
            continue
        if not any(value.strip() for value in row):
            continue  # a blank line
        if len(row) > len(header):
            report.errors.append((number, f"row has more fields ({len(row)}) than the header ({len(header)})"))
            continue
        text = row[name_col] if name_col < len(row) else ""
        if not text.strip():
            report.errors.append((number, "missing name"))
            continue
        aliases = [a for a in cell(row, "aliases").replace(";", "|").split("|") if a.strip()]
        try:
            name = clean_name(text)  # the name's own error first: it is what a person reads the row by
            refs = parse_accounts({p: cell(row, p) for p in PLATFORMS if p in columns})
            candidate = register_candidate(database_url, name, aliases=aliases, notes=cell(row, "notes") or None,
                                           accounts=refs)
            report.added.append((number, f"{candidate.id} {candidate.display_name}"))
        except (ValueError, DuplicateAccount, UnknownPlatform, CandidateRefused) as exc:  # UnknownPlatform: a column of a platform not implemented yet
            report.errors.append((number, str(exc)))
    return report


#: Byte-order marks and the encodings they announce (Excel saves "CSV UTF-8" with one).
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_csv(data: bytes, file: Path, encoding: str | None) -> str:
    """The CSV file's text: in ``encoding`` when given; else UTF-8 (a byte-order mark names
    UTF-8 or UTF-16), else GB18030 - what Excel on Chinese Windows saves (GBK is part of it) -
    said on stderr. Anything else is a usage error that says what to do."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise fail(f"--encoding {encoding!r} is not an encoding Python knows (e.g. utf-8, gb18030, gbk, big5, latin-1)",
                       USAGE) from None
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise fail(f"{file} is not {encoding} text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                       "try another --encoding, or save the CSV as UTF-8", USAGE) from None
    for bom, name in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name)
            except UnicodeDecodeError:
                raise fail(f"{file} starts like {name} text but is not; save the CSV as UTF-8", USAGE) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise fail(f"{file} is neither UTF-8 nor GB18030 text; save the CSV as UTF-8, or name its encoding "
                   "with --encoding (e.g. --encoding latin-1)", USAGE) from None
    err.print(line(f"{file} is not UTF-8: read it as GB18030 (what Excel on Chinese Windows saves); "
                   "if the names below look wrong, pass --encoding"))
    return text


@candidates_app.command("import")
def import_csv(
    file: Path = typer.Argument(..., help="CSV with columns name, aliases (| separated), notes, and one per platform."),
    encoding: str = typer.Option(None, "--encoding", help="The file's encoding (default: UTF-8, else GB18030 as Excel on Chinese Windows saves it)."),
    database_url: str = typer.Option(None, "--database-url", envvar="DATABASE_URL", help="Database (default sqlite:///wangzi.db)."),
) -> None:
    """Import candidates from a CSV file. Bad rows are reported with their row number; good rows are kept.

    Exit code 1 when any row was rejected (an unknown column is only a warning)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}", USAGE) from None
    text = decode_csv(data, file, encoding)
    with friendly_errors():
        report = import_rows(text, database_url)
    for warning in report.warnings:
        err.print(line(("warning:", "yellow"), f" {warning}"))
    for number, name in report.added:
        console.print(line(f"row {number}: added {name}"))
    for number, message in report.errors:
        err.print(line((f"row {number}:", "red"), f" {message}"))
    console.print(f"{len(report.added)} added, {len(report.errors)} rejected")
    if report.errors:
        raise typer.Exit(PROBLEM)


# --------------------------------------------------------------------------- list


@candidates_app.command("list")
def list_candidates(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    database_url: str = typer.Option(None, "--database-url", envvar="DATABASE_URL", help="Database (default sqlite:///wangzi.db)."),
) -> None:
    """List candidates with their accounts and latest follower counts."""
    rows = candidate_rows(database_url)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    console.print(followers_table(rows))


def candidate_rows(database_url: str | None, candidate_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Candidates with accounts and each account's latest snapshot numbers (JSON-ready)."""
    from storage.candidates import candidate_accounts, latest_snapshots, list_candidates
    from storage.db import session_scope

    with session_scope(database_url) as session:
        candidates = list_candidates(session, ids=candidate_ids)
        ids = [c.id for c in candidates if c.id is not None]
        latest = {account.id: snap for account, snap in latest_snapshots(session, ids)}
        accounts_of = candidate_accounts(session, ids)
        rows = []
        for c in candidates:
            accounts = accounts_of.get(c.id, [])  # type: ignore[arg-type]
            rows.append(
                {
                    "id": c.id,
                    "display_name": c.display_name,
                    "aliases": c.aliases,
                    "active": c.active,
                    "accounts": [
                        {
                            "platform": a.platform,
                            "handle": a.handle,
                            "platform_user_id": a.platform_user_id,
                            "followers": latest[a.id].followers if a.id in latest else None,
                            "approximate": "followers" in (latest[a.id].approximate or []) if a.id in latest else False,
                            "captured_at": latest[a.id].captured_at.isoformat() if a.id in latest else None,
                        }
                        for a in accounts
                    ],
                }
            )
    return rows


def followers_table(rows: list[dict[str, Any]], title: str = "Candidates") -> PlainTable:
    """Candidates x platforms, latest follower counts ("~" marks rounded ones, "-" not read)."""
    platforms = [p for p in PLATFORMS if any(a["platform"] == p for r in rows for a in r["accounts"])]
    table = PlainTable(title=title)
    table.add_column("id", justify="right")
    table.add_column("candidate")
    for p in platforms:
        table.add_column(p, justify="right")
    for row in rows:
        cells = []
        for p in platforms:
            accounts = [a for a in row["accounts"] if a["platform"] == p]
            if not accounts:
                cells.append("")
                continue
            shown = []
            for a in accounts:
                if a["followers"] is None:
                    shown.append("-")
                else:
                    shown.append(("~" if a["approximate"] else "") + f"{a['followers']:,}")
            cells.append(" / ".join(shown))
        table.add_row(str(row["id"]), row["display_name"], *cells)
    return table


def register(app: typer.Typer) -> None:
    app.add_typer(candidates_app, name="candidates")
