"""What recent posts say: language, shopping and trend keywords, international brands (and
their countries), sourcing trips abroad, and when each brand was first mentioned (the input
of the cohort's earliness, :func:`enrichment.indices.earliness`).

Each post's text is analysed once (:func:`analyse_posts`, one automaton scan for brands,
keywords and foreign place names together) and the analysis is shared by every feature.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from enrichment.brands import BrandFinder, default_brands
from enrichment.features.rows import PostRow, median, recent_posts, share, utc
from enrichment.keywords import (
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


@lru_cache(maxsize=4)
def _post_matcher(brands: BrandFinder, keywords: KeywordGroups) -> PhraseMatcher[tuple[str, Any]]:
    """Brands, keyword groups and foreign country names in one automaton: one scan per post."""
    phrases: list[tuple[str, tuple[str, Any]]] = []
    phrases += [(alias, ("brand", brand)) for brand in brands.brands for alias in brand.aliases]
    phrases += [(word, ("keyword", group)) for group, words in keywords.groups.items() for word in words]
    phrases += [(name, ("place", code)) for name, code in _foreign_place_names()]
    return PhraseMatcher(phrases, kind_of=lambda value: value[0])


def analyse_posts(posts: Sequence[PostRow], brands: BrandFinder | None = None,
                  keywords: KeywordGroups | None = None) -> dict[int, PostAnalysis]:
    """Language, keyword groups, brands and foreign places of each post, keyed by ``id(post)``.

    Done for a whole batch at once; each post's text is normalised and scanned once.
    """
    matcher = _post_matcher(brands or default_brands(), keywords or default_keywords())
    texts = [p.content for p in posts]
    languages = detect_languages(texts)
    out: dict[int, PostAnalysis] = {}
    for post, text, language in zip(posts, texts, languages):
        groups, found_brands, places = set(), set(), set()
        for match in matcher.find(normalize_text(text), normalized=True):
            kind, value = match.value
            (groups if kind == "keyword" else found_brands if kind == "brand" else places).add(value)
        out[id(post)] = PostAnalysis(language, frozenset(groups), frozenset(found_brands), frozenset(places))
    return out


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
