"""What a lead's search answer already says about it: brands named, languages, and a quick
pre-score to order the review queue (``wangzi leads list``).

Pure: plain values in, plain values out. The pre-score is deliberately simple - it orders a
queue, it ranks nobody: the indices (``wangzi enrich``) judge a lead once it is promoted and
crawled.

``pre_score`` = 0.5 x reach + 0.3 x overseas + 0.2 x brands (+ 0.05 when verified, at most 1):

* reach: log10(followers + 1) / 7, at most 1 (10 million followers is the top); 0 when the
  answer showed no count;
* overseas: 1 when the country (or the IP location's country) is not mainland China, 0
  otherwise or when unknown;
* brands: international brands of the dictionary named in what the answer showed, 3 or more
  count fully.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from enrichment.brands import default_brands
from enrichment.language import detect_languages
from enrichment.places import country_code, is_overseas

WEIGHTS = {"reach": 0.5, "overseas": 0.3, "brands": 0.2}
VERIFIED_BONUS = 0.05
#: Followers at which reach counts fully (log scale).
FULL_REACH = 10_000_000
#: Brands named at which the brand part counts fully.
FULL_BRANDS = 3


def brands_named(texts: Iterable[str | None]) -> list[str]:
    """The dictionary brands the texts name (display names, sorted)."""
    finder = default_brands()
    found: set[str] = set()
    for text in texts:
        if text:
            found |= {brand.name for brand in finder.find(text)}
    return sorted(found)


def languages_of(texts: Sequence[str | None]) -> list[str]:
    """The languages the texts are written in (ISO 639-1, sorted, undecided ones left out)."""
    return sorted({language for language in detect_languages([t for t in texts if t]) if language})


def lead_country(country: str | None, ip_location: str | None) -> str | None:
    """The country a lead shows: its own, else its IP location's."""
    return country or country_code(ip_location)


def pre_score(*, followers: int | None, country: str | None, ip_location: str | None, brands: Sequence[str],
              verified: bool | None) -> float:
    """See the module docstring; 0..1."""
    reach = min(1.0, math.log10(followers + 1) / math.log10(FULL_REACH)) if followers else 0.0
    overseas = 1.0 if is_overseas(lead_country(country, ip_location)) else 0.0
    named = min(1.0, len(brands) / FULL_BRANDS)
    score = WEIGHTS["reach"] * reach + WEIGHTS["overseas"] * overseas + WEIGHTS["brands"] * named
    if verified:
        score += VERIFIED_BONUS
    return round(min(1.0, score), 4)
