"""International brands mentioned in post text, from the dictionary in ``data/brands.csv``.

Columns: ``brand`` (display name), ``aliases_zh`` and ``aliases_latin`` (``;``-separated;
these are what is matched - the display name itself is only matched when listed as an
alias, so generic words such as "Fresh" or "Coach" are not), ``country`` (ISO 3166-1
alpha-2 of the brand's origin, empty when not verified) and ``category`` (cosmetics,
supplements, baby, luxury, appliances, food).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from enrichment.keywords import PhraseMatcher

BRANDS_FILE = Path(__file__).parent / "data" / "brands.csv"
CATEGORIES = frozenset({"cosmetics", "supplements", "baby", "luxury", "appliances", "food"})


@dataclass(frozen=True)
class Brand:
    name: str
    country: str | None
    category: str
    aliases: tuple[str, ...]


def load_brands(path: Path = BRANDS_FILE) -> list[Brand]:
    """Read the dictionary; raises ValueError naming the line for a malformed row."""
    brands: list[Brand] = []
    seen: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            name = (row.get("brand") or "").strip()
            aliases = tuple(
                a.strip() for field in ("aliases_zh", "aliases_latin") for a in (row.get(field) or "").split(";") if a.strip()
            )
            country = (row.get("country") or "").strip().upper() or None
            category = (row.get("category") or "").strip()
            if not name or not aliases:
                raise ValueError(f"{path}:{line}: a brand needs a name and at least one alias")
            if country is not None and (len(country) != 2 or not country.isalpha()):
                raise ValueError(f"{path}:{line}: country {country!r} is not an ISO 3166-1 alpha-2 code")
            if category not in CATEGORIES:
                raise ValueError(f"{path}:{line}: category {category!r} is not one of {sorted(CATEGORIES)}")
            for alias in aliases:
                key = alias.casefold()
                if key in seen and seen[key] != name:
                    raise ValueError(f"{path}:{line}: alias {alias!r} already belongs to {seen[key]}")
                seen[key] = name
            brands.append(Brand(name, country, category, aliases))
    return brands


class BrandFinder:
    def __init__(self, brands: list[Brand]) -> None:
        self.brands = brands
        self._matcher: PhraseMatcher[Brand] = PhraseMatcher((alias, b) for b in brands for alias in b.aliases)

    def find(self, text: str | None) -> set[Brand]:
        """The distinct brands a text mentions."""
        return {match.value for match in self._matcher.find(text)}


@lru_cache(maxsize=1)
def default_brands() -> BrandFinder:
    return BrandFinder(load_brands())
