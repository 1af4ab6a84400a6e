"""What recent posts say: language, shopping and trend keywords, international brands (and
their countries), sourcing trips abroad, and when each brand was first mentioned (the input
of the cohort's earliness, :func:`enrichment.indices.earliness`).

Each post's text is analysed once (:func:`analyse_posts`, one automaton scan for brands,
keywords and foreign place names together, and the paid-partnership disclosures of
:mod:`enrichment.disclosures`) and the analysis is shared by every feature. An analysis is a
function of the post's text and of the shipped dictionaries and code alone, so enrich keeps
it (``storage/post_analyses.py``) in the compact text form of :func:`encode_analysis`, under
the :func:`analyser_fingerprint` that made it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from enrichment.brands import BRANDS_FILE, Brand, BrandFinder, default_brands
from enrichment.disclosures import (
    DISCLOSURES_FILE,
    DisclosureFinder,
    default_disclosures,
)
from enrichment.features.rows import PostRow, median, recent_posts, share, utc
from enrichment.keywords import (
    KEYWORDS_FILE,
    KeywordGroups,
    PhraseMatcher,
    default_keywords,
    normalize_text,
)
from enrichment.language import detect_languages
from enrichment.places import country_names


@lru_cache(maxsize=1)
def _foreign_place_names() -> tuple[tuple[str, str], ...]:
    """Country names in every locale enrichment.places knows, for countries other than CN.

    Latin names shorter than 4 letters ("us", "uk") are left out: as words they mean other
    things far more often than a country.
    """
    return tuple(
        (name, code) for name, code in country_names().items()
        if code != "CN" and len(name) >= 2 and not (name.isascii() and len(name) < 4)
    )


@dataclass(frozen=True)
class PostAnalysis:
    """What one post's text says (computed once per post, reused by several features)."""

    language: str | None
    groups: frozenset[str]
    brands: frozenset[Any]
    foreign_places: frozenset[str]
    #: The labels (``en:#ad``) of the paid-partnership disclosures the text makes.
    disclosures: tuple[str, ...] = ()


@lru_cache(maxsize=4)
def _post_matcher(brands: BrandFinder, keywords: KeywordGroups) -> PhraseMatcher[tuple[str, Any]]:
    """Brands, keyword groups and foreign country names in one automaton: one scan per post."""
    phrases: list[tuple[str, tuple[str, Any]]] = []
    phrases += [(alias, ("brand", brand)) for brand in brands.brands for alias in brand.aliases]
    phrases += [(word, ("keyword", group)) for group, words in keywords.groups.items() for word in words]
    phrases += [(name, ("place", code)) for name, code in _foreign_place_names()]
    return PhraseMatcher(phrases, kind_of=lambda value: value[0])


def analyse_posts(posts: Sequence[PostRow], brands: BrandFinder | None = None,
                  keywords: KeywordGroups | None = None,
                  disclosures: DisclosureFinder | None = None) -> dict[int, PostAnalysis]:
    """Language, keyword groups, brands, foreign places and disclosures of each post, keyed by
    ``id(post)``.

    Done for a whole batch at once; each post's text is normalised and scanned once.
    """
    matcher = _post_matcher(brands or default_brands(), keywords or default_keywords())
    finder = disclosures or default_disclosures()
    texts = [p.content for p in posts]
    languages = detect_languages(texts)
    out: dict[int, PostAnalysis] = {}
    for post, text, language in zip(posts, texts, languages):
        groups, found_brands, places = set(), set(), set()
        for match in matcher.find(normalize_text(text), normalized=True):
            kind, value = match.value
            (groups if kind == "keyword" else found_brands if kind == "brand" else places).add(value)
        labels = tuple(d.label for d in finder.find(text, language))
        out[id(post)] = PostAnalysis(language, frozenset(groups), frozenset(found_brands), frozenset(places), labels)
    return out


#: Bump when what an analysis holds changes without any file below changing.
ANALYSIS_FORMAT = 1


@lru_cache(maxsize=1)
def analyser_fingerprint() -> str:
    """What made an analysis, as 16 hex digits: the shipped dictionaries (brands, keywords,
    disclosures, and the place data ``enrichment.places`` reads), the code of every analysing
    module, the lingua, Babel and pycountry versions (the language models and the country
    names) and :data:`ANALYSIS_FORMAT`. A kept analysis with another fingerprint is never
    used: the post is analysed again."""
    from enrichment import brands, disclosures, keywords, language, places

    digest = hashlib.sha256(f"format {ANALYSIS_FORMAT}\n".encode())
    for path in (BRANDS_FILE, KEYWORDS_FILE, DISCLOSURES_FILE, places.DATA / "cn_regions.txt", Path(__file__), *(
            Path(module.__file__ or "") for module in (brands, disclosures, keywords, language, places))):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for package in ("lingua-language-detector", "babel", "pycountry"):
        try:
            digest.update(f"{package} {metadata.version(package)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} -\n".encode())
    return digest.hexdigest()[:16]


