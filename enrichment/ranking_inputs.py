"""What the ranking keeps of a feature row (``storage/ranking_inputs.py``): the row's ranking
view - the features scoring reads and its stored earliness (``enrichment.stage``) - in a form
quick to read back, with each brand's first mention as the number earliness compares
(``datetime.timestamp()`` of the ISO time the document holds) instead of text to parse again.

The form (:func:`encode_inputs`): the view's layout, its brands, and its numbers as base64
float64s. Reading 2,000 views as plain JSON took ~0.09 s, nearly all of it parsing ~70 numbers
a row; here the numbers are read in one go and a layout once for the rows that share it. Every float,
int (up to 2^53), bool and None comes back exactly; a view holding anything else (a string
where a number belongs, a nested value other than numbers) is not kept, and the ranking reads
that row's document every time instead.

A view decoded from it equals the one made from the document, first mentions aside (numbers,
which earliness takes as it takes the ISO times: the same floats)."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from enrichment.indices import first_mention

#: The form below; a change to it makes every kept view new (it is part of the key).
FORMAT = 3
FIRST_SEEN = "brand_first_seen"
_EXACT_INT = 2 ** 53


def names_key(names: Sequence[str]) -> str:
    """The key views made of these features (in this order) are kept under."""
    return hashlib.blake2b(json.dumps([FORMAT, list(names)]).encode(), digest_size=8).hexdigest()


def _kind(value: Any, numbers: list[float]) -> str | None:
    """The kind letter of a plain value (appending its number: 0.0 for None), None when it is
    not plain."""
    kind = type(value)
    if kind is float:
        numbers.append(value)
        return "f"
    if value is None:
        numbers.append(0.0)
        return "n"
    if kind is bool:
        numbers.append(1.0 if value else 0.0)
        return "b"
    if kind is int and -_EXACT_INT <= value <= _EXACT_INT:
        numbers.append(float(value))
        return "i"
    return None


def encode_inputs(view: Mapping[str, Any]) -> str | None:
    """A ranking view as kept (first mentions as timestamps), None when it cannot be kept exactly.

    Three parts joined by RS (``\\x1e``): the layout (the keys with the kind of each value, a
    nested table's keys and kinds), the brands of the first mentions, the numbers. Rows of a
    cohort mostly share a layout, which is read once (:func:`_plan`)."""
    flat: list[list[str]] = []
    tables: list[list[Any]] = []
    numbers: list[float] = []
    nested: list[tuple[str, dict[Any, Any]]] = []
    for key, value in view.items():
        if isinstance(value, dict):
            nested.append((key, value))
            continue
        kind = _kind(value, numbers)
        if kind is None:
            return None
        flat.append([key, kind])
    brands: list[str] = []
    for key, value in nested:
        if key == FIRST_SEEN:
            brands = list(value)
            if not all(type(brand) is str for brand in brands):
                return None
            continue
        inner = []
        for name, item in value.items():
            kind = _kind(item, numbers)
            if kind is None or type(name) is not str:
                return None
            inner.append([name, kind])
        tables.append([key, inner])
    first = view.get(FIRST_SEEN)
    if isinstance(first, dict):
        numbers.extend(first_mention(stamp) for stamp in first.values())
    layout = json.dumps([flat, tables, isinstance(first, dict)], separators=(",", ":"), ensure_ascii=False)
    return "\x1e".join((layout, json.dumps(brands, separators=(",", ":"), ensure_ascii=False),
                        base64.b64encode(np.asarray(numbers, dtype="<f8").tobytes()).decode()))


def decode_inputs(text: str) -> dict[str, Any]:
    """The view :func:`encode_inputs` kept (its keys in another order: plain values first)."""
    layout, brands, data = text.split("\x1e")
    numbers = np.frombuffer(base64.b64decode(data), dtype="<f8").tolist()
    return _plan(layout)(numbers, json.loads(brands))


@functools.lru_cache(maxsize=256)
def _plan(layout: str) -> Callable[[list[float], list[str]], dict[str, Any]]:
    """How to make a view of a layout's numbers (and first mentions' brands)."""
    flat, tables, has_first = json.loads(layout)
    keys = [key for key, _ in flat]
    count = len(keys)
    ints = [key for key, kind in flat if kind == "i"]
    flags = [key for key, kind in flat if kind == "b"]
    nulls = [key for key, kind in flat if kind == "n"]
    parts = []
    at = count
    for key, inner in tables:
        parts.append((key, [name for name, _ in inner], [(name, kind) for name, kind in inner if kind != "f"], at))
        at += len(inner)

    def make(numbers: list[float], brands: list[str]) -> dict[str, Any]:
        view = dict(zip(keys, numbers[:count]))
        for key in ints:
            view[key] = int(view[key])
        for key in flags:
            view[key] = view[key] == 1.0
        for key in nulls:
            view[key] = None
        for key, names, inner_fixes, start in parts:
            table = view[key] = dict(zip(names, numbers[start:start + len(names)]))
            for name, kind in inner_fixes:
                table[name] = _fixed(kind, table[name])
        if has_first:
            view[FIRST_SEEN] = dict(zip(brands, numbers[at:]))
        return view

    return make


def _fixed(kind: str, number: float) -> Any:
    if kind == "n":
        return None
    if kind == "i":
        return int(number)
    return number == 1.0  # "b"
