"""Small readers the pure parsers share: JSON bytes, a JSON object or a typed failure,
dict-or-empty, a trimmed string, a count, a key anywhere in a JSON tree, an ISO or Unix time.
Each answers ``None``/empty for what is absent or of the wrong type, so a parser never raises
on a payload that changed shape (and never invents a value)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from enrichment.numbers import count_value, parse_count
from records import Failure, FailureKind


def load_json(payload: bytes) -> Any:
    """The decoded JSON document (a BOM is allowed), or None when the bytes are not JSON."""
    try:
        return json.loads(payload.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None


def json_object(payload: bytes, status: int | None) -> dict[str, Any] | Failure:
    """The answer's JSON object, or an ``unrecognized`` failure saying what came instead
    (not JSON at all, or JSON of another type: an API envelope is always an object)."""
    try:
        document = json.loads(payload.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return Failure(FailureKind.UNRECOGNIZED, "not JSON", status)
    if not isinstance(document, dict):
        return Failure(FailureKind.UNRECOGNIZED, f"JSON {type(document).__name__}, expected an object", status)
    return document


def count(value: Any) -> int | None:
    """An API or display count (``12``, ``"12"``, ``"1.2万"``) as an integer through the one
    number parser, :func:`enrichment.numbers.parse_count`; None when absent, negative (a
    hidden count), a boolean or unreadable. For counts whose rounding flags matter, call
    ``parse_count`` itself."""
    return count_value(parse_count(value))


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (so ``.get`` chains stay safe)."""
    return value if isinstance(value, dict) else {}


def clean_text(value: Any) -> str | None:
    """A string without surrounding blanks; None for "", blanks only, or a non-string."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def find_key(value: Any, key: str) -> Iterator[Any]:
    """Every value stored under ``key`` anywhere in a JSON tree, in document order
    (pages nest the interesting objects at depths that change between releases)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
            for k, v in items:
                if k == key:
                    yield v
            stack.extend(v for _, v in reversed(items))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def parse_iso_time(value: Any) -> datetime | None:
    """An ISO 8601 time (``"2005-09-18T22:37:10Z"``, ``"…000Z"``, ``"…+09:00"``) -> aware UTC;
    a time without an offset is taken as UTC. None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def epoch_utc(value: Any) -> datetime | None:
    """Unix seconds (a number, or a digit string as TikTok sometimes sends) -> aware UTC time;
    None for absent, non-positive or impossible values (no calendar holds year 300000)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
