"""Finding a candidate's names in news text, and deciding how much a mention is worth.

Precision matters more than recall here: a namesake counted as coverage poisons the
"international influence" index. So:

* Names are matched with one Aho-Corasick automaton (pyahocorasick) over every alias of
  every candidate at once: the cost grows with the text, not with the number of names.
* Text and names are folded the same way, character by character (so offsets stay
  valid for snippets): NFKC width folding, lower case, Latin accents dropped
  ("Zoë" = "zoe", "ＺＯＥ" = "zoe"). Kana, hangul and Han are left alone.
* CJK names match anywhere (Chinese and Japanese have no spaces between words). A name
  whose first/last character is a Latin letter or digit must have a word boundary there:
  "Li Jiaqi" matches in "Li Jiaqi's show" and in "李佳琦Li Jiaqi" but not in "Li Jiaqiang".
  Katakana words are the one CJK exception: a name that starts/ends in katakana must not
  continue into more katakana, so "リー" (Li/Lee) is found in "リーさん" and "リー・ジャーチー"
  but not inside "リーダー" or "ストーリー". A Han name inside a longer Han word still matches
  ("李佳琦" in "小李佳琦们"): there is no boundary to tell them apart.
* Aliases shorter than 2 characters, and aliases that are common words
  (``enrichment/data/common_words.txt``), are never searched for alone.

Confidence (:func:`mention_confidence`) - documented in docs/press.md:

    0.3                      an alias occurs in the article's own title or main text
  + 0.1                      ... and it occurs in the title
  + 0.2 per context term     distinct co-occurring context terms, at most 3 counted:
                             the candidate's handles, platform names (Weibo, 小红书, TikTok
                             ...), creator words (influencer, KOL, livestream, 网红, 博主,
                             インフルエンサー ...) and brands from the candidate's posts

capped at 1.0. A mention with confidence below :data:`MIN_CONFIDENCE` (0.5) is kept but
treated as a possible namesake: the name alone, with no creator context, is not enough.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick

DATA = Path(__file__).parent / "data"

MIN_ALIAS_LENGTH = 2
MIN_CONFIDENCE = 0.5
BASE_CONFIDENCE = 0.3
TITLE_BONUS = 0.1
CONTEXT_BONUS = 0.2
MAX_CONTEXT_TERMS = 3
SNIPPET_RADIUS = 80

#: Platform names in the scripts the press writes them in.
PLATFORM_TERMS: tuple[str, ...] = (
    "Weibo", "微博", "Bilibili", "哔哩哔哩", "嗶哩嗶哩", "B站", "Xiaohongshu", "小红书", "小紅書",
    "RedNote", "Little Red Book", "Douyin", "抖音", "TikTok", "Taobao", "淘宝", "淘寶", "Taobao Live",
    "淘宝直播", "Youku", "优酷", "YouTube", "Instagram", "ウェイボー", "웨이보", "틱톡", "샤오훙수",
)
#: Words the press uses for creators.
CREATOR_TERMS: tuple[str, ...] = (
    "influencer", "influencers", "KOL", "KOLs", "livestream", "livestreamer", "livestreaming",
    "live-stream", "live-streamer", "live-streaming", "live streaming", "blogger", "vlogger",
    "content creator", "social media star", "internet celebrity", "wanghong", "网红", "網紅",
    "博主", "主播", "直播带货", "带货", "UP主", "インフルエンサー", "ライブコマース", "ライブ配信",
    "인플루언서", "라이브커머스", "왕훙", "Influencerin", "Influencer-in", "influenceuse",
    "créatrice de contenu", "créateur de contenu", "influencerin", "creadora de contenido",
    "creador de contenido",
)


# --------------------------------------------------------------------------- folding


class _FoldTable(dict):  # type: ignore[type-arg]
    """str.translate table built lazily: one folded character per character (offsets kept)."""

    def __missing__(self, code: int) -> int:
        char = chr(code)
        folded = char
        decomposed = unicodedata.normalize("NFKD", char)
        base = "".join(c for c in decomposed if not ("\u0300" <= c <= "\u036f"))
        if len(base) == 1 and (base.isascii() or not decomposed.isascii()):
            folded = base
        elif len(unicodedata.normalize("NFKC", char)) == 1:
            folded = unicodedata.normalize("NFKC", char)
        lower = folded.lower()
        if len(lower) == 1:
            folded = lower
        self[code] = ord(folded)
        return ord(folded)


_FOLD = _FoldTable()


#: Characters whose folding is more than lower(): accented Latin, full-width forms, the
#: ideographic space, and anything lower() would lengthen (handled by the table too).
_NEEDS_TABLE = re.compile("[\u00c0-\u024f\u1e00-\u1eff\uff01-\uff5e\u3000\u0130]+")


def fold(text: str) -> str:
    """Case-, width- and accent-folded text of the same length as ``text``.

    Fast path: lower() in C, and the per-character table only on the runs that need it
    (CJK text and plain ASCII never go through Python code per character).
    """
    if text.isascii():
        return text.lower()
    folded = _NEEDS_TABLE.sub(lambda m: m.group().translate(_FOLD), text)
    lowered = folded.lower()
    if len(lowered) != len(text):  # a rare character lower() lengthens: fall back to the table
        return text.translate(_FOLD)
    return lowered


def _is_word_char(char: str) -> bool:
    """A character that continues a Latin word (letters/digits below the CJK blocks)."""
    return char.isalnum() and ord(char) < 0x2E80


def _is_katakana(char: str) -> bool:
    """A katakana letter or the long-vowel mark (not the ・ that separates names)."""
    return "\u30a1" <= char <= "\u30fa" or char == "\u30fc" or "\u31f0" <= char <= "\u31ff" or "\uff66" <= char <= "\uff9d"


def _word_class(char: str) -> object:
    """What an alias's end needs a boundary against: Latin words, katakana words, or nothing
    (Han, hiragana, hangul and the rest match anywhere)."""
    if _is_word_char(char):
        return _is_word_char
    if _is_katakana(char):
        return _is_katakana
    return None


# --------------------------------------------------------------------------- aliases


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Aliases never searched alone (``enrichment/data/common_words.txt``, folded)."""
    path = DATA / "common_words.txt"
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(fold(line))
    return frozenset(words)


