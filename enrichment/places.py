"""Places: the "IP属地" label, self-declared locations and country names -> ISO 3166-1 alpha-2.

Country names come from Babel's CLDR territory names in the locales creators and platforms
use (Chinese in both scripts, English, Japanese, Korean and the main European languages) plus
pycountry's official and common names, so "美国", "United States", "アメリカ合衆国" and
"Vereinigte Staaten" are all ``US`` without a hand-written list. Mainland provinces and
cities (a province list kept as data in ``data/cn_regions.txt``) are ``CN``; Hong Kong,
Macao and Taiwan keep their own ISO codes, as the platforms themselves distinguish them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"

#: Locales whose CLDR territory names we accept as input.
NAME_LOCALES = ("zh", "zh_Hant", "en", "ja", "ko", "de", "fr", "es", "it", "pt", "ru", "nl")

_IP_PREFIX = re.compile(r"^\s*(?:IP\s*属地|IP\s*屬地|IP\s*归属地|IP\s*location)\s*[:：]?\s*", re.IGNORECASE)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069\ufeff"), None)

#: Names CLDR does not list that platforms really show. Keys are normalised (see _key).
_EXTRA = {
    "usa": "US", "us": "US", "u.s.": "US", "u.s.a.": "US", "america": "US",
    "uk": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "korea": "KR", "south korea": "KR", "republic of korea": "KR",
    "中国大陆": "CN", "中国内地": "CN", "大陆": "CN", "内地": "CN", "mainland china": "CN",
    "香港": "HK", "澳门": "MO", "澳門": "MO", "台湾": "TW", "臺灣": "TW", "台灣": "TW",
    "hong kong": "HK", "macau": "MO", "macao": "MO", "taiwan": "TW",
}


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return re.sub(r"\s+", " ", text).strip().casefold()


def strip_ip_prefix(text: str | None) -> str | None:
    """ "IP属地：美国" -> "美国"; empty or placeholder text -> None."""
    if text is None:
        return None
    place = _IP_PREFIX.sub("", unicodedata.normalize("NFKC", str(text)).translate(_INVISIBLE)).strip()
    if not place or place in {"未知", "unknown", "Unknown", "-", "--"}:
        return None
    return place


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    from babel import Locale

    names: dict[str, str] = {}
    for locale in NAME_LOCALES:
        for code, name in Locale.parse(locale).territories.items():
            if len(code) == 2 and code.isalpha() and code not in {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB", "XK"}:
                names.setdefault(_key(name), code)
    try:
        import pycountry

        for country in pycountry.countries:
            for attr in ("name", "official_name", "common_name"):
                value = getattr(country, attr, None)
                if value:
                    names.setdefault(_key(value), country.alpha_2)
    except ImportError:  # pragma: no cover - pycountry is a declared dependency
        pass
    names.update(_EXTRA)
    return names


@lru_cache(maxsize=1)
def _cn_regions() -> frozenset[str]:
    regions: set[str] = set()
    for line in (DATA / "cn_regions.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            regions.update(_key(part) for part in line.split())
    return frozenset(regions)


def country_code(name: str | None) -> str | None:
    """ISO 3166-1 alpha-2 for a country, province or "IP属地" text; None when unknown.

    Accepts an ISO code itself, any CLDR/pycountry country name, "中国 广东"-style
    "country region" text, and mainland provinces/cities. Never guesses: text that is not
    recognisably a place returns None.
    """
    place = strip_ip_prefix(name)
    if place is None:
        return None
    key = _key(place)
    if len(place) == 2 and place.isascii() and place.isupper() and place in _iso_codes():
        return place  # "US"; lower-case "la"/"in" are words or cities, not codes
    names = _country_names()
    if key in names:
        return names[key]
    if key in _cn_regions() or key.rstrip("市省") in _cn_regions():
        return "CN"
    # "中国香港" / "中国 广东" / "美国 加利福尼亚" / "Paris, France": try the parts.
    if key.startswith("中国") and len(key) > 2:
        rest = key[2:].strip()
        return country_code(rest) or ("CN" if rest in _cn_regions() else None)
    parts = [p for p in re.split(r"[\s,，、/·|]+", key) if p]
    if len(parts) > 1:
        for part in (parts[0], parts[-1]):
            code = names.get(part) or ("CN" if part in _cn_regions() else None)
            if code:
                return code
    return None


@lru_cache(maxsize=1)
def _iso_codes() -> frozenset[str]:
    return frozenset(code for code in _country_names().values())


def is_overseas(country: str | None) -> bool | None:
    """True outside mainland China, False in it, None when the country is unknown."""
    if country is None:
        return None
    return country != "CN"
