"""Small readers the pure parsers share: JSON bytes, a JSON object or a typed failure,
dict-or-empty, a boolean, the first value present, a trimmed string, YouTube's text runs, a
count (alone or several with their rounding flags), a key anywhere in a JSON tree, an ISO, Unix or X/Weibo
``created_at`` time, and the host and path of a profile link as a user types it.
Each answers ``None``/empty for what is absent or of the wrong type, so a parser never raises
on a payload that changed shape (and never invents a value)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

from enrichment.numbers import Count, count_value, parse_count
from records import Failure, FailureKind


def load_json(payload: bytes | str) -> Any:
    """The decoded JSON document of bytes (a BOM is allowed) or of text a parser already
    decoded (a script element's body), or None when it is not JSON."""
    try:
        return json.loads(payload.decode("utf-8-sig") if isinstance(payload, bytes) else payload)
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


@dataclass
class FieldCounts:
    """Counts by record field (``followers``, ``likes`` ...) that keep their rounding flags:
    ``approximate`` names the fields read from rounded text ("1.2万"), ``lower_bound`` those
    shown as a floor ("10万+"), each sorted, as ``Profile``/``Post`` store them. The first
    reading of a field wins (a page may repeat a number further down)."""

    counts: dict[str, Count] = field(default_factory=dict)

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> FieldCounts:
        """Field -> raw API or display value, each through :func:`enrichment.numbers.parse_count`."""
        found = cls()
        for name, value in raw.items():
            found.add(name, parse_count(value))
        return found

    def add(self, name: str, count: Count | None) -> None:
        """Keep ``count`` for ``name`` unless absent or ``name`` was read already."""
        if count is not None:
            self.counts.setdefault(name, count)

    def get(self, name: str) -> int | None:
        """The value read for ``name``, or None (not read, never 0)."""
        return count_value(self.counts.get(name))

    @property
    def approximate(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, count in self.counts.items() if count.approximate))

    @property
    def lower_bound(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, count in self.counts.items() if count.lower_bound))


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (so ``.get`` chains stay safe)."""
    return value if isinstance(value, dict) else {}


def as_bool(value: Any) -> bool | None:
    """``value`` when it is a JSON boolean, else None (a flag sent as 0/1 or "true" is not read)."""
    return value if isinstance(value, bool) else None


def first(*values: Any) -> Any:
    """The first value that is not None (0 and "" are kept: they were read), or None. For a
    field a platform moved between schema generations: the newer path first, the older after."""
    return next((value for value in values if value is not None), None)


def clean_text(value: Any) -> str | None:
    """A string without surrounding blanks; None for "", blanks only, or a non-string."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def runs_text(value: Any) -> str | None:
    """YouTube's text objects: a plain string, ``{"simpleText"}``, ``{"runs": [{"text"}...]}`` or
    ``{"content"}`` (view models) -> the text, trimmed; None for anything else."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        if "simpleText" in value:
            return runs_text(value["simpleText"])
        if "content" in value:
            return runs_text(value["content"])
        runs = value.get("runs")
        if isinstance(runs, list):
            return runs_text("".join(str(as_dict(r).get("text") or "") for r in runs))
    return None


def link_parts(text: str) -> tuple[str, list[str]]:
    """A link as a user types it, scheme optional (``x.com/name``, ``https://www.youtube.com/@h/videos``)
    -> its host (lower case, without ``www.``) and its non-empty path segments: what every
    ``normalize_account`` reads a profile URL by.

    A path with a ``.`` or ``..`` segment (percent-encoded too: ``%2e%2e``) has no segments
    here: no profile link has one, and reading it would take ``..`` for a handle
    (``instagram.com/../../x`` asked ``instagram.com/../``) or read another segment than the
    one the link leads to (``x.com/a/../b``); so every reader refuses it with its own message."""
    parts = urlsplit(text if "://" in text else f"https://{text}")
    segments = [segment for segment in parts.path.split("/") if segment]
    if any(dots_only(unquote(segment)) for segment in segments):
        segments = []
    return parts.netloc.lower().removeprefix("www."), segments


def dots_only(text: str) -> bool:
    """``"."``, ``".."``, ``"..."``: a path segment, never a handle, even where a platform's
    handle pattern allows dots (Instagram, TikTok, YouTube)."""
    return bool(text) and not text.strip(".")


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


#: The ``created_at`` format X's user and tweet objects and Weibo's posts share.
_CREATED_AT = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} \d{4}$")


def parse_created_at(value: Any) -> datetime | None:
    """``"Wed Oct 30 03:17:40 +0000 2024"`` (X) or ``"Tue Oct 29 20:15:00 +0800 2019"`` (Weibo)
    -> aware UTC time. Anything else is None: Weibo's relative times ("5分钟前", "昨天 12:00",
    "06-14") depend on when the page was fetched and lack a year, so they are not read."""
    text = clean_text(value)
    if text is None or not _CREATED_AT.match(text):
        return None
    try:
        return datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc)
    except ValueError:
        return None


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
