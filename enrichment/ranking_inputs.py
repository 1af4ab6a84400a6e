"""What the ranking keeps of a feature row (``storage/ranking_inputs.py``): the row's ranking
view - the features scoring reads and its stored earliness (``enrichment.stage``) - in a form
quick to read back, with each brand's first mention as the number earliness compares
(``datetime.timestamp()`` of the ISO time the document holds) instead of text to parse again.

The form (:func:`encode_inputs`): the view's layout, its brands, and its numbers as base64
float64s. Reading 2,000 views as plain JSON took ~0.09 s, nearly all of it parsing ~70 numbers
a row; here the rows sharing a layout are read together, each feature as a column
(:func:`decode_cohort`: ~0.044 s for 2,000, ~0.058 s a row at a time). Every float,
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
FORMAT = 4
FIRST_SEEN = "brand_first_seen"
#: The parts' separator (RS) and the brands' (US): a brand holding either is not kept.
_SEPARATORS = frozenset("\x1e\x1f")
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
    nested table's keys and kinds), the brands of the first mentions (joined by US,
    ``\\x1f``: splitting them was a fifth of JSON's time), the numbers. Rows of a cohort mostly
    share a layout, which is read once (:func:`_plan`)."""
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
            if not all(type(brand) is str and brand and _SEPARATORS.isdisjoint(brand) for brand in brands):
                return None  # (not a name the separators can hold)
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
    return "\x1e".join((layout, "\x1f".join(brands),
                        base64.b64encode(np.asarray(numbers, dtype="<f8").tobytes()).decode()))


def decode_inputs(text: str) -> dict[str, Any]:
    """The view :func:`encode_inputs` kept (its keys in another order: plain values first)."""
    return decode_cohort([text])[0][0]


def decode_cohort(texts: Sequence[str]) -> tuple[list[dict[str, Any]], KeptColumns]:
    """:func:`decode_inputs` of every text, in order, and the same rows' numbers as columns
    (:class:`KeptColumns`: what ranking reads of them, without walking the views again).

    The rows sharing a layout are decoded together: their numbers read as one array, each
    feature's values made as a column (``tolist`` of the column: Python floats, ints and bools,
    the same objects one row's decoding makes), then zipped into the rows' views. One row at a
    time this was ~29 µs a row, most of it a Python loop over each row's ~70 numbers (a live
    re-rank of 2,000 rows)."""
    parts = [text.split("\x1e") for text in texts]
    groups: dict[str, list[int]] = {}
    for at, (layout, _, _) in enumerate(parts):
        groups.setdefault(layout, []).append(at)
    out: list[dict[str, Any]] = [{}] * len(texts)
    kept = KeptColumns(len(texts))
    for layout, members in groups.items():
        views, numbers, (owners, brands, times) = _plan(layout)([parts[at][2] for at in members],
                                                               [parts[at][1] for at in members])
        for at, view in zip(members, views):
            out[at] = view
        rows = np.asarray(members, dtype=np.int64)
        kept.groups.append((layout, rows, numbers))
        kept.first.append((rows[owners], brands, times))
    return out, kept


#: First mentions as entries: each one's row, brand and timestamp.
_FirstMentions = tuple[np.ndarray, list[str], np.ndarray]
_NO_FIRST: _FirstMentions = (np.zeros(0, dtype=np.int64), [], np.zeros(0))


