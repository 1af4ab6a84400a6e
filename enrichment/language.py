"""Which language a post is written in (lingua, offline), to measure foreign-language content.

Most posts are decided by their script alone, without a statistical model: mostly Han
characters and no kana/hangul -> Chinese; kana -> Japanese; hangul -> Korean; Thai script ->
Thai; Cyrillic -> Russian. Only Latin-script text goes to lingua, restricted to the Latin-
script languages creators in this market post in - fewer candidate languages make lingua
both faster and less likely to confuse close ones. :func:`detect_languages` runs lingua on
a whole batch in parallel (its Rust core uses every CPU).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

#: ISO 639-1 codes lingua chooses between for Latin-script text.
LATIN_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "vi", "id")
#: Every language :func:`detect_language` can answer.
LANGUAGES = ("zh", "ja", "ko", "th", "ru", *LATIN_LANGUAGES)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LETTER = re.compile(r"[^\W\d_]")
_NOISE = re.compile(r"https?://\S+|[@#]\S+|\[[^\]]{1,12}\]")  # links, mentions, hashtags, [emoji]
MIN_LETTERS = 4


@lru_cache(maxsize=1)
def _detector():  # type: ignore[no-untyped-def]
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in LATIN_LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def _by_script(text: str) -> str | None | bool:
    """A language decided by script, None for too little text, True when lingua must decide."""
    letters = len(_LETTER.findall(text))
    if letters < MIN_LETTERS:
        return None
    if _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    han = len(_HAN.findall(text))
    if han >= 0.5 * letters:
        return "zh"
    latin = len(_LATIN.findall(text))
    if latin >= 0.5 * letters:
        return True
    if len(_THAI.findall(text)) >= 0.5 * letters:
        return "th"
    if len(_CYRILLIC.findall(text)) >= 0.5 * letters:
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
        found = detector.detect_languages_in_parallel_of(cleaned) if len(cleaned) > 1 else [detector.detect_language_of(cleaned[0])]
        for i, language in zip(pending, found):
            out[i] = language.iso_code_639_1.name.lower() if language is not None else None
    return out


def detect_language(text: str | None) -> str | None:
    return detect_languages([text])[0]


def is_foreign(language: str | None) -> bool | None:
    """True for a language other than Chinese; None when the language is unknown."""
    return None if language is None else language != "zh"
