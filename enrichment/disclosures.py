"""Paid-partnership disclosures in post text, in every language Wangzi crawls: #ad,
#sponsored, "paid partnership", #广告, 恰饭, 品牌合作, #PR, #Werbung, #sponsorisé, #publi,
#協賛, 광고 ...

The terms live in ``data/disclosures.toml`` (tags, phrases, partnership phrases, negations,
contact words, per language), so the talent team can add one without code. The rules, and
why each exists (docs/features.md, "Sponsored posts"):

* a **tag** counts as a whole hashtag (``#ad``, Weibo's ``#广告#``) or a whole bracketed label
  (``[AD]``, ``【广告】``): ``#adidas`` and ``#广告片#`` are other tags;
* a **phrase** counts in running text, Latin and Cyrillic ones as whole words;
* a **partnership phrase** (品牌合作, "paid partnership") also heads the contact line of many
  footers ("品牌合作请私信", "for paid partnerships email ..."): it counts only when no contact
  word or e-mail address follows it closely;
* a **negation** right before or after a match ("not sponsored", "非广告", "광고 아님",
  "unbezahlte Werbung") turns it into the opposite, which is not counted;
* a **language-only tag** (French ``#pub``) counts only in a post detected as that language.

Text is NFKC-normalised first (full-width ``＃ＡＤ`` is ``#AD``); matching ignores case except
for the case-sensitive tags (``#PR``, where ``#pr`` is a gym's personal record).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DISCLOSURES_FILE = Path(__file__).parent / "data" / "disclosures.toml"

#: How far before and after a match a negation, and after it a contact word, is looked for.
NEGATION_BEFORE, NEGATION_AFTER, CONTACT_AFTER, EMAIL_AFTER = 12, 16, 12, 40
#: Scripts written without spaces between words: their phrases match anywhere.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af\u0e00-\u0e7f]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LATIN_WORD = re.compile(r"^[a-z][a-z' -]*$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_TRIM = " \t\r\n:,-|·#.!?;/\u2014\u2013\u3001\u3002\uff0c\uff1a"


@dataclass(frozen=True)
class Disclosure:
    """One disclosure term as listed: its language list, the term and whether it is a tag."""

    language: str
    term: str
    kind: str  # tag | phrase

    @property
    def label(self) -> str:
        """``en:#ad``, ``zh:恰饭``: the key of ``sponsored_disclosures``."""
        return f"{self.language}:{'#' if self.kind == 'tag' else ''}{self.term}"


class DisclosureError(ValueError):
    """The disclosures file is malformed."""


def _alternation(terms: Iterable[str]) -> str:
    """A regex alternation of the terms, longest first; spaces in a term match any whitespace."""
    return "|".join(r"\s+".join(re.escape(word) for word in term.split()) for term in sorted(set(terms), key=len, reverse=True))


