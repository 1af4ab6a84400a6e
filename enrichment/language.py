"""Which language a post is written in (lingua, offline), to measure foreign-language content.

Most posts are decided by their script alone, without a statistical model: at least as
many Han characters as Latin words, and no kana/hangul -> Chinese; kana -> Japanese; hangul -> Korean; Thai script ->
Thai; Cyrillic -> Russian. Only Latin-script text goes to lingua, restricted to the Latin-
script languages creators in this market post in - fewer candidate languages make lingua
both faster and less likely to confuse close ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

#: ISO 639-1 codes lingua chooses between for Latin-script text.
LATIN_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "vi", "id")
#: Every language :func:`detect_language` can answer.
LANGUAGES = ("zh", "ja", "ko", "th", "ru", *LATIN_LANGUAGES)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_THAI = re.compile(r"[\u0e00-\u0e7f]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]+")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_NON_LETTER = re.compile(r"[\W\d_]+")
_NOISE = re.compile(r"https?://\S+|[@#]\S+|\[[^\]]{1,12}\]")  # links, mentions, hashtags, [emoji]
MIN_LETTERS = 4


@lru_cache(maxsize=1)
def _detector():  # type: ignore[no-untyped-def]
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in LATIN_LANGUAGES]
    # Low-accuracy mode (trigram models only) is ~4x faster and loads in 0.1 s instead of 2 s.
    # What it may get wrong is *which* Latin-script language a short post is in; whether a post
    # is foreign (not Chinese) is already decided by its script.
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def _count(pattern: re.Pattern[str], text: str) -> int:
    """Characters of ``text`` matching ``pattern`` (one C-level pass, no match objects)."""
    return len(text) - len(pattern.sub("", text))


def _by_script(text: str) -> str | None | bool:
    """A language decided by script, None for too little text, True when lingua must decide.

    A Han character weighs as much as a Latin *word*, so a Chinese post naming brands in
    Latin script ("今天用了Omorovicza的面霜") stays Chinese.
    """
    letters = _NON_LETTER.sub("", text)
    total = len(letters)
    if total < MIN_LETTERS:
        return None
    if _KANA.search(letters):
        return "ja"
    if _HANGUL.search(letters):
        return "ko"
    han = _count(_HAN, letters)
    latin_words = len(_LATIN.findall(text))
    if han and han >= latin_words:
        return "zh"
    if latin_words and _count(_LATIN, letters) >= 0.5 * (total - han):
        return True
    if _count(_THAI, letters) >= 0.5 * total:
        return "th"
    if _count(_CYRILLIC, letters) >= 0.5 * total:
        return "ru"
    return "zh" if han else None


def detect_languages(texts: Sequence[str | None]) -> list[str | None]:
    """ISO 639-1 code of each text's main language (None: too little text or undecided)."""
    out: list[str | None] = [None] * len(texts)
    pending: list[int] = []
    cleaned: list[str] = []
    for i, text in enumerate(texts):
        if not text:
            continue
        clean = _NOISE.sub(" ", text)
        decided = _by_script(clean)
        if decided is True:
            pending.append(i)
            cleaned.append(clean)
        else:
            out[i] = decided  # type: ignore[assignment]
    if pending:
        detector = _detector()
        # One text at a time: measured faster here than lingua's parallel batch call.
        for i, language in zip(pending, map(detector.detect_language_of, cleaned)):
            out[i] = language.iso_code_639_1.name.lower() if language is not None else None
    return out


def detect_language(text: str | None) -> str | None:
    return detect_languages([text])[0]


def is_foreign(language: str | None) -> bool | None:
    """True for a language other than Chinese; None when the language is unknown."""
    return None if language is None else language != "zh"
