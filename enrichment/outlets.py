"""News outlets: registered domain, name and country, offline.

* Registered domain: tldextract with its bundled public-suffix snapshot and
  ``suffix_list_urls=()``, so it never fetches anything ("www3.nhk.or.jp" -> "nhk.or.jp").
* Country, first answer wins: GDELT's ``sourcecountry`` (a country *name*, read with
  ``enrichment.places.country_code``), then the domain's country-code TLD (".jp" -> JP,
  ".uk" -> GB; ccTLDs sold as generic names such as .tv/.io/.co/.me are not countries,
  except under the registry's own second level: "com.co" -> CO),
  then the outlet tables for outlets on .com/.net/.org and other generic names: the maintained
  ``enrichment/data/outlets.csv`` first, then ``enrichment/data/outlets_wikidata.csv``, imported
  from a public Wikidata query result (newspapers with an official website and a country; its
  header says where from and by which rules).
* A mention is overseas when the country is known and not CN (mainland outlets are
  domestic coverage; HK/TW/MO outlets are not mainland).
* A byline's wall-clock time is placed in the outlet's country's offset when the country keeps
  one offset at that time (:func:`wall_time_offset`, CLDR's territory zones through Babel).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timezone, tzinfo
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tldextract

from enrichment.places import country_code, is_overseas

DATA = Path(__file__).parent / "data"

#: Country-code TLDs used as generic names: they say nothing about the outlet's country.
GENERIC_CCTLDS = frozenset({"tv", "io", "co", "me", "fm", "ai", "ly", "cc", "ws", "to", "am", "gg", "im", "sh", "ac"})
#: ccTLDs whose ISO code differs.
CCTLD_ISO = {"uk": "GB", "eu": None}

#: Query parameters that only track a click and never change the article.
TRACKING_PARAMS = frozenset({
    "oc", "fbclid", "gclid", "dclid", "msclkid", "igshid", "mc_cid", "mc_eid", "ocid", "cmpid",
    "ref", "ref_src", "smid", "smtyp", "ito", "ncid", "guccounter", "guce_referrer", "guce_referrer_sig",
})


@dataclass(frozen=True)
class Outlet:
    domain: str | None
    name: str | None
    country: str | None


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # No network, no cache directory: the suffix list shipped inside tldextract.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registered_domain(url_or_host: str | None) -> str | None:
    """"https://www3.nhk.or.jp/news/" -> "nhk.or.jp"; None for hosts without a public suffix."""
    if not url_or_host:
        return None
    host = urlsplit(url_or_host).hostname if "//" in url_or_host else url_or_host.split("/")[0]
    if not host:
        return None
    parts = _extractor()(host.lower())
    if not parts.domain or not parts.suffix:
        return None
    return f"{parts.domain}.{parts.suffix}"


#: The outlet tables, first answer wins: the maintained one, then the imported public one.
OUTLET_TABLES = ("outlets.csv", "outlets_wikidata.csv")


def read_outlet_table(path: Path) -> dict[str, tuple[str, str]]:
    """domain -> (name, country) from one table (``#`` lines are comments; name may be empty)."""
    table = {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(rows):
            table[row["domain"].strip().lower()] = (row["name"].strip(), row["country"].strip().upper())
    return table


@lru_cache(maxsize=1)
def outlet_table() -> dict[str, tuple[str, str]]:
    """domain -> (name, country) from every table in :data:`OUTLET_TABLES`, earlier tables first."""
    table: dict[str, tuple[str, str]] = {}
    for name in reversed(OUTLET_TABLES):
        table.update(read_outlet_table(DATA / name))
    return table


def cctld_country(domain: str | None) -> str | None:
    """The ISO code of the domain's country-code TLD ("co.jp" -> JP), None for generic TLDs.

    A ccTLD sold as a generic name still names its country under one of the registry's own
    second-level suffixes: "eluniversal.com.co" is Colombian, "some-channel.co" says nothing.
    """
    if not domain:
        return None
    tld = domain.rsplit(".", 1)[-1].lower()
    if len(tld) != 2:
        return None
    if tld in GENERIC_CCTLDS and "." not in _extractor()(domain.lower()).suffix:
        return None
    if tld in CCTLD_ISO:
        return CCTLD_ISO[tld]
    return country_code(tld.upper())


def _table_entry(domain: str | None) -> tuple[str, str] | None:
    if not domain:
        return None
    table = outlet_table()
    return table.get(domain)


def outlet_for(url: str | None, source_country: str | None = None, name: str | None = None) -> Outlet:
    """Domain, name and country of the outlet that published ``url``."""
    domain = registered_domain(url)
    entry = _table_entry(domain)
    country = country_code(source_country) if source_country else None
    country = country or cctld_country(domain) or (entry[1] if entry else None)
    return Outlet(domain=domain, name=name or (entry[0] if entry and entry[0] else None), country=country)


@cache
def _country_zones(country: str) -> tuple[ZoneInfo, ...]:
    from babel.core import get_global

    zones = []
    for name in get_global("territory_zones").get(country, ()):
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return tuple(zones)


def wall_time_offset(country: str | None, wall: datetime) -> tzinfo | None:
    """The UTC offset of a wall-clock time in ``country``, when every zone of the country (CLDR's
    territory zones) has the same offset then: JP, KR, DE, GB, HK ...; None for a country with
    several (US, AU, and CN, whose tz database keeps Asia/Urumqi at +06) or not known."""
    zones = _country_zones(country.upper()) if country else ()
    offsets = {wall.replace(tzinfo=zone).utcoffset() for zone in zones}
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    return timezone(offset) if offset else UTC


def outlet_is_overseas(country: str | None) -> bool | None:
    return is_overseas(country)


def clean_url(url: str) -> str:
    """Drop tracking parameters (utm_*, fbclid, oc, ...) and the fragment; keep the rest in order."""
    parts = urlsplit(url.strip())
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    ]
    scheme = parts.scheme.lower() or "https"
    netloc = parts.netloc.lower()
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query, doseq=True), ""))
