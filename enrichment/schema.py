"""The feature table's columns, listed once: every feature (name, type, meaning), the export
columns around them, the index and coverage columns, which features are also real columns of
``featuresnapshot``, and the version of it all.

Exports (``wangzi features export``), the stored snapshots and docs/features.md follow this
list; ``tests/test_export.py`` checks that the docs document every column. Storage never
imports it: the stage hands storage the rows with these names, and ``storage/models.py``
defines the table they land in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from enrichment.features import (
    ENGAGEMENT_RATE_POSTS,
    GROWTH_WINDOWS,
    PLACE_LOOKBACK_DAYS,
    PLATFORMS,
    PRESS_HALF_LIFE_DAYS,
    PRESS_WINDOWS,
    RECENT_DAYS,
    STALE_AFTER_DAYS,
)
from enrichment.features.authenticity import DETECTION_DAYS, MIN_DAYS

#: Bumped whenever a column's meaning, name or type changes (exports carry it per row).
SCHEMA_VERSION = "2"


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    type: str  # int | float | bool | str | datetime | list | map
    description: str


def _feature_specs() -> list[FeatureSpec]:
    s: list[FeatureSpec] = []
    add = lambda name, kind, text: s.append(FeatureSpec(name, kind, text))  # noqa: E731
    for p in PLATFORMS:
        add(f"followers_{p}", "int", f"followers on {p} (newest snapshot with a count; summed over the candidate's {p} accounts)")
    add("followers_domestic", "int", "followers summed over Chinese platforms with data")
    add("followers_overseas", "int", "followers summed over overseas platforms (YouTube, Instagram, TikTok, X) with data")
    add("followers_total", "int", "followers_domestic + followers_overseas over platforms with data")
    add("overseas_share", "float", "followers_overseas / followers_total (0..1)")
    add("platforms_with_data", "int", "platforms with a follower count")
    add("platforms_registered", "int", "platforms the candidate has an account on")
    add("followers_approximate_platforms", "int", "platforms whose follower count was rounded display text (1.2万) or a lower bound (10万+)")
    add("followers_lower_bound_platforms", "int", "platforms whose follower count is a lower bound (10万+)")
    for p in PLATFORMS:
        add(f"snapshot_age_days_{p}", "float", f"days between as_of and the newest {p} snapshot")
    add("newest_snapshot_age_days", "float", "age in days of the freshest platform's newest snapshot")
    add("oldest_snapshot_age_days", "float", "age in days of the stalest platform's newest snapshot")
    add("stale_platforms", "list", f"platforms whose newest snapshot is older than {STALE_AFTER_DAYS} days (their numbers are used but flagged)")
    add("missing_platforms", "list", "platforms with a registered account but no snapshot")
    for d in GROWTH_WINDOWS:
        for p in PLATFORMS:
            add(f"growth_{d}d_{p}_abs", "int", f"follower change on {p} over {d} days")
            add(f"growth_{d}d_{p}_rel", "float", f"relative follower change on {p} over {d} days (change / base)")
        add(f"growth_{d}d_abs", "int", f"follower change over {d} days, summed over platforms with growth data")
        add(f"growth_{d}d_rel", "float", f"growth_{d}d_abs / the summed base followers of those platforms")
        add(f"growth_{d}d_platforms", "int", f"platforms with {d}-day growth data")
        add(f"growth_{d}d_approximate", "bool", f"a {d}-day growth endpoint was a rounded number")
    add("posts_recent", "int", f"posts published in the {RECENT_DAYS} days before as_of (NULL: no posts collected)")
    add("engagement_median", "float", "median likes+comments+shares per recent post")
    add("engagement_per_follower_median", "float", "median engagement / the account's followers per recent post")
    add("engagement_rate", "float", f"(likes + comments) / followers, median over the latest {ENGAGEMENT_RATE_POSTS} recent posts of the candidate's largest platform with a rate")
    add("engagement_rate_by_platform", "map", f"platform -> (likes + comments) / followers, median over its latest {ENGAGEMENT_RATE_POSTS} recent posts showing them")
    add("posts_per_week", "float", "posting cadence summed over accounts")
    add("posts_with_text", "int", "recent posts with text (the base of the *_share features)")
    add("foreign_language_share", "float", "share of recent posts (with a detectable language) not in Chinese")
    add("languages", "list", "ISO 639-1 languages detected in recent posts")
    add("shopping_post_share", "float", "share of recent posts with overseas-shopping keywords (海淘, 代购, 免税, haul…)")
    add("trend_post_share", "float", "share of recent posts with overseas-trend keywords (首发, 小众, new launch…)")
    add("brands_distinct", "int", "distinct international brands mentioned in recent posts")
    add("brand_countries_distinct", "int", "distinct countries of origin of those brands")
    add("brand_countries", "list", "ISO countries of origin of the brands mentioned")
    add("brand_categories", "list", "categories of the brands mentioned")
    add("brands", "list", "brands mentioned in recent posts")
    add("brands_by_country", "map", "country -> brands mentioned")
    add("brand_mentions", "map", "brand -> recent posts mentioning it")
    add("brand_posts", "int", "recent posts mentioning at least one brand")
    add("brand_post_share", "float", "brand_posts / posts_with_text")
    add("brand_engagement_median", "float", "median engagement of recent brand posts")
    add("nonbrand_engagement_median", "float", "median engagement of the other recent posts")
    add("brand_engagement_ratio", "float", "brand_engagement_median / nonbrand_engagement_median")
    add("sourcing_posts", "int", "recent posts with sourcing keywords (溯源, 探厂, 原产地, factory/farm visit…)")
    add("sourcing_trip_posts", "int", "sourcing posts that also name a foreign country")
    add("sourcing_trip_countries", "list", "countries named in sourcing-trip posts")
    add("brand_first_seen", "map", "brand -> time of the candidate's first post naming it (all stored posts)")
    add("ip_abroad", "bool", f"an IP location outside mainland China on some platform in the last {PLACE_LOOKBACK_DAYS} days (NULL: no platform showed one)")
    add("ip_abroad_platforms", "list", "platforms showing an IP location outside mainland China")
    add("ip_countries", "list", "countries of the IP locations shown")
    add("ip_abroad_seen_at", "datetime", "newest snapshot showing an IP location abroad")
    add("declared_abroad", "bool", f"a self-declared location/country outside mainland China in the last {PLACE_LOOKBACK_DAYS} days (NULL: none declared)")
    add("declared_countries", "list", "self-declared countries outside mainland China")
    for d in PRESS_WINDOWS:
        add(f"press_{d}d", "int", f"confirmed overseas press mentions in the last {d} days (NULL: no press data)")
    add("press_weighted_365d", "float", f"sum over last-year confirmed mentions of confidence x 0.5^(age/{PRESS_HALF_LIFE_DAYS:g} days)")
    add("press_outlets_365d", "int", "distinct outlets among last-year confirmed mentions")
    add("press_countries_365d", "int", "distinct outlet countries among them")
    add("press_languages_365d", "int", "distinct languages among them")
    add("press_unconfirmed_365d", "int", "unconfirmed mentions in the last year (not counted elsewhere)")
    add("press_last_at", "datetime", "newest confirmed mention")
    add("earliness_first_share", "float", "cohort: share of brands shared with other candidates that this one mentioned first")
    add("earliness_lead_days", "float", "cohort: median days ahead of the other candidates' first mention of shared brands")
    add("earliness_brands_compared", "int", "cohort: brands shared with at least one other candidate")
    add("growth_authenticity", "float", f"0..100, 100 = nothing suspicious in the follower growth of the last {DETECTION_DAYS} days: 100 minus a deduction per finding, the candidate's worst account (NULL: no account has {MIN_DAYS} days of exact counts)")
    add("growth_flags", "list", "the worst account's suspicious-growth flags (spike, step_jump, round_jump, regular_increments, growth_without_engagement, sudden_drop); [insufficient_history] when no account can be judged; [] when clean")
    add("growth_evidence", "map", "JSON list of findings of every flagged account: {account, platform, flag, dates, sizes, numbers}")
    add("growth_accounts_checked", "int", f"accounts with at least {MIN_DAYS} days of exact follower counts (judged by the growth detector)")
    add("sponsored_posts", "int", "recent posts whose text discloses a paid partnership (#ad, 恰饭, 品牌合作, #Werbung, #PR…; NULL: no recent post with text)")
    add("sponsored_post_share", "float", "sponsored_posts / posts_with_text")
    add("sponsored_brands_distinct", "int", "distinct international brands named in sponsored posts")
    add("sponsored_brand_countries_distinct", "int", "distinct countries of origin of those brands")
    add("sponsored_brands", "list", "brands named in recent sponsored posts")
    add("sponsored_brand_countries", "list", "ISO countries of origin of the brands named in sponsored posts")
    add("sponsored_engagement_median", "float", "median engagement of recent sponsored posts")
    add("organic_engagement_median", "float", "median engagement of the other recent posts with text")
    add("sponsored_engagement_ratio", "float", "sponsored_engagement_median / organic_engagement_median")
    add("sponsored_disclosures", "map", "disclosure (language:term, # for a tag) -> recent posts disclosing with it")
    add("synthetic_history", "bool", "true: these features read synthetic snapshots (the invented history wangzi demo adds, crawl run trigger 'synthetic'); never real data (NULL otherwise)")
    return s


FEATURE_SPECS: list[FeatureSpec] = _feature_specs()
FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in FEATURE_SPECS)

#: Features also stored as real columns of ``featuresnapshot`` (the most used ones, so SQL and
#: the ``candidate_features_latest`` view can filter and sort on them).
STORED_FEATURES: tuple[str, ...] = (
    "followers_total", "followers_domestic", "followers_overseas", "overseas_share", "growth_30d_rel",
    "engagement_median", "posts_per_week", "foreign_language_share", "brands_distinct",
    "brand_countries_distinct", "press_365d", "growth_authenticity",
)

#: Lists also stored as real columns, as the JSON text of the list (so a filter is a ``LIKE`` on a
#: short column): the review desk filters the cohort on them, and reading a value out of the
#: feature document costs a parse of the whole document per row (PostgreSQL's ``json``: ~16 µs).
LIST_COLUMNS: tuple[str, ...] = ("growth_flags_text", "countries_text")


def stored_columns(features: Mapping[str, Any]) -> dict[str, Any]:
    """The ``featuresnapshot`` columns a candidate's features fill besides the document: the
    :data:`STORED_FEATURES` and the :data:`LIST_COLUMNS` - ``growth_flags_text`` (the flags
    list as it is, ``[]`` when clean) and ``countries_text`` (the sorted union of
    ``ip_countries`` and ``declared_countries``: the desk's country filter is "an IP location
    or a declared place there"). NULL where the features hold no value."""
    columns = {name: features.get(name) for name in STORED_FEATURES}
    flags = features.get("growth_flags")
    columns["growth_flags_text"] = json.dumps(list(flags)) if flags is not None else None
    ip, declared = features.get("ip_countries"), features.get("declared_countries")
    known = ip is not None or declared is not None
    columns["countries_text"] = json.dumps(sorted({*(ip or ()), *(declared or ())})) if known else None
    return columns

#: The three indices (each a table of components in ``data/weights.toml``) ...
INDICES: tuple[str, ...] = ("leadership", "sales_driving", "influence")
#: ... and the composite of them.
COMPOSITE = "composite"
SCORES: tuple[str, ...] = (*INDICES, COMPOSITE)


def index_column(score: str) -> str:
    """The column holding an index (or the composite), 0..100."""
    return f"{score}_index"


def coverage_column(score: str) -> str:
    """The column holding the share (0..1) of an index's weight that had data."""
    return f"{score}_coverage"


def score_column(score: str) -> str:
    """The column holding an index's coverage-aware score, 0..100: coverage x index +
    (1 - coverage) x 50 (what the ranking sorts by)."""
    return f"{score}_score"


INDEX_COLUMNS: tuple[str, ...] = tuple(index_column(name) for name in SCORES)
COVERAGE_COLUMNS: tuple[str, ...] = tuple(coverage_column(name) for name in SCORES)
SCORE_COLUMNS: tuple[str, ...] = tuple(score_column(name) for name in SCORES)
#: ``wangzi rank --by`` names -> the index (or composite) they rank by.
RANK_BY: dict[str, str] = {"composite": "composite", "leadership": "leadership", "sales": "sales_driving",
                           "influence": "influence"}

#: Export columns before and after the features (see docs/features.md).
META_COLUMNS: tuple[FeatureSpec, ...] = (
    FeatureSpec("schema_version", "str", "version of this column schema"),
    FeatureSpec("candidate_id", "int", "candidate id"),
    FeatureSpec("display_name", "str", "candidate's display name"),
    FeatureSpec("active", "bool", "candidate is in the active cohort"),
    FeatureSpec("as_of", "datetime", "the time the features describe"),
    FeatureSpec("computed_at", "datetime", "when the features were computed"),
    FeatureSpec("ranked_at", "datetime", "when the indices were last ranked against the cohort"),
)
INDEX_SPECS: tuple[FeatureSpec, ...] = tuple(
    [FeatureSpec(column, "float", f"{n.replace('_', '-')} index 0..100") for n, column in zip(SCORES, INDEX_COLUMNS)]
    + [FeatureSpec(column, "float", f"share (0..1) of the {n.replace('_', '-')} index's weight that had data")
       for n, column in zip(SCORES, COVERAGE_COLUMNS)]
    + [FeatureSpec("top_contributors", "map", "index -> its top components (component, value, percentile, weight, points)")]
    + [FeatureSpec(column, "float", f"{n.replace('_', '-')} score 0..100: coverage x index + (1 - coverage) x 50, what the ranking sorts by")
       for n, column in zip(SCORES, SCORE_COLUMNS)]
    + [FeatureSpec("tier", "str", "follower tier of the candidate's largest platform: nano, micro, mid, macro, mega"),
       FeatureSpec("reference", "str", "what the percentiles were taken against: cohort, or a frozen reference NAME@vN")]
)
EXPORT_COLUMNS: tuple[FeatureSpec, ...] = META_COLUMNS + tuple(FEATURE_SPECS) + INDEX_SPECS
