"""Sponsored posts: how much of a creator's recent content brands pay for, which brands and
from which countries, and whether their audience engages with it as with the rest.

A recent post is *sponsored* when its text (title and body) discloses a paid partnership in
any language we crawl (:mod:`enrichment.disclosures`, the terms in
``data/disclosures.toml``). The platforms' own paid-partnership labels are not read by the
page parsers yet (docs/features.md, "Sponsored posts", lists where the payloads carry them),
so text is all this family sees. Brands are the international brands the post names
(:mod:`enrichment.brands`, through the post's :class:`~enrichment.features.content.PostAnalysis`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from enrichment.disclosures import DisclosureFinder, default_disclosures
from enrichment.features.content import PostAnalysis
from enrichment.features.rows import PostRow, median, recent_posts, share


def sponsored_features(posts: Sequence[PostRow], analyses: Mapping[int, PostAnalysis], as_of: datetime,
                       finder: DisclosureFinder | None = None) -> dict[str, Any]:
    """Share of recent posts with text that are sponsored, the brands they name and their
    countries, and the engagement of sponsored posts against the others (organic).

    Counts are NULL when no recent post has text (nothing could be read), 0 when posts were
    read and none discloses a partnership. ``analyses`` maps ``id(post)`` to its analysis,
    whose disclosures are used unless another ``finder`` is given.
    """
    recent = recent_posts(posts, as_of)
    with_text = [p for p in recent if p.content.strip()]
    sponsored: list[PostRow] = []
    organic: list[PostRow] = []
    terms: Counter[str] = Counter()
    for post in with_text:
        analysis = analyses.get(id(post))
        if analysis is not None and finder is None:
            found: Sequence[str] = analysis.disclosures  # found by analyse_posts with the shipped list
        else:
            found = [d.label for d in (finder or default_disclosures()).find(
                post.content, analysis.language if analysis else None)]
        (sponsored if found else organic).append(post)
        terms.update(found)
    brands = {b for p in sponsored if id(p) in analyses for b in analyses[id(p)].brands}
    countries = {b.country for b in brands if b.country}
    has_text = bool(with_text)
    sponsored_engagement = median(p.engagement for p in sponsored)
    organic_engagement = median(p.engagement for p in organic)
    return {
        "sponsored_posts": len(sponsored) if has_text else None,
        "sponsored_post_share": share(len(sponsored), len(with_text)),
        "sponsored_brands_distinct": len(brands) if has_text else None,
        "sponsored_brand_countries_distinct": len(countries) if has_text else None,
        "sponsored_brands": sorted(b.name for b in brands),
        "sponsored_brand_countries": sorted(countries),
        "sponsored_engagement_median": sponsored_engagement,
        "organic_engagement_median": organic_engagement,
        "sponsored_engagement_ratio": (sponsored_engagement / organic_engagement
                                       if sponsored_engagement is not None and organic_engagement else None),
        "sponsored_disclosures": dict(sorted(terms.items())),
    }
