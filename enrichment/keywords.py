"""Keyword groups (overseas shopping, trends, sourcing trips) found in post text.

The lists live in ``data/keywords.toml`` so they can be edited without code. Matching uses
one Aho-Corasick automaton (pyahocorasick) per list, so a post is scanned once however
long the list is. :class:`PhraseMatcher` is also what :mod:`enrichment.brands` uses.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Generic, TypeVar

import ahocorasick

DATA = Path(__file__).parent / "data"
KEYWORDS_FILE = DATA / "keywords.toml"

T = TypeVar("T")
_WORD = re.compile(r"[0-9a-z]", re.ASCII)


def normalize_text(text: str) -> str:
    """NFKC (full-width Latin -> ASCII) and case-folded, so "ＤＩＯＲ" and "dior" match alike."""
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True)
class Match(Generic[T]):
    start: int
    end: int  # exclusive
    phrase: str
    value: T


class PhraseMatcher(Generic[T]):
    """Finds phrases in text; each phrase carries a value (a brand, a group name).

    Latin-script phrases only match whole words ("mac" is not found in "machine"); phrases
    in Chinese match anywhere. Overlapping matches resolve to the longest one, so
    "资生堂胶原蛋白" is one match, not also "资生堂". With ``kind_of``, overlaps are only
    resolved between values of the same kind, so one automaton can hold several
    dictionaries (brands, keywords, places) and scan a text once for all of them.
    """

    def __init__(self, phrases: Iterable[tuple[str, T]], kind_of: Callable[[T], Hashable] | None = None) -> None:
        self._automaton = ahocorasick.Automaton()
        self._kind_of = kind_of
        count = 0
        for phrase, value in phrases:
            key = normalize_text(phrase).strip()
            if not key:
                continue
            latin_start, latin_end = bool(_WORD.match(key[0])), bool(_WORD.match(key[-1]))
            self._automaton.add_word(key, (key, value, latin_start, latin_end))
            count += 1
        self.size = count
        if count:
            self._automaton.make_automaton()

    def find(self, text: str | None, *, normalized: bool = False) -> list[Match[T]]:
        """Matches in ``text`` (already passed through :func:`normalize_text` if ``normalized``)."""
        if not text or not self.size:
            return []
        norm = text if normalized else normalize_text(text)
        last = len(norm) - 1
        found: list[Match[T]] = []
        for end_index, (phrase, value, latin_start, latin_end) in self._automaton.iter(norm):
            start = end_index - len(phrase) + 1
            if latin_start and start > 0 and _WORD.match(norm[start - 1]):
                continue
            if latin_end and end_index < last and _WORD.match(norm[end_index + 1]):
                continue
            found.append(Match(start, end_index + 1, phrase, value))
        if len(found) < 2:
            return found
        # Longest match wins where matches (of the same kind) overlap.
        kind_of = self._kind_of
        kept: list[Match[T]] = []
        for match in sorted(found, key=lambda m: (-(m.end - m.start), m.start)):
            kind = kind_of(match.value) if kind_of else None
            if all(match.end <= k.start or match.start >= k.end or (kind_of and kind_of(k.value) != kind) for k in kept):
                kept.append(match)
        return sorted(kept, key=lambda m: m.start)


def load_keywords(path: Path = KEYWORDS_FILE) -> dict[str, list[str]]:
    """Group name -> keywords, from the TOML file (each table has a ``keywords`` list)."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    groups: dict[str, list[str]] = {}
    for name, table in data.items():
        words = table.get("keywords") if isinstance(table, Mapping) else None
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError(f"{path}: [{name}] needs a list of strings called keywords")
        groups[name] = words
    return groups


class KeywordGroups:
    """Which keyword groups a text belongs to."""

    def __init__(self, groups: Mapping[str, Iterable[str]]) -> None:
        self.groups: dict[str, list[str]] = {name: list(words) for name, words in groups.items()}
        self.names = list(self.groups)
        self._matcher: PhraseMatcher[str] = PhraseMatcher((word, name) for name, words in groups.items() for word in words)

    def groups_in(self, text: str | None) -> set[str]:
        return {match.value for match in self._matcher.find(text)}

    def matches(self, text: str | None) -> dict[str, list[str]]:
        """Group -> the keywords found (for the report: *why* a post counted)."""
        out: dict[str, list[str]] = {}
        for match in self._matcher.find(text):
            out.setdefault(match.value, []).append(match.phrase)
        return out


@lru_cache(maxsize=1)
def default_keywords() -> KeywordGroups:
    return KeywordGroups(load_keywords())
