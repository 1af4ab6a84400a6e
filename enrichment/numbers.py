"""One parser for every count a platform shows: ``1.2万``, ``10万+``, ``3.4M subscribers``.

Platforms show exact integers in their APIs and rounded display text in their pages.
Every parser in ``spiders/`` calls :func:`parse_count` so that rounding, lower bounds
("10万+") and locale quirks are handled once and flagged the same way everywhere.

A value that cannot be read gives ``None``; nothing here ever guesses a number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["Count", "parse_count", "count_value"]


@dataclass(frozen=True)
class Count:
    """A parsed count.

    ``approximate`` is true when the text was rounded for display ("1.2万", "551K");
    ``lower_bound`` when the platform says "at least" ("10万+", "1000+").
    """

    value: int
    approximate: bool = False
    lower_bound: bool = False


# Multipliers by suffix, lower-cased, longest first when matched (see _SUFFIX_RE).
_MULTIPLIERS: dict[str, int] = {
    # Chinese / Japanese
    "万": 10_000,
    "萬": 10_000,
    "w": 10_000,  # Chinese shorthand "1.2w"
    "亿": 100_000_000,
    "億": 100_000_000,
    "千": 1_000,
    # Korean
    "천": 1_000,
    "만": 10_000,
    "억": 100_000_000,
    # English and most Latin-script locales
    "k": 1_000,
    "m": 1_000_000,
    "mn": 1_000_000,
    "mm": 1_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
    "thousand": 1_000,
    "million": 1_000_000,
    "millions": 1_000_000,
    "billion": 1_000_000_000,
    # German, French, Spanish, Italian, Portuguese, Dutch, Russian ...
    "tsd": 1_000,
    "tsd.": 1_000,
    "mio": 1_000_000,
    "mio.": 1_000_000,
    "mrd": 1_000_000_000,
    "mrd.": 1_000_000_000,
    "mil": 1_000,
    "mil.": 1_000,
    "mln": 1_000_000,
    "mld": 1_000_000_000,
    "md": 1_000_000_000,
    "mi": 1_000_000,
    "mi.": 1_000_000,
    "bi": 1_000_000_000,
    "bi.": 1_000_000_000,
    "tys.": 1_000,
    "тыс": 1_000,
    "тыс.": 1_000,
    "млн": 1_000_000,
    "млрд": 1_000_000_000,
    # Indian English
    "lakh": 100_000,
    "lakhs": 100_000,
    "crore": 10_000_000,
    "crores": 10_000_000,
    "cr": 10_000_000,
}

# Characters that platforms sprinkle into display text and that carry no value:
# direction marks and isolates (U+200E/F, U+202A-202E, U+2066-2069), zero-width
# spaces and joiners, the BOM and soft hyphen.
_INVISIBLE = dict.fromkeys(
    [0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF, 0x00AD]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
)

# Thousands separators seen in display text (comma, dot, apostrophe, thin and
# narrow no-break spaces) are handled in _to_decimal; these are the spaces.
_SPACES = "\u00a0\u2009\u202f\u2007 "

_NUMBER_RE = re.compile(
    r"""
    (?P<number>\d+(?:[.,'\u00a0\u2009\u202f\u2007 ]\d+)*)   # digits with separators
    \s*
    (?P<suffix>[^\d\s+]*)                                   # multiplier word, if any
    \s*
    (?P<plus>\+)?                                           # "10万+" lower bound
    """,
    re.VERBOSE,
)

# "1000+", "10万+" and spelled-out forms of "more than".
_LOWER_BOUND_WORDS = ("以上", "more than", "over ", "+")


def count_value(count: Count | None) -> int | None:
    """The integer of a count, or ``None``: for callers that do not keep the flags."""
    return None if count is None else count.value


def parse_count(value: object) -> Count | None:
    """Read a follower/like/view count from an API value or display text.

    Integers (and digit strings) are exact. Text with a multiplier ("1.2万", "3.4M",
    "25 Mio.", "14 lakh") is approximate. "10万+" is a lower bound. Negative numbers,
    booleans, NaN, empty text and text with no number give ``None``.

    >>> parse_count("1.2万")
    Count(value=12000, approximate=True, lower_bound=False)
    >>> parse_count("3.4M subscribers")
    Count(value=3400000, approximate=True, lower_bound=False)
    >>> parse_count(969999)
    Count(value=969999, approximate=False, lower_bound=False)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Count(value) if value >= 0 else None
    if isinstance(value, float):
        if value != value or value < 0 or value in (float("inf"),):  # NaN, negative, inf
            return None
        return Count(int(value), approximate=not value.is_integer())
    if not isinstance(value, str):
        return None
    return _parse_text(value)


def _parse_text(text: str) -> Count | None:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).strip()
    if not text or len(text) > 200:
        return None
    if text.startswith("-") or text.startswith("−"):
        return None
    match = _NUMBER_RE.search(text)
    if match is None:
        return None
    # A minus sign right before the number makes it negative: not a count.
    if match.start() > 0 and text[match.start() - 1] in "-−":
        return None
    suffix = match.group("suffix").strip().lower()
    multiplier = 1
    matched_suffix = ""
    # Longest known multiplier that starts the suffix ("mio." before "mi", "万位订阅者" -> "万").
    for candidate in sorted(_MULTIPLIERS, key=len, reverse=True):
        if suffix.startswith(candidate):
            rest = suffix[len(candidate) :]
            # Latin multipliers must end at a word boundary: "m" in "mio" is handled
            # by the longer key, and "members"/"subscribers" must not read as "m"/"s".
            if candidate.isascii() and candidate[-1].isalpha() and rest[:1].isalpha():
                continue
            multiplier = _MULTIPLIERS[candidate]
            matched_suffix = candidate
            break
    number = _to_decimal(match.group("number"), has_multiplier=multiplier != 1)
    if number is None or number < 0:
        return None
    scaled = number * multiplier
    value = int(scaled)
    approximate = multiplier != 1 or scaled != value
    lower = bool(match.group("plus")) or any(
        word in text.lower() for word in _LOWER_BOUND_WORDS[:-1]
    )
    if matched_suffix == "" and suffix.endswith("+"):
        lower = True
    return Count(value, approximate=approximate or lower, lower_bound=lower)


def _to_decimal(digits: str, *, has_multiplier: bool) -> Decimal | None:
    """Turn "1,234", "1.234", "1 234", "1,2" into a Decimal, deciding what each separator is.

    A single separator followed by exactly three digits is a thousands separator
    ("1,234" = 1234, "1.234" = 1234) unless a multiplier follows ("1.234K" = 1234.0
    would be odd; platforms write "1.2K"), in which case it is a decimal point. Any
    other single separator is a decimal point ("1,2 Mio." = 1.2 million, "3.4M").
    Several separators are thousands separators, except a different last one
    ("1.234,5").
    """
    for space in _SPACES:
        digits = digits.replace(space, " ")
    separators = [ch for ch in digits if ch in ".,' "]
    if not separators:
        return _decimal(digits)
    groups = re.split(r"[.,' ]", digits)
    if len(separators) == 1:
        sep = separators[0]
        if sep in "' ":
            return _decimal("".join(groups))
        if len(groups[1]) == 3 and not has_multiplier:
            return _decimal("".join(groups))
        return _decimal(f"{groups[0]}.{groups[1]}")
    last = separators[-1]
    if last != separators[0] and last in ".,":
        integer = "".join(groups[:-1])
        return _decimal(f"{integer}.{groups[-1]}")
    if any(len(g) != 3 for g in groups[1:]):
        return None
    return _decimal("".join(groups))


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
