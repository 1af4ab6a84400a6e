"""CSV cells a spreadsheet opens safely: the OWASP CSV-injection rule, for every CSV Wangzi writes.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (TAB and
CR first are read the same way by some), so a display name, a handle or a post title taken
from a platform could make a scoring analyst's spreadsheet fetch a URL or run a command. Such
a *text* cell is written with a leading single quote, which spreadsheets show as text and
hide; the data itself (jsonl, parquet, the database) is never changed.

Only text is neutralised: numbers are written as numbers, so ``-1200`` in an int column
stays a negative number (a ``-`` text cell, e.g. a display name "-5", gets the quote). JSON
text of lists and maps starts with ``[`` or ``{`` and never needs one. Quoting of commas,
quotes and line breaks inside cells is the ``csv`` module's part.
"""

from __future__ import annotations

from typing import TypeVar

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

T = TypeVar("T")


def neutralise_formula(value: T) -> T | str:
    """A text cell that starts like a formula, prefixed with ``'``; any other value unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
