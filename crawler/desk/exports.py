"""The cohort table's current view, and a shortlist, as CSV or XLSX.

Every text cell of a CSV goes through :func:`enrichment.csv_cells.neutralise_formula` (a name a
platform returned as ``=HYPERLINK(...)`` must not run when the file is opened in a
spreadsheet). XLSX cells are typed (``write_string``/``write_number``; xlsxwriter's formula
detection off), so text is never a formula there.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from enrichment.csv_cells import neutralise_formula
from records import PLATFORMS
from storage.desk import CohortRow
from storage.shortlists import MemberRow

COHORT_COLUMNS = (
    "candidate_id", "display_name", "aliases", "active", "tier",
    "composite_score", "composite_index", "composite_coverage",
    "leadership_score", "leadership_index", "sales_driving_score", "sales_driving_index",
    "influence_score", "influence_index",
    *(f"followers_{p}" for p in PLATFORMS), "followers_total", "overseas_share", "press_365d",
    "ip_countries", "declared_countries", "growth_authenticity", "growth_flags",
    "newest_snapshot_at", "as_of", "shortlist_status",
)
SHORTLIST_COLUMNS = ("candidate_id", "display_name", "status", "note", "changed_by", "changed_at")


def cohort_record(row: CohortRow) -> list[Any]:
    """One table row as export cells (lists joined with ``|``, times ISO 8601 UTC)."""
    f = row.features
    values: dict[str, Any] = {
        "candidate_id": row.candidate_id, "display_name": row.display_name, "aliases": row.aliases,
        "active": row.active, "tier": row.tier,
        "composite_score": row.composite_score, "composite_index": row.composite_index,
        "composite_coverage": row.composite_coverage, "leadership_score": row.leadership_score,
        "leadership_index": row.leadership_index, "sales_driving_score": row.sales_driving_score,
        "sales_driving_index": row.sales_driving_index, "influence_score": row.influence_score,
        "influence_index": row.influence_index,
        **{f"followers_{p}": f.get(f"followers_{p}") for p in PLATFORMS},
        "followers_total": row.followers_total, "overseas_share": row.overseas_share, "press_365d": row.press_365d,
        "ip_countries": f.get("ip_countries"), "declared_countries": f.get("declared_countries"),
        "growth_authenticity": f.get("growth_authenticity"), "growth_flags": f.get("growth_flags"),
        "newest_snapshot_at": row.newest_snapshot_at, "as_of": row.as_of, "shortlist_status": row.shortlist_status,
    }
    return [_cell(values[name]) for name in COHORT_COLUMNS]


def member_record(row: MemberRow) -> list[Any]:
    return [_cell(v) for v in (row.candidate_id, row.display_name, row.status, row.note, row.changed_by, row.changed_at)]


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def csv_chunks(columns: Sequence[str], records: Iterable[list[Any]]) -> Iterator[str]:
    """The CSV text (UTF-8 with a BOM, so Excel reads Chinese names), a few hundred rows a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(columns)
    for number, record in enumerate(records, start=1):
        writer.writerow(["" if v is None else neutralise_formula(v) if isinstance(v, str) else v for v in record])
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(columns: Sequence[str], records: Iterable[list[Any]], sheet: str = "cohort") -> bytes:
    """An XLSX workbook of one sheet: a header row, then typed cells."""
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    for col, name in enumerate(columns):
        worksheet.write_string(0, col, name, bold)
    for number, record in enumerate(records, start=1):
        for col, value in enumerate(record):
            if value is None:
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                worksheet.write_number(number, col, value)
            else:
                worksheet.write_string(number, col, str(value))
    worksheet.freeze_panes(1, 2)
    workbook.close()
    return out.getvalue()