def searchable_aliases(names: Iterable[str | None]) -> list[str]:
    """The names worth searching for: stripped, de-duplicated (folded), >= 2 chars, not common words."""
    seen: set[str] = set()
    result = []
    for name in names:
        if not name:
            continue
        name = " ".join(name.split())
        key = fold(name)
        if len(name) < MIN_ALIAS_LENGTH or key in common_words() or key in seen:
            continue
        seen.add(key)
        result.append(name)
    return result


# --------------------------------------------------------------------------- matcher


@dataclass(frozen=True)
class NameMatch:
    """One occurrence of one alias of one owner (a candidate id, or a label) in a text."""

    owner: Hashable
    alias: str
    start: int
    end: int  # exclusive


class NameMatcher:
    """Every alias of many owners in one Aho-Corasick automaton.

    ``NameMatcher({1: ["李佳琦", "Li Jiaqi"], 2: ["Papi酱"]}).find(text)`` returns the
    matches in text order. Build once, reuse for many texts.
    """

    def __init__(self, names: Mapping[Hashable, Iterable[str]], *, filter_aliases: bool = True) -> None:
        self._automaton = ahocorasick.Automaton()
        entries: dict[str, list[tuple[Hashable, str, object, object]]] = {}
        for owner, aliases in names.items():
            aliases = searchable_aliases(aliases) if filter_aliases else [a for a in aliases if a]
            for alias in aliases:
                key = fold(unicodedata.normalize("NFC", alias))
                entry = (owner, alias, _word_class(key[0]), _word_class(key[-1]))
                entries.setdefault(key, [])
                if entry not in entries[key]:
                    entries[key].append(entry)
        for key, owners in entries.items():
            self._automaton.add_word(key, (len(key), tuple(owners)))
        self.size = len(entries)
        if entries:
            self._automaton.make_automaton()

    def find(self, text: str | None) -> list[NameMatch]:
        if not text or not self.size:
            return []
        folded = fold(text)
        matches = []
        last = len(folded) - 1
        for end, (length, owners) in self._automaton.iter(folded):
            start = end - length + 1
            for owner, alias, bound_left, bound_right in owners:
                if bound_left and start > 0 and bound_left(folded[start - 1]):  # type: ignore[operator]
                    continue
                if bound_right and end < last and bound_right(folded[end + 1]):  # type: ignore[operator]
                    continue
                matches.append(NameMatch(owner, alias, start, end + 1))
        matches.sort(key=lambda m: (m.start, -m.end))  # text order, longest first
        return matches

    def owners_in(self, text: str | None) -> set[Hashable]:
        """The owners with at least one alias in ``text``."""
        return {m.owner for m in self.find(text)}


