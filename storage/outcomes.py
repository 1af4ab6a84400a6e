"""Outcomes: what the marketplace measured for a candidate over a period (orders, GMV, clicks,
conversions from its affiliate or order data). What a value must be to be stored
(:func:`parse_period`, :func:`parse_amount`, pure), storing one candidate's period
(:func:`store_outcome`) and reading them back (:func:`outcome_rows`).

A period is written one way (its canonical text) whatever way it came in, so that the same
month imported twice is one row: ``2026`` (a year), ``2026-Q3`` (a quarter), ``2026-10`` (a
month), ``2026-W41`` (an ISO week), ``2026-10-05`` (a day) or ``2026-10-01/2026-10-31`` (a
range, ``..`` accepted for ``/``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from storage.models import Outcome, utcnow

#: The outcomes a file may give, and whether each is a count (a whole number) or an amount.
OUTCOMES: dict[str, type] = {"orders": int, "gmv": float, "clicks": int, "conversions": int}
#: Larger values are typos (and beyond what a float keeps exactly as a whole number).
MAX_AMOUNT = 1e15


class OutcomeRefused(ValueError):
    """A value an outcome row cannot hold; the message says which and why."""


@dataclass(frozen=True)
class Period:
    label: str  # canonical text
    start: date
    end: date  # inclusive


_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-?[Ww](\d{1,2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_NUMBER = re.compile(r"^(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$")


def _day(text: str) -> date:
    found = _DAY.match(text)
    if not found:
        raise ValueError(text)
    return date(int(found[1]), int(found[2]), int(found[3]))


def parse_period(text: str) -> Period:
    """The period ``text`` names (see the module docstring), or :class:`OutcomeRefused`."""
    raw = (text or "").strip()
    try:
        for separator in ("/", ".."):
            if separator in raw:
                first, _, last = raw.partition(separator)
                start, end = _day(first.strip()), _day(last.strip())
                if end < start:
                    raise OutcomeRefused(f"period {raw!r} ends before it starts")
                return Period(f"{start.isoformat()}/{end.isoformat()}", start, end)
        if found := _YEAR.match(raw):
            year = int(found[1])
            return Period(f"{year:04d}", date(year, 1, 1), date(year, 12, 31))
        if found := _QUARTER.match(raw):
            year, quarter = int(found[1]), int(found[2])
            start = date(year, 3 * quarter - 2, 1)
            end = (date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)) - timedelta(days=1)
            return Period(f"{year:04d}-Q{quarter}", start, end)
        if found := _MONTH.match(raw):
            year, month = int(found[1]), int(found[2])
            start = date(year, month, 1)
            end = (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(days=1)
            return Period(f"{year:04d}-{month:02d}", start, end)
        if found := _WEEK.match(raw):
            year, week = int(found[1]), int(found[2])
            start = date.fromisocalendar(year, week, 1)
            return Period(f"{year:04d}-W{week:02d}", start, start + timedelta(days=6))
        if _DAY.match(raw):
            day = _day(raw)
            return Period(day.isoformat(), day, day)
    except ValueError as exc:
        if isinstance(exc, OutcomeRefused):
            raise
        raise OutcomeRefused(f"period {raw!r} is not a real date") from None
    raise OutcomeRefused(f"period {raw!r} is not a period: write 2026, 2026-Q3, 2026-10, 2026-W41, 2026-10-05 "
                         "or 2026-10-01/2026-10-31")


def parse_amount(name: str, text: str | None) -> int | float | None:
    """The value of outcome ``name`` in a cell (None for an empty cell), or
    :class:`OutcomeRefused`: a number >= 0 (thousands may be grouped with commas: 1,234.5),
    whole for counts (orders, clicks, conversions), at most :data:`MAX_AMOUNT`."""
    raw = (text or "").strip()
    if not raw:
        return None
    kind = OUTCOMES[name]
    if raw.startswith("-") and _NUMBER.match(raw[1:]):
        raise OutcomeRefused(f"{name} {raw!r} is negative")
    if not _NUMBER.match(raw):
        raise OutcomeRefused(f"{name} {raw!r} is not a number")
    value = float(raw.replace(",", ""))
    if not math.isfinite(value) or value > MAX_AMOUNT:
        raise OutcomeRefused(f"{name} {raw!r} is larger than {MAX_AMOUNT:g}")
    if kind is int:
        if not value.is_integer():
            raise OutcomeRefused(f"{name} {raw!r} is not a whole number")
        return int(value)
    return value


def store_outcome(session: Session, candidate_id: int, period: Period, values: Mapping[str, int | float | None],
                  source: str | None = None) -> bool:
    """Store a candidate's outcomes for a period: a new row, or the period's row with the
    values given replaced (values that are None leave what is stored). True when new."""
    given = {name: value for name, value in values.items() if value is not None}
    unknown = set(given) - set(OUTCOMES)
    if unknown:
        raise OutcomeRefused(f"not an outcome: {', '.join(sorted(unknown))} (outcomes are {', '.join(OUTCOMES)})")
    row = session.execute(
        select(Outcome).where(Outcome.candidate_id == candidate_id, Outcome.period == period.label)
    ).scalars().first()
    created = row is None
    if row is None:
        row = Outcome(candidate_id=candidate_id, period=period.label, period_start=period.start, period_end=period.end)
        session.add(row)
    for name, value in given.items():
        setattr(row, name, value)
    row.source = source[:200] if source else None
    row.imported_at = utcnow()
    session.flush()
    return created


def outcome_rows(session: Session, periods: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every stored outcome row (of these canonical periods, if given) as plain dicts with
    ``candidate_id``, ``period``, ``period_start``, ``period_end`` and the outcomes, by
    candidate then period start."""
    query = select(Outcome).order_by(Outcome.candidate_id, Outcome.period_start, Outcome.period)
    if periods:
        query = query.where(Outcome.period.in_(list(periods)))
    return [{"candidate_id": row.candidate_id, "period": row.period, "period_start": row.period_start,
             "period_end": row.period_end, **{name: getattr(row, name) for name in OUTCOMES}}
            for row in session.execute(query).scalars()]