def text_digest(text: str) -> str:
    """16 hex digits naming a post's analysed text (title and body): a kept analysis is used
    only for the very text it was made of."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def encode_analysis(analysis: PostAnalysis, brands: BrandFinder | None = None) -> str:
    """The compact, deterministic text form of an analysis: ``[language, groups, brands (their
    positions in the brand list), foreign places, disclosure labels]``, the sets sorted and the
    disclosures in the order found."""
    position = _brand_positions(brands or default_brands())
    return json.dumps([analysis.language, sorted(analysis.groups), sorted(position[b] for b in analysis.brands),
                       sorted(analysis.foreign_places), list(analysis.disclosures)],
                      ensure_ascii=False, separators=(",", ":"))


class AnalysisDecoder:
    """Turns kept analyses back into :class:`PostAnalysis` objects. Most posts share their
    analysis with others (no brand, one brand and the same keywords), so each distinct text
    form is decoded once and the object shared."""

    def __init__(self, brands: BrandFinder | None = None) -> None:
        self._brands = (brands or default_brands()).brands
        self._seen: dict[str, PostAnalysis] = {}

    def __call__(self, text: str) -> PostAnalysis:
        analysis = self._seen.get(text)
        if analysis is None:
            language, groups, brand_positions, places, labels = json.loads(text)
            analysis = self._seen[text] = PostAnalysis(
                language, frozenset(groups), frozenset(self._brands[i] for i in brand_positions),
                frozenset(places), tuple(labels))
        return analysis


@lru_cache(maxsize=4)
def _brand_positions(brands: BrandFinder) -> dict[Brand, int]:
    return {brand: i for i, brand in enumerate(brands.brands)}


def content_features(
    posts: Sequence[PostRow], analyses: Mapping[int, PostAnalysis], as_of: datetime
) -> dict[str, Any]:
    """Language, shopping/trend keywords, brands and sourcing trips over recent posts, and the
    first time each brand was mentioned (for earliness across the cohort).

    ``analyses`` maps ``id(post)`` to its :class:`PostAnalysis`.
    """
    recent = recent_posts(posts, as_of)
    with_text = [p for p in recent if p.content.strip()]
    languages = [analyses[id(p)].language for p in with_text]
    detected = [lang for lang in languages if lang is not None]
    brand_posts = [p for p in with_text if analyses[id(p)].brands]
    other_posts = [p for p in with_text if not analyses[id(p)].brands]
    brands = {b for p in brand_posts for b in analyses[id(p)].brands}
    countries = {b.country for b in brands if b.country}
    sourcing = [p for p in with_text if "sourcing" in analyses[id(p)].groups]
    trips = [p for p in sourcing if analyses[id(p)].foreign_places]
    brand_engagement = median(p.engagement for p in brand_posts)
    other_engagement = median(p.engagement for p in other_posts)

    first_seen: dict[str, str] = {}
    for post in posts:
        when = post.when
        if when is None or utc(when) > as_of or id(post) not in analyses:
            continue
        for brand in analyses[id(post)].brands:
            stamp = utc(when).isoformat()
            if brand.name not in first_seen or stamp < first_seen[brand.name]:
                first_seen[brand.name] = stamp

    has_text = bool(with_text)
    mention_counts: dict[str, int] = defaultdict(int)
    for post in brand_posts:
        for brand in analyses[id(post)].brands:
            mention_counts[brand.name] += 1
    by_country: dict[str, list[str]] = defaultdict(list)
    for brand in sorted(brands, key=lambda b: b.name):
        by_country[brand.country or "??"].append(brand.name)
    return {
        "posts_with_text": len(with_text),
        "foreign_language_share": share(sum(1 for lang in detected if lang != "zh"), len(detected)),
        "languages": sorted(set(detected)),
        "shopping_post_share": share(sum(1 for p in with_text if "shopping" in analyses[id(p)].groups), len(with_text)),
        "trend_post_share": share(sum(1 for p in with_text if "trends" in analyses[id(p)].groups), len(with_text)),
        "brands_distinct": len(brands) if has_text else None,
        "brand_countries_distinct": len(countries) if has_text else None,
        "brand_countries": sorted(countries),
        "brand_categories": sorted({b.category for b in brands}),
        "brands": sorted(b.name for b in brands),
        "brands_by_country": {k: v for k, v in sorted(by_country.items())},
        "brand_mentions": dict(sorted(mention_counts.items())),
        "brand_posts": len(brand_posts) if has_text else None,
        "brand_post_share": share(len(brand_posts), len(with_text)),
        "brand_engagement_median": brand_engagement,
        "nonbrand_engagement_median": other_engagement,
        "brand_engagement_ratio": (brand_engagement / other_engagement
                                   if brand_engagement is not None and other_engagement else None),
        "sourcing_posts": len(sourcing) if has_text else None,
        "sourcing_trip_posts": len(trips) if has_text else None,
        "sourcing_trip_countries": sorted({c for p in trips for c in analyses[id(p)].foreign_places}),
        "brand_first_seen": dict(sorted(first_seen.items())),
    }
