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
* :func:`verification` - the verified badge's caption ("认证：REASON");
* :func:`link_title` - a post link's title.

Every reader is linear in the page, whatever its depth (:class:`PageTexts`): a hostile page
of nested elements cannot stall the crawl.

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


class PageTexts:
    """Every element's ``get_text(" ", strip=True)``, worked out once for the whole page.

    Asking each element for its text walks its whole subtree, so asking every element costs
    the page's size times its depth: 10 s for 88 KB of nested ``<div>``s, over 10 minutes for
    1 MB, on the reactor thread. Here the texts are built bottom-up in one pass, each kept to
    ``limit`` characters: exact when shorter, otherwise its first ``limit + 1`` characters (so
    ``len(text) > limit`` reads "longer than limit"). Readers only ever compare short texts
    (a label, a number, a title), so the cost is linear in the page.

    Which strings count is bs4's own rule: an element takes the string types it is
    interested in (text and CDATA for most elements, its script for ``<script>``, ...).
    """

    def __init__(self, soup: BeautifulSoup, limit: int) -> None:
        self.limit = limit
        nodes = list(soup.descendants)
        types = {frozenset(_string_types(node)) for node in nodes if isinstance(node, Tag)}
        self._texts: dict[int, dict[frozenset[type], str]] = {}
        for node in reversed(nodes):  # every element after all of its descendants
            if isinstance(node, Tag):
                self._texts[id(node)] = {key: text for key in types if (text := self._join(node, key))}

    def _join(self, element: Tag, key: frozenset[type]) -> str:
        pieces: list[str] = []
        size = 0
        for child in element.contents:
            if isinstance(child, Tag):
                piece = self._texts[id(child)].get(key, "")
            elif type(child) in key:
                piece = child.strip()
            else:
                continue
            if piece:
                pieces.append(piece)
                size += len(piece) + 1
                if size > self.limit + 1:
                    break
        return " ".join(pieces)[: self.limit + 1]

    def __getitem__(self, element: Tag) -> str:
        """``element.get_text(" ", strip=True)``, cut after ``limit + 1`` characters."""
        return self._texts[id(element)].get(frozenset(_string_types(element)), "")


def _string_types(element: Tag) -> set[type]:
    """The string classes ``element.get_text()`` reads (bs4's ``interesting_string_types``)."""
    return element.interesting_string_types or Tag.MAIN_CONTENT_STRING_TYPES


#: Longest link text kept as a post's title: a video or live-room title is far shorter; a
#: longer text is a link wrapped around a whole section (or a hostile page), cut here.
TITLE_LIMIT = 200


def link_title(link: Tag, texts: PageTexts) -> str | None:
    """A post link's ``title`` attribute, else its text (at most ``TITLE_LIMIT`` characters)."""
    title = link.get("title") or texts[link][:TITLE_LIMIT]
    return (title.strip() or None) if isinstance(title, str) else None


#: Longest text compared with a label or a number; a longer one is neither (no page shows a
#: count of more than 64 characters), so every text compared is exact.
_SHORT_TEXT = 64


def _number(text: str) -> str | None:
    """``text`` when it is a displayed number of at most ``_SHORT_TEXT`` characters."""
    return text if len(text) <= _SHORT_TEXT and re.fullmatch(_NUMBER, text) else None


def labelled_counts(soup: BeautifulSoup, labels: dict[str, str]) -> FieldCounts | str:
    """Counts shown next to their labels (label text -> Profile field); a reason string when
    one field is shown with several different numbers.

    Two layouts are read: one element whose whole text is "LABEL NUMBER" or "NUMBER LABEL",
    and a parent whose two child elements are a number and a label (either order). One pass
    over the page (:class:`PageTexts`): linear in its size whatever its depth; a "number" of
    more than 64 characters is not a count.
    """
    alternatives = "|".join(sorted((re.escape(k) for k in labels), key=len, reverse=True))
    inline = re.compile(rf"^(?:(?P<l1>{alternatives})\s*[:：]?\s*(?P<n1>{_NUMBER})|(?P<n2>{_NUMBER})\s*(?P<l2>{alternatives}))$")
    texts = PageTexts(soup, _SHORT_TEXT)
    seen: dict[str, set[int]] = {}
    found = FieldCounts()
    for element in soup.find_all(True):
        if element.name in {"script", "style", "noscript", "title"}:
            continue
        children = [t for c in element.contents if isinstance(c, Tag) and (t := texts[c])]
        pair: tuple[str, str] | None = None
        text = texts[element]
        match = inline.match(text) if len(text) <= 40 else None
        if match and not any(len(t) <= _SHORT_TEXT and inline.match(t) for t in children):
            pair = (match.group("l1") or match.group("l2"), match.group("n1") or match.group("n2"))
        elif len(children) == 2:
            a, b = children
            if a in labels and _number(b):
                pair = (a, b)
            elif b in labels and _number(a):
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
