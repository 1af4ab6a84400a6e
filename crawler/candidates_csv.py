"""The candidates CSV file: decoding it, reading it strictly row by row, and importing it with
a report per row - what ``wangzi candidates import`` and the HTTP API's ``POST
/candidates/import`` share.

Columns: ``name`` (required; ``display_name`` also works), ``aliases`` (``|`` or ``;``
separated), ``notes``, and one per platform (a handle, id or profile URL; ``|``/``;`` separate
several). Rows are numbered as a spreadsheet numbers them (the header is row 1). A bad row
costs only itself; the rows are registered in batches (:func:`storage.candidates.import_candidates`).

Storage (SQLAlchemy) is imported inside :func:`import_rows`, so ``wangzi --help`` does not load it.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from records import PLATFORMS, AccountRef
from spiders.pages.registry import UnknownPlatform, platform_module

#: CSV columns: name (required), aliases and notes (optional), one column per platform.
NAME_COLUMNS = ("name", "display_name")
#: Byte-order marks and the encodings they announce (Excel saves "CSV UTF-8" with one).
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class UnreadableText(ValueError):
    """The file's bytes are not text in the encoding given or guessed (the message says what to do)."""


@dataclass
class ImportReport:
    added: list[tuple[int, str]] = field(default_factory=list)  # (row number, "ID NAME")
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message): rejected rows
    warnings: list[str] = field(default_factory=list)  # about the file, not a row (unknown columns)


def decode_text(data: bytes, encoding: str | None, *, source: str, option: str = "--encoding") -> tuple[str, str | None]:
    """The CSV file's text and, when it was guessed to be GB18030, a line saying so: in
    ``encoding`` when given; else UTF-8 (a byte-order mark names UTF-8 or UTF-16), else GB18030 -
    what Excel on Chinese Windows saves (GBK is part of it). Anything else is
    :class:`UnreadableText` naming ``source`` (the file) and ``option`` (how to name an encoding)."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UnreadableText(f"{option} {encoding!r} is not an encoding Python knows "
                                 "(e.g. utf-8, gb18030, gbk, big5, latin-1)") from None
        try:
            return data.decode(encoding), None
        except UnicodeDecodeError as exc:
            raise UnreadableText(f"{source} is not {encoding} text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                                 f"try another {option}, or save the CSV as UTF-8") from None
    for bom, name in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), None
            except UnicodeDecodeError:
                raise UnreadableText(f"{source} starts like {name} text but is not; save the CSV as UTF-8") from None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise UnreadableText(f"{source} is neither UTF-8 nor GB18030 text; save the CSV as UTF-8, or name its encoding "
                             f"with {option} (e.g. {option} latin-1)") from None
    return text, (f"{source} is not UTF-8: read it as GB18030 (what Excel on Chinese Windows saves); "
                  f"if the names below look wrong, pass {option}")


@functools.cache
def _normalizer(platform: str) -> Callable[[str], AccountRef]:
    """The platform's ``normalize_account`` (spiders.pages.registry.normalize_account without
    the module lookup per call: an import of 200,000 rows calls it half a million times).
    Raises UnknownPlatform."""
    return platform_module(platform).normalize_account  # type: ignore[no-any-return]


def parse_accounts(values: dict[str, list[str] | str | None]) -> list[AccountRef]:
    """Platform -> user input (handle, id or URL; ``;``/``|`` separate several) as AccountRefs.

    Raises ValueError naming the platform and the input when one does not parse.
    """
    refs: list[AccountRef] = []
    for platform, raw in values.items():
        if not raw:
            continue
        items = raw if isinstance(raw, list) else [raw]
        for text in items:
            _add_accounts(refs, platform, str(text))
    return refs


def _add_accounts(refs: list[AccountRef], platform: str, text: str) -> None:
    """The accounts of one cell (``;``/``|`` separate several) added to ``refs``: ValueError
    naming the platform and the input when one does not parse; UnknownPlatform."""
    for part in text.replace("|", ";").split(";"):
        part = _nfkc("NFKC", part).strip()
        if not part:
            continue
        try:
            refs.append(_normalizer(platform)(part))
        except ValueError as exc:
            raise ValueError(f"{platform} account {part!r}: {exc}") from None


_nfkc = unicodedata.normalize


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


def import_rows(text: str, database_url: str | None, *, allow_same_name: bool = False,
                batch: int | None = None) -> ImportReport:
    """Import candidates from CSV text; one bad row never loses the good ones. Row numbers
    count the header as row 1, as spreadsheets do. Unknown columns are ignored with a warning
    (they reject no row). A row naming a candidate that exists already is rejected unless
    ``allow_same_name`` (another person of the same name). Rows are registered ``batch`` at a
    time (default :data:`storage.candidates.IMPORT_BATCH`); the report is the same whatever the
    batch: added and rejected rows, each in row order."""
    from storage.candidates import IMPORT_BATCH, NewCandidate, Registered, import_candidates
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
    platform_cells = [(p, columns[p]) for p in PLATFORMS if p in columns]
    aliases_col, notes_col = columns.get("aliases"), columns.get("notes")

    def entries() -> Iterator[NewCandidate]:
        for number, row in records:
            if isinstance(row, str):
                report.errors.append((number, row))
                continue
            if not "".join(row).strip():
                continue  # a blank line (every field empty or spaces)
            if len(row) > len(header):
                report.errors.append((number, f"row has more fields ({len(row)}) than the header ({len(header)})"))
                continue
            text = row[name_col] if name_col < len(row) else ""
            if not text.strip():
                report.errors.append((number, "missing name"))
                continue
            width = len(row)
            aliases = ([a for a in row[aliases_col].replace(";", "|").split("|") if a.strip()]
                       if aliases_col is not None and aliases_col < width else [])
            refs: list[AccountRef] = []
            try:
                for platform, index in platform_cells:
                    if index < width and row[index]:
                        _add_accounts(refs, platform, row[index])
            except (ValueError, UnknownPlatform) as exc:  # UnknownPlatform: a column of a platform not implemented yet
                message = str(exc)
                try:  # the name's own error first: it is what a person reads the row by
                    clean_name(text)
                except ValueError as name_error:
                    message = str(name_error)
                report.errors.append((number, message))
                continue
            # The name is checked by storage (storage.names, before anything else of the row).
            notes = row[notes_col] if notes_col is not None and notes_col < width else ""
            yield NewCandidate(number, text, aliases, notes or None, refs)

    for result in import_candidates(database_url, entries(), allow_same_name=allow_same_name, batch=batch or IMPORT_BATCH):
        if isinstance(result, Registered):
            report.added.append((result.row, f"{result.candidate_id} {result.display_name}"))
        else:
            report.errors.append((result.row, result.message))
    report.added.sort()
    report.errors.sort(key=lambda error: error[0])
    return report