class KeptColumns:
    """The numbers of rows decoded together (:func:`decode_cohort`), a feature at a time, as
    ranking's columns read a feature of every view (``enrichment.cohort_scores``): a float per
    row, NaN where the value is None, absent, not a number (a table) or not finite; a yes/no
    fact as 1.0 or 0.0, with a mask of the rows holding one."""

    def __init__(self, size: int) -> None:
        self.size = size
        #: (layout, the rows of that layout, their layout's numbers: rows x the layout's columns)
        self.groups: list[tuple[str, np.ndarray, np.ndarray]] = []
        #: each layout's first mentions as entries (:meth:`first_mentions`)
        self.first: list[_FirstMentions] = []

    def first_mentions(self) -> _FirstMentions:
        """Every row's first mentions as entries: the row (by place), the brand and the
        timestamp of each (what earliness compares: ``indices.earliness_entries``)."""
        if not self.first:
            return _NO_FIRST
        return (np.concatenate([rows for rows, _, _ in self.first]),
                [brand for _, brands, _ in self.first for brand in brands],
                np.concatenate([times for _, _, times in self.first]))

    def numbers(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Every row's number of the feature ``name``, and which rows hold a yes/no fact there."""
        out = np.full(self.size, np.nan)
        facts = np.zeros(self.size, dtype=bool)
        for layout, rows, numbers in self.groups:
            found = _columns_of(layout)[0].get(name)
            if found is None:
                continue
            column, kind = found
            if kind != "n":
                out[rows] = numbers[:, column]
            if kind == "b":
                facts[rows] = True
        out[np.isinf(out)] = np.nan
        return out, facts

    def tables(self, name: str) -> np.ndarray:
        """Which rows hold a table (a nested mapping) as the feature ``name``."""
        out = np.zeros(self.size, dtype=bool)
        for layout, rows, _ in self.groups:
            if name in _columns_of(layout)[1]:
                out[rows] = True
        return out

    def table(self, name: str, key: str) -> np.ndarray:
        """Every row's number under ``key`` of its table ``name`` (NaN: no such table or key)."""
        out = np.full(self.size, np.nan)
        for layout, rows, numbers in self.groups:
            found = _columns_of(layout)[1].get(name, {}).get(key)
            if found is not None and found[1] != "n":
                out[rows] = numbers[:, found[0]]
        out[np.isinf(out)] = np.nan
        return out


@functools.lru_cache(maxsize=256)
def _columns_of(layout: str) -> tuple[dict[str, tuple[int, str]], dict[str, dict[str, tuple[int, str]]]]:
    """Where a layout holds each feature among its numbers, and its kind; and each table's keys'."""
    flat, tables, _ = json.loads(layout)
    plain = {key: (k, kind) for k, (key, kind) in enumerate(flat)}
    nested: dict[str, dict[str, tuple[int, str]]] = {}
    at = len(flat)
    for key, inner in tables:
        nested[key] = {name: (at + k, kind) for k, (name, kind) in enumerate(inner)}
        at += len(inner)
    return plain, nested


@functools.lru_cache(maxsize=256)
def _plan(layout: str) -> Callable[[list[str], list[str]], tuple[list[dict[str, Any]], np.ndarray, _FirstMentions]]:
    """How to make the views of rows of a layout from their numbers (base64) and their first
    mentions' brands (joined by US), with the layout's numbers of every row (rows x columns)
    and their first mentions as entries (:meth:`KeptColumns.first_mentions`, rows by place)."""
    flat, tables, has_first = json.loads(layout)
    keys = [key for key, _ in flat]
    kinds = [kind for _, kind in flat]
    parts = []
    at = len(keys)
    for key, inner in tables:
        parts.append((key, [name for name, _ in inner], [kind for _, kind in inner], at))
        at += len(inner)

    def make(numbers: list[str], brands: list[str]) -> tuple[list[dict[str, Any]], np.ndarray, _FirstMentions]:
        blobs = [base64.b64decode(data) for data in numbers]
        lengths = np.array([len(blob) // 8 for blob in blobs], dtype=np.int64)
        every = np.frombuffer(b"".join(blobs), dtype="<f8")
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        fixed = every[starts[:, None] + np.arange(at)]  # rows x the layout's numbers
        views = _rows(keys, [_column(fixed[:, k], kind) for k, kind in enumerate(kinds)], len(blobs))
        for key, names, inner_kinds, first in parts:
            columns = [_column(fixed[:, first + k], kind) for k, kind in enumerate(inner_kinds)]
            for view, table in zip(views, _rows(names, columns, len(blobs))):
                view[key] = table
        first = _NO_FIRST
        if has_first:
            # Each row's first mentions: the numbers after the layout's, as many as its brands;
            # every row's brands split at once, each row's the slice of them that is its.
            counts = lengths - at
            total = int(counts.sum())
            named = [text for text, count in zip(brands, counts.tolist()) if count]
            names = "\x1f".join(named).split("\x1f") if named else []
            offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
            times = every[np.repeat(starts + at - offsets, counts) + np.arange(total)]
            first = (np.repeat(np.arange(len(blobs), dtype=np.int64), counts), names, times)
            when = times.tolist()
            for view, begin, count in zip(views, offsets.tolist(), counts.tolist()):
                view[FIRST_SEEN] = dict(zip(names[begin:begin + count], when[begin:begin + count]))
        return views, fixed, first

    return make


def _column(values: np.ndarray, kind: str) -> list[Any]:
    """A feature's values as the rows hold them: float, int, bool (1.0 is true) or None."""
    if kind == "f":
        return values.tolist()
    if kind == "i":
        return values.astype(np.int64).tolist()  # (exact: encode_inputs keeps ints up to 2^53)
    if kind == "b":
        return (values == 1.0).tolist()
    return [None] * len(values)  # "n"


def _rows(keys: list[str], columns: list[list[Any]], count: int) -> list[dict[str, Any]]:
    """``count`` dicts of ``keys`` from their columns (new empty dicts when there are no keys)."""
    if not keys:
        return [{} for _ in range(count)]
    return [dict(zip(keys, values)) for values in zip(*columns)]