class DisclosureFinder:
    """Finds disclosures in text (see the module docstring for the rules)."""

    def __init__(self, table: Mapping[str, Mapping[str, Any]]) -> None:
        self._terms: dict[tuple[str, str], Disclosure] = {}  # (kind, folded term) -> first listing
        self._partnership: set[str] = set()
        self._language_only: dict[str, str] = {}  # folded tag -> language
        negations_before: set[str] = set()
        negations_after: set[str] = set()
        contact: set[str] = set()
        tags: list[str] = []
        sensitive: list[str] = []
        phrases: list[str] = []
        for language, lists in table.items():
            if not isinstance(lists, Mapping):
                raise DisclosureError(f"[{language}] must be a table of lists")
            for key, values in lists.items():
                if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
                    raise DisclosureError(f"[{language}] {key} must be a list of non-empty strings")
            for kind, key in (("tag", "tags"), ("tag", "language_only_tags"), ("tag", "case_sensitive_tags"),
                              ("phrase", "phrases"), ("phrase", "partnership_phrases")):
                for raw in lists.get(key, []):
                    term = unicodedata.normalize("NFKC", raw).strip()
                    folded = term if key == "case_sensitive_tags" else term.casefold()
                    self._terms.setdefault((kind, folded), Disclosure(language, term, kind))
                    if key == "case_sensitive_tags":
                        sensitive.append(term)
                    elif kind == "tag":
                        tags.append(folded)
                    else:
                        phrases.append(folded)
                    if key == "partnership_phrases":
                        self._partnership.add(folded)
                    if key == "language_only_tags":
                        self._language_only[folded] = language
            negations_before.update(n.casefold() for n in lists.get("negations_before", []))
            negations_after.update(n.casefold() for n in lists.get("negations_after", []))
            contact.update(c.casefold() for c in lists.get("contact", []))
        self._negations_before = sorted(negations_before, key=len, reverse=True)
        self._negations_after = sorted(negations_after, key=len, reverse=True)
        latin_contact = [c for c in contact if _LATIN_WORD.match(c)]
        self._contact_words = re.compile(rf"(?<![a-z])(?:{_alternation(latin_contact)})(?![a-z])") if latin_contact else None
        self._contact_text = [c for c in contact if c not in latin_contact]
        patterns: list[tuple[re.Pattern[str], str]] = []
        for terms, flags in ((tags, re.IGNORECASE), (sensitive, 0)):
            if terms:
                alt = _alternation(terms)
                patterns.append((re.compile(rf"(?<![\w#&])#({alt})(?!\w)", flags), "tag"))
                patterns.append((re.compile(rf"[\[\u3010(\u300c<]\s*({alt})\s*[\]\u3011)\u300d>]", flags), "tag"))
        spaced = [p for p in phrases if not _UNSPACED.search(p)]
        unspaced = [p for p in phrases if _UNSPACED.search(p)]
        if spaced:
            patterns.append((re.compile(rf"(?<!\w)({_alternation(spaced)})(?!\w)", re.IGNORECASE), "phrase"))
        if unspaced:
            patterns.append((re.compile(f"({_alternation(unspaced)})", re.IGNORECASE), "phrase"))
        self._patterns = patterns
        self.size = len(self._terms)

    def find(self, text: str | None, language: str | None = None) -> list[Disclosure]:
        """The disclosures ``text`` makes (each once, in the order found); ``language`` is the
        post's detected language (for language-only tags)."""
        if not text:
            return []
        norm = unicodedata.normalize("NFKC", text)
        found: dict[str, Disclosure] = {}
        tagged: list[tuple[int, int]] = []  # spans of tags: a phrase inside one ("#品牌合作#") is the tag
        for pattern, kind in self._patterns:
            for match in pattern.finditer(norm):
                if kind == "tag":
                    tagged.append(match.span())
                elif any(start <= match.start() and match.end() <= end for start, end in tagged):
                    continue
                matched = re.sub(r"\s+", " ", match.group(1))
                disclosure = self._terms.get((kind, matched)) or self._terms.get((kind, matched.casefold()))
                if disclosure is None or disclosure.label in found:
                    continue
                folded = matched.casefold()
                only = self._language_only.get(folded) if kind == "tag" else None
                if only is not None and language != only:
                    continue
                if self._negated(norm, match.start(), match.end()):
                    continue
                if kind == "phrase" and folded in self._partnership and self._contact_follows(norm, match.end()):
                    continue
                found[disclosure.label] = disclosure
        return list(found.values())

    def _negated(self, text: str, start: int, end: int) -> bool:
        raw_before = text[max(0, start - NEGATION_BEFORE):start].casefold()
        before = raw_before.rstrip(_TRIM + "([\u3010\u300c<")
        for negation in self._negations_before:
            if len(negation) == 1:
                # A one-character negation must touch the match ("非广告", "노협찬"); a Hangul one
                # must also start its word ("나무협찬" is not "무협찬").
                if raw_before.endswith(negation) and not (
                        _HANGUL.match(negation) and len(raw_before) > 1 and _HANGUL.match(raw_before[-2])):
                    return True
            elif before.endswith(negation) and not (
                    _LATIN_WORD.match(negation) and len(before) > len(negation) and before[-len(negation) - 1].isalpha()):
                return True
        after = text[end:end + NEGATION_AFTER].casefold().lstrip(_TRIM + ")]\u3011\u300d>(")
        for negation in self._negations_after:
            if after.startswith(negation) and not (
                    _LATIN_WORD.match(negation) and len(after) > len(negation) and after[len(negation)].isalpha()):
                return True
        return False

    def _contact_follows(self, text: str, end: int) -> bool:
        """A contact word or an e-mail address right after a partnership phrase: a contact line."""
        window = text[end:end + CONTACT_AFTER].casefold()
        if any(word in window for word in self._contact_text):
            return True
        if self._contact_words is not None and self._contact_words.search(window):
            return True
        return bool(_EMAIL.search(text[end:end + EMAIL_AFTER]))


def load_disclosures(path: Path | None = None) -> DisclosureFinder:
    path = path or DISCLOSURES_FILE
    try:
        with Path(path).open("rb") as handle:
            return DisclosureFinder(tomllib.load(handle))
    except tomllib.TOMLDecodeError as exc:
        raise DisclosureError(f"{path} is not valid TOML: {exc}") from None


@lru_cache(maxsize=1)
def default_disclosures() -> DisclosureFinder:
    """The shipped disclosure list (cached)."""
    return load_disclosures()
