"""Candidates' names and aliases: the one validation every way in uses (``candidates add``,
``candidates import``, ``lookup``, the HTTP API), and the search key names are found by.

Pure functions (no SQL), so the API's request models, the CLI and the tables share them.

A name is refused, with an error that says what and where, when it

* is empty, or longer than :data:`MAX_NAME` characters;
* holds a control character (NUL, TAB, line feed ...), a line or paragraph separator
  (U+2028/U+2029) or an invisible formatting character (bidi overrides such as U+202E, which
  make a name read backwards on screen, zero-width spaces, the BOM): invisible on screen,
  dangerous in terminals, CSV files and PostgreSQL (which refuses NUL). The zero-width
  joiners that emoji sequences and some scripts need (U+200C, U+200D) are kept;
* starts like a spreadsheet formula (``=``, ``+``, ``-``, ``@``): exported to CSV and opened
  in a spreadsheet it would run (CSV injection).

A name that passes is NFKC-normalised (full-width letters and spaces as typed with a Chinese
input method become plain ones) and stripped of surrounding spaces.
"""

from __future__ import annotations

import unicodedata

#: Longest display name or alias, in characters (``candidate.display_name`` is VARCHAR(200)).
MAX_NAME = 200
#: First characters a spreadsheet reads as the start of a formula.
FORMULA_START = frozenset("=+-@")
#: Invisible formatting characters that names legitimately hold: the zero-width non-joiner and
#: joiner (Persian, Indic scripts, emoji sequences such as 👩‍🔬).
_KEPT_FORMAT = frozenset("\u200c\u200d")
#: Character categories refused: control, formatting, line and paragraph separators, surrogates.
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Cs": "a lone surrogate",
}
#: Names of control characters (unicodedata has none for them).
_CONTROL_NAMES = {"\x00": "NUL", "\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN", "\x1b": "ESCAPE",
                  "\x7f": "DELETE", "\x0b": "LINE TABULATION", "\x0c": "FORM FEED", "\x85": "NEXT LINE"}


class InvalidName(ValueError):
    """A name, alias or search text that cannot be used (the message says what and where)."""


def describe(char: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``: a character as a person can find it."""
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def refuse_characters(text: str, what: str = "name") -> None:
    """Raise :class:`InvalidName` at the first control, separator or invisible formatting
    character of ``text``, naming it and its position (1 = the first character)."""
    if text.isprintable():  # no control, format, separator (but the space) or surrogate character: nothing to refuse
        return
    for position, char in enumerate(text, start=1):
        kind = _REFUSED_CATEGORIES.get(unicodedata.category(char))
        if kind and char not in _KEPT_FORMAT:
            raise InvalidName(f"{what} has {kind}, {describe(char)}, at position {position}; remove it")


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip(" ")


def starts_like_formula(text: str) -> bool:
    """True when a spreadsheet would read ``text`` as a formula (CSV injection)."""
    return bool(text) and text[0] in FORMULA_START


def clean_name(text: str, what: str = "name") -> str:
    """The name to store for ``text`` (NFKC, stripped), or :class:`InvalidName` saying what is
    wrong and where. ``what`` names it in the error (``name``, ``alias``, ``alias 2``)."""
    refuse_characters(text, what)
    name = _normalised(text)
    if not name:
        raise InvalidName(f"{what} is empty")
    if len(name) > MAX_NAME:
        raise InvalidName(f"{what} is {len(name)} characters long; at most {MAX_NAME} are allowed")
    if starts_like_formula(name):
        raise InvalidName(f"{what} starts with {name[0]!r} like a spreadsheet formula (= + - @ are refused as "
                          "the first character); write it without that character")
    return name


def clean_aliases(texts: list[str] | tuple[str, ...]) -> list[str]:
    """Aliases to store: each checked like a name (the error says which alias), empty ones
    dropped, repeats kept once, in order."""
    cleaned: list[str] = []
    for number, text in enumerate(texts, start=1):
        if not _normalised(text):
            continue
        alias = clean_name(text, "alias" if len(texts) == 1 else f"alias {number}")
        if alias not in cleaned:
            cleaned.append(alias)
    return cleaned


def search_key(text: str) -> str:
    """What names and aliases are found by, on every database alike: NFKC, Unicode case folding
    (``ß`` is ``ss``, ``Ü`` is ``ü``, Greek and Turkish letters fold too), NFKC again, and runs
    of white space as one space. Stored in ``candidate.name_key``/``alias_keys``."""
    if text.isascii():  # NFKC leaves ASCII as it is, and folds its case as lower() does
        return " ".join(text.lower().split())
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())


def alias_search_keys(aliases: list[str] | tuple[str, ...] | None) -> str:
    """The aliases' search keys as one text, each between line feeds (``"\\nkey\\n..."``;
    a key holds no line feed), so that one ``LIKE`` finds a key among them; ``""`` for none."""
    keys = [key for key in (search_key(alias) for alias in aliases or []) if key]
    return "\n" + "\n".join(keys) + "\n" if keys else ""


def clean_search(text: str, what: str = "candidate") -> str:
    """Text a person searches candidates by (an id, name, alias, handle or URL): refused when it
    holds control or invisible characters, else NFKC-normalised and stripped."""
    refuse_characters(text, what)
    return _normalised(text)


def clean_notes(text: str | None) -> str | None:
    """Free-text notes: line breaks and tabs are fine, other control characters (NUL, which
    PostgreSQL refuses, escape sequences) are not."""
    if text is None:
        return None
    if text.isprintable():  # no control character at all (the common case): nothing to look for
        return text.strip() or None
    for position, char in enumerate(text, start=1):
        if unicodedata.category(char) == "Cc" and char not in "\t\n\r":
            raise InvalidName(f"notes have a control character, {describe(char)}, at position {position}; remove it")
    return text.strip() or None
