"""Places: the "IP属地" label, self-declared locations and country names -> ISO 3166-1 alpha-2.

Country names come from Babel's CLDR territory names in the locales creators and platforms
use (Chinese in both scripts, English, Japanese, Korean and the main European languages) plus
pycountry's official and common names (and their "Palestine, State of" inversions), so "美国",
"United States", "アメリカ合衆国" and "Vereinigte Staaten" are all ``US`` without a
hand-written list; states and provinces come from pycountry's ISO 3166-2 table, by name
("Austin, Texas") and by the code's subdivision part as people abbreviate them after a city
("Austin, TX" from ``US-TX``, "Toronto, ON" from ``CA-ON``, "Sydney NSW" from ``AU-NSW``). An
abbreviation several countries use (``ON`` is also Namibia's Oshana and Nigeria's Ondo) names
the one of them the city itself names - a time-zone city of CLDR's zone table ("Toronto" is
``America/Toronto``, so ``CA``) - and none otherwise ("Seattle, WA": ``WA`` is a US and an
Australian state, and Seattle is no zone city). Mainland provinces and
cities (a province list kept as data in ``data/cn_regions.txt``) are ``CN``; Hong Kong,
Macao and Taiwan keep their own ISO codes, as the platforms themselves distinguish them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from babel import Locale

DATA = Path(__file__).parent / "data"

#: Locales whose CLDR territory names we accept as input.
NAME_LOCALES = ("zh", "zh_Hant", "en", "ja", "ko", "de", "fr", "es", "it", "pt", "ru", "nl")

_IP_PREFIX = re.compile(r"^\s*(?:IP\s*属地|IP\s*屬地|IP\s*归属地|IP\s*location)\s*[:：]?\s*", re.IGNORECASE)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069\ufeff"), None)

#: Names CLDR does not list that platforms really show. Keys are normalised (see _key).
_EXTRA = {
    "usa": "US", "us": "US", "u.s.": "US", "u.s.a.": "US", "america": "US",
    "uk": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "korea": "KR", "south korea": "KR", "republic of korea": "KR", "uae": "AE", "dr congo": "CD", "drc": "CD",
    "中国大陆": "CN", "中国内地": "CN", "大陆": "CN", "内地": "CN", "mainland china": "CN",
    "香港": "HK", "澳门": "MO", "澳門": "MO", "台湾": "TW", "臺灣": "TW", "台灣": "TW",
    "hong kong": "HK", "macau": "MO", "macao": "MO", "taiwan": "TW",
}

#: CLDR's own English ``alt="variant"``/``alt="short"`` territory names (and names it used
#: before a country renamed itself), which Babel does not expose; people still write them.
_CLDR_ALT_EN = {
    "turkey": "TR", "ivory coast": "CI", "swaziland": "SZ", "east timor": "TL", "czech republic": "CZ",
    "macedonia": "MK", "congo (drc)": "CD", "congo (republic)": "CG", "burma": "MM", "palestine": "PS",
}

#: First-level subdivision types that are towns or wards rather than states or provinces:
#: their names are too often also a city elsewhere to say which country a text means.
_TOWN_LIKE = frozenset({
    "Municipality", "Local council", "District", "Parish", "Rayon", "Commune", "Quarter", "Town",
    "Town council", "Urban municipality", "Special municipality", "Ward", "Borough", "Island council",
    "Administrative atoll", "Popularate",
})

#: Separators between the parts of a written location ("Newark, New Jersey", "NYC | LA").
_SEGMENTS = re.compile(r"\s*[,，、/·|;；]+\s*")
#: A place followed by a state or province abbreviation in capitals: "Austin, TX", "Sydney NSW".
#: Lower case is never an abbreviation ("la", "in", "on" are words).
_ABBREVIATED = re.compile(r"^(?P<place>.*?[^\s,，、/·|;；])[\s,，、/·|;；]+(?P<code>[A-Z]{2,3})\.?$")


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).replace("\u2019", "'")
    return re.sub(r"\s+", " ", text).strip().casefold()


def _fold(key: str) -> str:
    """Latin accents off ("türkiye" -> "turkiye", "tōkyō" -> "tokyo"); other scripts untouched
    (a Japanese voiced mark is part of the word, not an accent)."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFD", key):
        if unicodedata.combining(char) and kept and kept[-1].isascii():
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """key -> code for the keys that name one code only (an ambiguous key names none)."""
    codes: dict[str, set[str]] = {}
    for key, code in pairs:
        codes.setdefault(key, set()).add(code)
    return {key: next(iter(found)) for key, found in codes.items() if len(found) == 1}


