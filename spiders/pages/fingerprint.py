"""The *shape* of an answer: a fingerprint that groups answers built the same way, whatever
account they are about (``wangzi drift list`` groups unrecognised answers by it).

* **JSON** (``json:<12 hex>``): the key structure, three levels deep - each object's sorted
  keys, each with the shape of its value (object, list, or a scalar of any type: a count that
  is null for one account and a number for another does not split a group); a list is the
  union of its first five elements' shapes. Keys that are data rather than names (all
  digits, longer than 32 characters, or with characters no field name has, such as a user
  id keying a map) count as ``*``.
* **HTML / XML** (``html:<12 hex>``): the top-level markers of a page - the root element
  (``html``, ``rss``, ``feed``), the ``id`` of every ``<script>`` element
  (``__UNIVERSAL_DATA_FOR_REHYDRATION__``, ``RENDER_DATA``, ``SIGI_STATE``) and the names of
  the globals its scripts assign (``window.__INITIAL_STATE__``, ``var ytInitialData``). The
  text (titles, names, counts) is left out.
* **Other text** (``text:<12 hex>``): the first line, lower case, digits as ``0``, 60
  characters; ``empty`` for an empty answer, ``json-invalid`` for JSON that does not parse
  (truncated), ``binary`` for bytes that are not text.

The key is a sha256 prefix of that description; :attr:`Shape.summary` is the description
cut for a person. Pure: no Scrapy, as every page module.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

#: Levels of a JSON document the shape looks at.
JSON_DEPTH = 3
#: List elements whose shapes make a list's shape.
LIST_SAMPLE = 5
#: Length of a summary.
SUMMARY_LENGTH = 200

_NAME_KEY = re.compile(r"^[A-Za-z_$@][\w$@.:-]{0,31}$")
_SCRIPT_ID = re.compile(rb"<script\b[^>]*?\bid\s*=\s*[\"']([^\"'>]{1,80})[\"']", re.IGNORECASE)
_GLOBAL = re.compile(rb"(?:\bwindow\.|\bvar\s+|\blet\s+|\bconst\s+|\bself\.)([A-Za-z_$][\w$]{2,60})\s*=(?!=)")
_ROOT = re.compile(rb"<([A-Za-z][\w:-]*)")
_PROLOGUE = re.compile(rb"^\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<![^>]*>\s*)*", re.DOTALL)


@dataclass(frozen=True)
class Shape:
    """An answer's shape: ``key`` groups answers, ``summary`` describes it."""

    key: str
    summary: str


def _key_name(key: str) -> str:
    return key if _NAME_KEY.match(key) and not key.isdigit() else "*"


def _json_shape(value: Any, depth: int) -> str:
    if isinstance(value, dict):
        if depth >= JSON_DEPTH:
            return "{…}"
        parts = sorted({_key_name(str(k)) + _json_shape(v, depth + 1) for k, v in value.items()})
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list):
        if depth >= JSON_DEPTH:
            return "[…]"
        return "[" + "|".join(sorted({_json_shape(v, depth + 1) for v in value[:LIST_SAMPLE]})) + "]"
    return ""


def _digest(kind: str, description: str) -> str:
    return f"{kind}:{hashlib.sha256(description.encode('utf-8')).hexdigest()[:12]}"


def _cut(text: str) -> str:
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def _html_shape(payload: bytes) -> Shape:
    body = _PROLOGUE.sub(b"", payload[:4096], count=1)
    root = _ROOT.match(body)
    root_name = root.group(1).decode("ascii", "replace").lower() if root else "?"
    scripts = sorted({m.decode("utf-8", "replace") for m in _SCRIPT_ID.findall(payload)})
    globals_ = sorted({m.decode("ascii", "replace") for m in _GLOBAL.findall(payload)})[:40]
    description = f"<{root_name}> scripts={','.join(scripts)} globals={','.join(globals_)}"
    summary = f"html <{root_name}>" + (f" scripts #{' #'.join(scripts)}" if scripts else "") + (
        f" globals {', '.join(globals_)}" if globals_ else "")
    return Shape(_digest("html", description), _cut(summary))


def shape(payload: bytes) -> Shape:
    """The shape of one answer (see the module docstring)."""
    text = payload.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        return Shape("empty", "empty answer")
    if text[:1] in (b"{", b"["):
        try:
            document = json.loads(text.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            return Shape("json-invalid", "JSON that does not parse (truncated or not JSON)")
        structure = _json_shape(document, 0)
        top = _json_shape(document, JSON_DEPTH - 1) if isinstance(document, (dict, list)) else structure
        return Shape(_digest("json", structure), _cut(f"json {top}"))
    if text[:1] == b"<":
        return _html_shape(text)
    try:
        decoded = text[:2000].decode("utf-8")
    except UnicodeDecodeError:
        return Shape("binary", f"{len(payload):,} bytes that are not UTF-8 text")
    first = re.sub(r"\d", "0", decoded.splitlines()[0].strip().lower())[:60]
    return Shape(_digest("text", first), _cut(f"text {first!r}"))
