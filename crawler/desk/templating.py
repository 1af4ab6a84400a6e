"""The desk's Jinja2 environment: templates from this package, autoescaping on for every
template (names, bios, post texts and article titles come from platforms and are
attacker-controlled: they are only ever written as escaped text), and the filters that
format numbers, times and links the same way everywhere."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

FOLDER = Path(__file__).parent


def count(value: Any) -> str:
    """Followers and other counts: 1.2万, 3.4亿 for large ones, ``–`` for a value not read."""
    if value is None:
        return "–"
    number = float(value)
    for limit, suffix in ((1e8, "亿"), (1e4, "万")):
        if abs(number) >= limit:
            return f"{number / limit:.1f}{suffix}"
    return f"{number:,.0f}"


def score(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{float(value):.{digits}f}"


def percent(value: Any) -> str:
    return "–" if value is None else f"{float(value) * 100:.0f}%"


def signed(value: Any) -> str:
    if value is None:
        return "–"
    return f"{float(value):+,.0f}"


def when(value: Any) -> str:
    """A time as ``2026-05-01 14:03 UTC`` (ISO text from JSON accepted)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def day(value: Any) -> str:
    text = when(value)
    return text[:10] if text != "–" else text


def age(value: Any) -> str:
    """How long ago: ``3 h``, ``12 d``."""
    if value is None:
        return "never"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    seconds = (datetime.now(timezone.utc) - value).total_seconds()
    if seconds < 3600:
        return f"{max(0, int(seconds // 60))} min ago"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def safe_url(value: Any) -> str | None:
    """A link to show: http(s) only (a ``javascript:`` or ``data:`` URL from a platform is never a link)."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in {"http", "https"} and parts.netloc else None


def label(name: str) -> str:
    return name.replace("_", " ")


def chart_json(document: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` data block: ``<``, ``>``, ``&`` and quotes
    escaped as \\u sequences, so no text in it can end the block."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("'", "\\u0027").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def environment() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(str(FOLDER / "templates")), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(count=count, score=score, percent=percent, signed=signed, when=when, day=day, age=age,
                       safe_url=safe_url, label=label, chart_json=chart_json)
    return Jinja2Templates(env=env)


TEMPLATES = environment()