def strip_ip_prefix(text: str | None) -> str | None:
    """ "IP属地：美国" -> "美国"; empty or placeholder text -> None."""
    if text is None:
        return None
    place = _IP_PREFIX.sub("", unicodedata.normalize("NFKC", str(text)).translate(_INVISIBLE)).strip()
    if not place or place in {"未知", "unknown", "Unknown", "-", "--"}:
        return None
    return place


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """Every country name Wangzi accepts (normalised, and with Latin accents folded) -> code."""
    import pycountry  # 50 ms to import: only here, not in every parser that imports this module

    names: dict[str, str] = {}
    derived: list[tuple[str, str]] = []
    for locale in NAME_LOCALES:
        for code, name in Locale.parse(locale).territories.items():
            if len(code) == 2 and code.isalpha() and code not in {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB", "XK"}:
                names.setdefault(_key(name), code)
                if locale == "en" and "(" in name:  # "Myanmar (Burma)": both names stand alone
                    derived += [(_key(part), code) for part in re.split(r"\s*[()]\s*", name) if len(part) > 3]
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if not value:
                continue
            names.setdefault(_key(re.sub(r"^the ", "", value, flags=re.IGNORECASE)), country.alpha_2)
            if ", " in value:  # "Congo, The Democratic Republic of the", "Palestine, State of"
                head, tail = value.split(", ", 1)
                derived += [(_key(head), country.alpha_2),
                            (_key(re.sub(r"^the ", "", f"{tail} {head}", flags=re.IGNORECASE)), country.alpha_2)]
    for key, code in _unique(derived).items():
        names.setdefault(key, code)
    names.update(_CLDR_ALT_EN)
    names.update(_EXTRA)
    for key, code in list(names.items()):
        names.setdefault(_fold(key), code)
    return names


@lru_cache(maxsize=1)
def _subdivision_names() -> dict[str, str]:
    """First-level subdivisions (states, provinces, prefectures: pycountry's ISO 3166-2 table)
    -> their country, for "Newark, New Jersey" or "London, Ontario"; a name two countries
    share ("Punjab") names neither."""
    import pycountry  # see country_names

    pairs = []
    for subdivision in pycountry.subdivisions:
        if subdivision.parent_code is None and subdivision.type not in _TOWN_LIKE:
            key = _key(subdivision.name)
            pairs += [(key, subdivision.country_code), (_fold(key), subdivision.country_code)]
    return _unique(pairs)


@lru_cache(maxsize=1)
def _subdivision_abbreviations() -> dict[str, frozenset[str]]:
    """The subdivision part of first-level ISO 3166-2 codes ("US-TX" -> "TX", "CA-ON" -> "ON",
    "AU-NSW" -> "NSW"; letters only, two or three of them) -> every country using it. Towns and
    wards are left out, as for names (see ``_TOWN_LIKE``)."""
    import pycountry  # see country_names

    found: dict[str, set[str]] = {}
    for subdivision in pycountry.subdivisions:
        if subdivision.parent_code is None and subdivision.type not in _TOWN_LIKE:
            part = subdivision.code.split("-", 1)[1]
            if part.isalpha() and 2 <= len(part) <= 3:
                found.setdefault(part.upper(), set()).add(subdivision.country_code)
    return {part: frozenset(codes) for part, codes in found.items()}


@lru_cache(maxsize=1)
def _zone_cities() -> dict[str, str]:
    """The cities of CLDR's time-zone table (Babel's ``zone_territories``: "America/Toronto" ->
    CA) by normalised name -> their country; a city two countries' zones share names neither."""
    from babel.core import get_global

    pairs = []
    for zone, territory in get_global("zone_territories").items():
        if "/" in zone and len(territory) == 2 and territory.isalpha() and not zone.startswith("Etc/"):
            key = _key(zone.rsplit("/", 1)[1].replace("_", " "))
            pairs += [(key, territory), (_fold(key), territory)]
    return _unique(pairs)


@lru_cache(maxsize=1)
def _cn_regions() -> frozenset[str]:
    regions: set[str] = set()
    for line in (DATA / "cn_regions.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            regions.update(_key(part) for part in line.split())
    return frozenset(regions)


def country_code(name: str | None) -> str | None:
    """ISO 3166-1 alpha-2 for a country, province or "IP属地" text; None when unknown.

    Accepts an ISO code itself, any CLDR/pycountry country name, mainland provinces and
    cities, "中国 广东" / "美国 加利福尼亚"-style "country region" text, and written
    locations ("Paris, France", "Newark, New Jersey", "Los Angeles, United States"): the
    last part, then the first, must be a whole country or state/province name. Never
    guesses: text that is not recognisably a place, or that names a place two countries
    could mean ("Atlanta, Georgia": the US state or the country), returns None.
    """
    place = strip_ip_prefix(name)
    if place is None:
        return None
    if len(place) == 2 and place.isascii() and place.isupper() and place in _iso_codes():
        return place  # "US"; lower-case "la"/"in" are words or cities, not codes
    key = _key(place)
    if key.startswith("中国") and len(key) > 2 and _place(key) is None:
        rest = key[2:].strip()  # "中国香港" / "中国 广东"
        return country_code(rest) or ("CN" if rest in _cn_regions() else None)
    segments = [part for part in _SEGMENTS.split(key) if part]
    if len(segments) == 1:
        return _place(key) or _words(key) or _abbreviated(place)
    if len(segments) == 2:  # a gazetteer's "Korea, North" / "Bahamas, The"
        inverted = country_names().get(re.sub(r"^the ", "", f"{segments[1]} {segments[0]}"))
        if inverted:
            return inverted
    for segment in (segments[-1], segments[0]):
        code = _place(segment, ambiguous_with_state=True) or _words(segment)
        if code:
            return code
    return _abbreviated(place)


def _abbreviated(place: str) -> str | None:
    """A place followed by a state or province abbreviation in capitals ("Austin, TX", "Sydney
    NSW", "Toronto, ON") -> the country whose ISO 3166-2 code part it is. When several countries
    use the abbreviation (or it is also a country's own code: "Toronto, CA"), the place before it
    must name one of them - a country, state or CLDR time-zone city ("Toronto" -> CA, "Perth"
    -> AU) - or the answer is None."""
    match = _ABBREVIATED.match(unicodedata.normalize("NFKC", place).translate(_INVISIBLE).strip())
    if match is None:
        return None
    code = match.group("code")
    candidates = set(_subdivision_abbreviations().get(code, ()))
    if len(code) == 2 and code in _iso_codes():
        candidates.add(code)
    if len(candidates) <= 1:
        return next(iter(candidates), None)
    before = _key(match.group("place"))
    named = {found for found in (_place(before), _zone_cities().get(before), _zone_cities().get(_fold(before))) if found}
    chosen = named & candidates
    return chosen.pop() if len(chosen) == 1 else None


def _place(key: str, ambiguous_with_state: bool = False) -> str | None:
    """The code a whole (normalised) name means: a country, a mainland region, a state.

    With ``ambiguous_with_state`` (the name follows a city), a country name that is also a
    state elsewhere ("georgia") means neither."""
    names, states = country_names(), _subdivision_names()
    folded = _fold(key)
    country = names.get(key) or names.get(folded)
    state = states.get(key) or states.get(folded)
    if country and state and state != country and ambiguous_with_state:
        return None
    if country:
        return country
    if key in _cn_regions() or key.rstrip("市省") in _cn_regions():
        return "CN"
    return state


def _words(key: str) -> str | None:
    """A name at the start or end of a space-separated text ("美国 加利福尼亚",
    "los angeles united states"), longest first; None unless exactly one code is named."""
    words = key.split(" ")
    for size in range(len(words) - 1, 0, -1):
        found = {code for part in (" ".join(words[-size:]), " ".join(words[:size]))
                 if (code := _place(part, ambiguous_with_state=True))}
        if len(found) == 1:
            return found.pop()
        if found:
            return None
    return None


@lru_cache(maxsize=1)
def _iso_codes() -> frozenset[str]:
    return frozenset(code for code in country_names().values())


def is_overseas(country: str | None) -> bool | None:
    """True outside mainland China, False in it, None when the country is unknown."""
    if country is None:
        return None
    return country != "CN"
