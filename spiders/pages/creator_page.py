"""Rendered creator pages that show their numbers as text next to a Chinese label.

Youku's creator page and Taobao Live's anchor page have no documented public JSON: the
numbers are drawn by the page's scripts and read from the rendered HTML. Both pages are
read the same way, by the readers here:

* :func:`labelled_counts` - each number next to its label, either in one element
  ("粉丝 1.2万", "1.2万粉丝", "粉丝：345") or as a number element and a label element under one
  parent (``<div><span>1.2万</span><span>粉丝</span></div>``, either order). Nothing else is
  read: a number without a label is never taken for a count, and one label carrying two
  different numbers (e.g. a list of recommended creators) is refused, never guessed;
* :func:`counts_profile` - those counts as a ``Profile`` (rounding flags kept);
* :func:`page_title` - the name from ``og:title`` or ``<title>`` without the site's suffix;
* :func:`verification` - the verified badge's caption ("认证：REASON").

Each platform's page module keeps its own labels, title suffixes and failure words.
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, Tag

from enrichment.numbers import parse_count
from records import Profile
from spiders.pages.payload import FieldCounts

#: A displayed number: digits with separators, then an optional multiplier and/or "+".
_NUMBER = r"\d[\d,.]*\s*(?:[万亿kKmMwW]\+?|\+)?"
_VERIFICATION = re.compile(r"^\s*(?:\S{0,4}认证)\s*[:：]\s*\S")
_VERIFICATION_PREFIX = re.compile(r"^\s*\S{0,4}认证\s*[:：]\s*")


def labelled_counts(soup: BeautifulSoup, labels: dict[str, str]) -> FieldCounts | str:
    """Counts shown next to their labels (label text -> Profile field); a reason string when
    one field is shown with several different numbers.

    Two layouts are read: one element whose whole text is "LABEL NUMBER" or "NUMBER LABEL",
    and a parent whose two child elements are a number and a label (either order).
    """
    alternatives = "|".join(sorted((re.escape(k) for k in labels), key=len, reverse=True))
    inline = re.compile(rf"^(?:(?P<l1>{alternatives})\s*[:：]?\s*(?P<n1>{_NUMBER})|(?P<n2>{_NUMBER})\s*(?P<l2>{alternatives}))$")
    seen: dict[str, set[int]] = {}
    found = FieldCounts()
    for element in soup.find_all(True):
        if element.name in {"script", "style", "noscript", "title"}:
            continue
        children = [c for c in element.find_all(True, recursive=False) if c.get_text(strip=True)]
        pair: tuple[str, str] | None = None
        text = element.get_text(" ", strip=True)
        match = inline.match(text) if len(text) <= 40 else None
        if match and not any(inline.match(c.get_text(" ", strip=True)) for c in children):
            pair = (match.group("l1") or match.group("l2"), match.group("n1") or match.group("n2"))
        elif len(children) == 2:
            a, b = (c.get_text(" ", strip=True) for c in children)
            if a in labels and re.fullmatch(_NUMBER, b):
                pair = (a, b)
            elif b in labels and re.fullmatch(_NUMBER, a):
                pair = (b, a)
        if pair is None:
            continue
        count = parse_count(pair[1].replace(" ", ""))
        if count is None:
            continue
        field = labels[pair[0]]
        seen.setdefault(field, set()).add(count.value)
        found.add(field, count)
    ambiguous = sorted(field for field, values in seen.items() if len(values) > 1)
    if ambiguous:
        return f"several different numbers labelled as {', '.join(ambiguous)}"
    return found


def counts_profile(platform: str, found: FieldCounts, **facts: Any) -> Profile:
    """Profile from labelled counts (approximate/lower-bound flags kept) and text facts."""
    return Profile(
        platform=platform,
        followers=found.get("followers"),
        following=found.get("following"),
        posts=found.get("posts"),
        likes=found.get("likes"),
        views=found.get("views"),
        approximate=found.approximate,
        lower_bound=found.lower_bound,
        **facts,
    )


def page_title(soup: BeautifulSoup, suffixes: re.Pattern[str]) -> str | None:
    """``og:title`` or ``<title>`` without the site's suffix."""
    meta = soup.find("meta", attrs={"property": "og:title"})
    raw = meta.get("content") if isinstance(meta, Tag) else (soup.title.get_text() if soup.title else None)
    if not isinstance(raw, str):
        return None
    name = suffixes.sub("", raw.strip()).strip()
    return name or None


def verification(soup: BeautifulSoup) -> str | None:
    """Text of an element reading "认证：REASON" (the verified badge's caption)."""
    for element in soup.find_all(string=_VERIFICATION):
        reason = _VERIFICATION_PREFIX.sub("", str(element)).strip()
        if reason:
            return reason
    return None