# --------------------------------------------------------------------------- confirmation


@dataclass(frozen=True)
class Confirmation:
    """Whether an article names the candidate, where, and how sure we are it is them."""

    confirmed: bool
    matched_alias: str | None = None
    snippet: str | None = None
    confidence: float | None = None
    context_terms: tuple[str, ...] = ()


def snippet_around(text: str, start: int, end: int, radius: int = SNIPPET_RADIUS) -> str:
    """About ``radius`` characters each side of a match, whitespace collapsed, with ellipses."""
    left = max(0, start - radius)
    right = min(len(text), end + radius)
    piece = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + piece + ("…" if right < len(text) else "")


def mention_confidence(in_title: bool, context_terms: Sequence[str]) -> float:
    """The documented rule (module docstring): name alone is 0.3-0.4, each context term +0.2."""
    score = BASE_CONFIDENCE + (TITLE_BONUS if in_title else 0.0)
    score += CONTEXT_BONUS * min(len(context_terms), MAX_CONTEXT_TERMS)
    return round(min(score, 1.0), 2)


def confirm_mention(
    title: str | None,
    text: str | None,
    aliases: Iterable[str],
    context: Iterable[str] = (),
) -> Confirmation:
    """Confirm a mention from the article's OWN title and main text only.

    The caller passes the extracted main text (navigation, related stories, link lists,
    captions, most-viewed boxes and comments already removed); a name found only there never
    reaches us. ``context`` adds the candidate's handles and brand names to the built-in
    platform and creator words. Title and text are read in Unicode NFC (a name written with
    combining marks or conjoining jamo matches the name as typed); the snippet comes from that
    form.
    """
    title = unicodedata.normalize("NFC", title) if title else title
    text = unicodedata.normalize("NFC", text) if text else text
    aliases = list(aliases)
    matcher = NameMatcher({"name": aliases})
    title_matches = matcher.find(title)
    text_matches = matcher.find(text)
    if not title_matches and not text_matches:
        return Confirmation(False)
    if text_matches:
        first = text_matches[0]
        snippet = snippet_around(text or "", first.start, first.end)
    else:
        first = title_matches[0]
        snippet = snippet_around(title or "", first.start, first.end)
    alias_keys = {fold(a) for a in aliases}
    terms = [t for t in (*context, *PLATFORM_TERMS, *CREATOR_TERMS) if t and fold(t) not in alias_keys]
    context_matcher = NameMatcher({"context": terms}, filter_aliases=False)
    found: dict[str, str] = {}
    for source in (title, text):
        for match in context_matcher.find(source):
            found.setdefault(_concept(match.alias), match.alias)
    context_terms = tuple(found.values())
    return Confirmation(
        True,
        matched_alias=first.alias,
        snippet=snippet,
        confidence=mention_confidence(bool(title_matches), context_terms),
        context_terms=context_terms,
    )


def _concept(term: str) -> str:
    """Spellings of one word count once ("livestream"/"live-streaming" -> "livestream")."""
    key = fold(term).replace("-", "").replace(" ", "")
    for stem in ("livestream", "influencer", "kol", "blogger", "creat", "weibo", "taobao", "bilibili", "xiaohongshu"):
        if key.startswith(stem):
            return stem
    return key
