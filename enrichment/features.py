"""Per-candidate features: reach, growth, engagement, overseas living, brands, press.

Every feature is a pure function over plain rows (:class:`SnapshotRow`, :class:`PostRow`,
:class:`PressRow`) and a point in time ``as_of``, so the known-answer tests build
histories by hand and nothing here needs a database. Reading the database happens in one
place, :func:`load_inputs`, which fetches only the snapshots the features need (the newest
one per account and the nearest one at or before each growth window start) instead of
whole histories: a year of daily snapshots for thousands of accounts stays one SQL scan.

Rules every feature follows:

* a value not read is ``None``, never 0: no data gives NULL, not a zero that would rank;
* growth compares real snapshots only: the nearest snapshot at or before the window start,
  never interpolated, and NULL when that snapshot is more than one window older than the
  start (a gap longer than the window) or missing;
* rounded numbers ("1.2万") stay usable but are counted and flagged.

Cohort-relative features (earliness) and the indices are computed in :mod:`enrichment.indices`
once every candidate's features are known; :func:`enrich` persists both.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from enrichment.brands import BrandFinder, default_brands
from enrichment.keywords import KeywordGroups, PhraseMatcher, default_keywords, normalize_text
from enrichment.language import detect_languages
from enrichment.press import MIN_CONFIDENCE

log = logging.getLogger(__name__)

#: Bumped whenever a feature's meaning, name or type changes (exports carry it per row).
SCHEMA_VERSION = "1"
GROWTH_WINDOWS = (7, 30, 90)
PRESS_WINDOWS = (30, 90, 365)
#: Posts published within this many days before ``as_of`` are "recent".
RECENT_DAYS = 180
#: A platform whose newest snapshot is older than this is listed in ``stale_platforms``.
STALE_AFTER_DAYS = 14
#: IP locations and declared places older than this are not evidence of living abroad now.
PLACE_LOOKBACK_DAYS = 30
#: Press mentions lose half their weight every this many days.
PRESS_HALF_LIFE_DAYS = 180.0


def _platforms() -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
    from records import DOMESTIC_PLATFORMS, OVERSEAS_PLATFORMS, PLATFORMS

    return tuple(PLATFORMS), DOMESTIC_PLATFORMS, OVERSEAS_PLATFORMS


PLATFORMS, DOMESTIC, OVERSEAS = _platforms()


# --------------------------------------------------------------------------- input rows


@dataclass(frozen=True)
class SnapshotRow:
    """One profile snapshot of one account (the fields features read)."""

    account_id: int
    platform: str
    captured_at: datetime
    followers: int | None = None
    approximate: tuple[str, ...] = ()
    lower_bound: tuple[str, ...] = ()
    ip_location: str | None = None
    location: str | None = None
    country: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class PostRow:
    """A post with its newest counts at or before ``as_of``."""

    account_id: int
    platform: str
    published_at: datetime | None
    text: str | None = None
    title: str | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    first_seen_at: datetime | None = None
    url: str | None = None
    post_id: str = ""

    # Derived once at construction: every feature reads them, some several times.
    when: datetime | None = field(init=False, compare=False, repr=False)
    content: str = field(init=False, compare=False, repr=False)
    engagement: int | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Publication time; the first time we saw the post when the platform gave none.
        when = self.published_at or self.first_seen_at
        object.__setattr__(self, "when", _utc(when) if when is not None else None)
        object.__setattr__(self, "content", "\n".join(part for part in (self.title, self.text) if part))
        # likes + comments + shares over the counts the platform showed; None if it showed none.
        counts = [c for c in (self.likes, self.comments, self.shares) if c is not None]
        object.__setattr__(self, "engagement", sum(counts) if counts else None)


@dataclass(frozen=True)
class PressRow:
    """An overseas press mention (from ``storage.models.PressMention``)."""

    published_at: datetime | None
    canonical_url: str | None = None
    outlet_domain: str | None = None
    country: str | None = None
    language: str | None = None
    confidence: float | None = None
    status: str = "confirmed"
    title: str | None = None


@dataclass
class CandidateInput:
    """Everything the features of one candidate are computed from.

    ``press`` is None when press data does not exist (no press module, table, or search for
    this candidate): press features are then NULL, not 0.
    """

    candidate_id: int
    snapshots: list[SnapshotRow] = field(default_factory=list)
    posts: list[PostRow] = field(default_factory=list)
    press: list[PressRow] | None = None
    accounts: dict[int, str] = field(default_factory=dict)  # account id -> platform


# --------------------------------------------------------------------------- helpers


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400.0


def _utc(value: datetime) -> datetime:
    if value.tzinfo is timezone.utc:  # what the database layer returns: the common, fast case
        return value
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _median(values: Iterable[float | int | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(statistics.median(present)) if present else None


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def _by_account(snapshots: Iterable[SnapshotRow], as_of: datetime) -> dict[int, list[SnapshotRow]]:
    grouped: dict[int, list[SnapshotRow]] = defaultdict(list)
    for row in snapshots:
        if _utc(row.captured_at) <= as_of:
            grouped[row.account_id].append(row)
    for rows in grouped.values():
        rows.sort(key=lambda r: (_utc(r.captured_at), r.id or 0))
    return grouped


def _is_rounded(row: SnapshotRow) -> bool:
    return "followers" in row.approximate or "followers" in row.lower_bound


# --------------------------------------------------------------------------- reach and freshness


def reach_features(snapshots: Sequence[SnapshotRow], accounts: Mapping[int, str], as_of: datetime,
                   *, grouped: Mapping[int, list[SnapshotRow]] | None = None) -> dict[str, Any]:
    """Followers per platform (newest snapshot with a follower count), domestic/overseas totals,
    how many are rounded, and how old each platform's newest snapshot is."""
    by_account = grouped if grouped is not None else _by_account(snapshots, as_of)
    followers: dict[str, int] = {}
    rounded: set[str] = set()
    lower: set[str] = set()
    newest: dict[str, datetime] = {}
    for account_id, rows in by_account.items():
        platform = rows[-1].platform
        seen = _utc(rows[-1].captured_at)
        newest[platform] = max(newest[platform], seen) if platform in newest else seen
        counted = [r for r in rows if r.followers is not None]
        if not counted:
            continue
        last = counted[-1]
        followers[platform] = followers.get(platform, 0) + int(last.followers)  # type: ignore[arg-type]
        if _is_rounded(last):
            rounded.add(platform)
        if "followers" in last.lower_bound:
            lower.add(platform)

    out: dict[str, Any] = {}
    for platform in PLATFORMS:
        out[f"followers_{platform}"] = followers.get(platform)
    domestic = [v for p, v in followers.items() if p in DOMESTIC]
    overseas = [v for p, v in followers.items() if p in OVERSEAS]
    out["followers_domestic"] = sum(domestic) if domestic else None
    out["followers_overseas"] = sum(overseas) if overseas else None
    known = domestic + overseas
    out["followers_total"] = sum(known) if known else None
    total = out["followers_total"]
    registered_overseas = any(p in OVERSEAS for p in accounts.values())
    if not total:
        out["overseas_share"] = None
    elif out["followers_overseas"] is not None:
        out["overseas_share"] = out["followers_overseas"] / total
    else:  # no overseas numbers: a share of 0 only when the candidate has no overseas account at all
        out["overseas_share"] = None if registered_overseas else 0.0
    out["platforms_with_data"] = len(followers)
    out["platforms_registered"] = len(set(accounts.values()))
    out["followers_approximate_platforms"] = len(rounded) if followers else None
    out["followers_lower_bound_platforms"] = len(lower) if followers else None
    ages = {p: round(_days(as_of - t), 3) for p, t in newest.items()}
    for platform in PLATFORMS:
        out[f"snapshot_age_days_{platform}"] = ages.get(platform)
    out["newest_snapshot_age_days"] = min(ages.values()) if ages else None
    out["oldest_snapshot_age_days"] = max(ages.values()) if ages else None
    out["stale_platforms"] = sorted(p for p, age in ages.items() if age > STALE_AFTER_DAYS)
    out["missing_platforms"] = sorted(set(accounts.values()) - set(newest))
    return out


# --------------------------------------------------------------------------- growth


@dataclass(frozen=True)
class Growth:
    absolute: int
    relative: float | None
    base_followers: int
    base_at: datetime
    end_at: datetime
    approximate: bool


def account_growth(rows: Sequence[SnapshotRow], as_of: datetime, days: int) -> Growth | None:
    """Follower change over the ``days`` before ``as_of`` for one account's history.

    End: the newest snapshot with a follower count at or before ``as_of``; it must fall
    inside the window. Base: the nearest snapshot at or before the window start; it may
    be at most one window older than the start (no bridging of longer gaps). Otherwise None.
    """
    counted = sorted((r for r in rows if r.followers is not None and _utc(r.captured_at) <= as_of),
                     key=lambda r: (_utc(r.captured_at), r.id or 0))
    return _growth(counted, [_utc(r.captured_at) for r in counted], as_of, days)


def _growth(counted: Sequence[SnapshotRow], times: Sequence[datetime], as_of: datetime, days: int) -> Growth | None:
    """account_growth over rows already filtered (followers known, <= as_of) and sorted by time."""
    if not counted:
        return None
    start = as_of - timedelta(days=days)
    end = counted[-1]
    if times[-1] <= start:
        return None
    position = bisect.bisect_right(times, start) - 1
    if position < 0 or start - times[position] > timedelta(days=days):
        return None
    base = counted[position]
    base_value, end_value = int(base.followers), int(end.followers)  # type: ignore[arg-type]
    absolute = end_value - base_value
    return Growth(absolute, absolute / base_value if base_value else None, base_value,
                  times[position], times[-1], _is_rounded(end) or _is_rounded(base))


def growth_features(snapshots: Sequence[SnapshotRow], as_of: datetime, windows: Sequence[int] = GROWTH_WINDOWS,
                    *, grouped: Mapping[int, list[SnapshotRow]] | None = None) -> dict[str, Any]:
    """Absolute and relative follower change per platform and in total for each window.

    A platform with several accounts has growth only when every one of them has it. The
    total sums the platforms that have growth (``growth_<N>d_platforms`` says how many).
    """
    by_account = grouped if grouped is not None else _by_account(snapshots, as_of)
    histories = []
    for rows in by_account.values():
        counted = [r for r in rows if r.followers is not None]
        histories.append((rows[-1].platform, counted, [_utc(r.captured_at) for r in counted]))
    out: dict[str, Any] = {}
    for days in windows:
        per_platform: dict[str, list[Growth | None]] = defaultdict(list)
        for platform, counted, times in histories:
            per_platform[platform].append(_growth(counted, times, as_of, days))
        total_abs, total_base, approximate, platforms = 0, 0, False, 0
        for platform in PLATFORMS:
            found = per_platform.get(platform)
            growths = [g for g in found or [] if g is not None]
            if not found or len(growths) != len(found):
                out[f"growth_{days}d_{platform}_abs"] = None
                out[f"growth_{days}d_{platform}_rel"] = None
                continue
            absolute = sum(g.absolute for g in growths)
            base = sum(g.base_followers for g in growths)
            out[f"growth_{days}d_{platform}_abs"] = absolute
            out[f"growth_{days}d_{platform}_rel"] = absolute / base if base else None
            total_abs += absolute
            total_base += base
            approximate = approximate or any(g.approximate for g in growths)
            platforms += 1
        out[f"growth_{days}d_abs"] = total_abs if platforms else None
        out[f"growth_{days}d_rel"] = total_abs / total_base if platforms and total_base else None
        out[f"growth_{days}d_platforms"] = platforms
        out[f"growth_{days}d_approximate"] = approximate if platforms else None
    return out


# --------------------------------------------------------------------------- posts: engagement, cadence, content


def recent_posts(posts: Iterable[PostRow], as_of: datetime, days: int = RECENT_DAYS) -> list[PostRow]:
    start = as_of - timedelta(days=days)
    return [p for p in posts if p.when is not None and start < _utc(p.when) <= as_of]


def engagement_features(posts: Sequence[PostRow], followers_by_account: Mapping[int, int], as_of: datetime) -> dict[str, Any]:
    """Median engagement per recent post and per follower, and posts per week.

    Cadence per account = posts in the recent window / the weeks the stored posts cover
    (from the oldest stored post, at most the window), summed over accounts; accounts
    whose posts were never collected add nothing and, if none were, cadence is NULL.
    """
    recent = recent_posts(posts, as_of)
    per_follower = []
    for post in recent:
        followers = followers_by_account.get(post.account_id)
        if post.engagement is not None and followers:
            per_follower.append(post.engagement / followers)
    rates: list[float] = []
    by_account: dict[int, list[PostRow]] = defaultdict(list)
    for post in posts:
        if post.when is not None and _utc(post.when) <= as_of:
            by_account[post.account_id].append(post)
    recent_ids = {id(p) for p in recent}
    for account_posts in by_account.values():
        oldest = min(_utc(p.when) for p in account_posts)  # type: ignore[arg-type]
        covered = min(float(RECENT_DAYS), max(_days(as_of - oldest), 1.0))
        in_window = sum(1 for p in account_posts if id(p) in recent_ids)
        rates.append(in_window / covered * 7.0)
    return {
        "posts_recent": len(recent) if by_account else None,
        "engagement_median": _median(p.engagement for p in recent),
        "engagement_per_follower_median": _median(per_follower),
        "posts_per_week": round(sum(rates), 4) if rates else None,
    }


@lru_cache(maxsize=1)
def _foreign_place_names() -> tuple[tuple[str, str], ...]:
    """Country names in every locale enrichment.places knows, for countries other than CN.

    Latin names shorter than 4 letters ("us", "uk") are left out: as words they mean other
    things far more often than a country.
    """
    from enrichment.places import _country_names

    return tuple(
        (name, code) for name, code in _country_names().items()
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
    brand_engagement = _median(p.engagement for p in brand_posts)
    other_engagement = _median(p.engagement for p in other_posts)

    first_seen: dict[str, str] = {}
    for post in posts:
        when = post.when
        if when is None or _utc(when) > as_of or id(post) not in analyses:
            continue
        for brand in analyses[id(post)].brands:
            stamp = _utc(when).isoformat()
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
        "foreign_language_share": _share(sum(1 for lang in detected if lang != "zh"), len(detected)),
        "languages": sorted(set(detected)),
        "shopping_post_share": _share(sum(1 for p in with_text if "shopping" in analyses[id(p)].groups), len(with_text)),
        "trend_post_share": _share(sum(1 for p in with_text if "trends" in analyses[id(p)].groups), len(with_text)),
        "brands_distinct": len(brands) if has_text else None,
        "brand_countries_distinct": len(countries) if has_text else None,
        "brand_countries": sorted(countries),
        "brand_categories": sorted({b.category for b in brands}),
        "brands": sorted(b.name for b in brands),
        "brands_by_country": {k: v for k, v in sorted(by_country.items())},
        "brand_mentions": dict(sorted(mention_counts.items())),
        "brand_posts": len(brand_posts) if has_text else None,
        "brand_post_share": _share(len(brand_posts), len(with_text)),
        "brand_engagement_median": brand_engagement,
        "nonbrand_engagement_median": other_engagement,
        "brand_engagement_ratio": (brand_engagement / other_engagement
                                   if brand_engagement is not None and other_engagement else None),
        "sourcing_posts": len(sourcing) if has_text else None,
        "sourcing_trip_posts": len(trips) if has_text else None,
        "sourcing_trip_countries": sorted({c for p in trips for c in analyses[id(p)].foreign_places}),
        "brand_first_seen": dict(sorted(first_seen.items())),
    }


# --------------------------------------------------------------------------- overseas living


def overseas_living_features(snapshots: Sequence[SnapshotRow], as_of: datetime) -> dict[str, Any]:
    """IP location outside mainland China (which platforms, which countries, when last seen)
    and a self-declared location outside it, from each account's newest snapshot showing one
    within PLACE_LOOKBACK_DAYS of ``as_of``.

    ``ip_abroad`` is None when no platform showed an IP location at all.
    """
    from enrichment.places import country_code, strip_ip_prefix

    lookback = as_of - timedelta(days=PLACE_LOOKBACK_DAYS)
    by_account = _by_account((s for s in snapshots if _utc(s.captured_at) > lookback), as_of)
    ip_countries: dict[str, str] = {}
    abroad_platforms: set[str] = set()
    abroad_seen: datetime | None = None
    declared: set[str] = set()
    any_declared = False
    for rows in by_account.values():
        with_ip = [r for r in rows if strip_ip_prefix(r.ip_location)]
        if with_ip:
            row = with_ip[-1]
            code = country_code(strip_ip_prefix(row.ip_location))
            if code is not None:
                ip_countries[row.platform] = code
                if code != "CN":
                    abroad_platforms.add(row.platform)
                    seen = _utc(row.captured_at)
                    abroad_seen = seen if abroad_seen is None or seen > abroad_seen else abroad_seen
        with_place = [r for r in rows if (r.location and r.location.strip()) or r.country]
        if with_place:
            row = with_place[-1]
            code = country_code(row.location) if row.location and row.location.strip() else None
            code = code or (row.country.upper() if row.country else None)
            if code is not None:
                any_declared = True
                if code != "CN":
                    declared.add(code)
    return {
        "ip_abroad": bool(abroad_platforms) if ip_countries else None,
        "ip_abroad_platforms": sorted(abroad_platforms),
        "ip_countries": sorted(set(ip_countries.values())),
        "ip_abroad_seen_at": abroad_seen.isoformat() if abroad_seen else None,
        "declared_abroad": bool(declared) if any_declared else None,
        "declared_countries": sorted(declared),
    }


# --------------------------------------------------------------------------- press


def press_features(press: Sequence[PressRow] | None, as_of: datetime) -> dict[str, Any]:
    """Confirmed overseas press mentions over 30/90/365 days, distinct outlets, countries and
    languages, and a score weighting each by confidence and recency (halved every
    PRESS_HALF_LIFE_DAYS). All NULL when there is no press data.

    A mention counts when it is confirmed, not a possible namesake (confidence at least
    ``MIN_CONFIDENCE``; NULL counts as 0.5) and its outlet's country is known and not CN: an
    outlet of unknown country is not evidence of *overseas* coverage."""
    keys = [f"press_{d}d" for d in PRESS_WINDOWS] + [
        "press_weighted_365d", "press_outlets_365d", "press_countries_365d", "press_languages_365d",
        "press_unconfirmed_365d", "press_last_at",
    ]
    if press is None:
        return dict.fromkeys(keys)
    dated = [m for m in press if m.published_at is not None and _utc(m.published_at) <= as_of
             and m.country is not None and m.country != "CN"]

    def counted(mention: PressRow) -> bool:
        return mention.status == "confirmed" and (mention.confidence is None or mention.confidence >= MIN_CONFIDENCE)

    def within(days: int, keep: Callable[[PressRow], bool] = counted) -> list[PressRow]:
        start = as_of - timedelta(days=days)
        return [m for m in dated if keep(m) and _utc(m.published_at) > start]  # type: ignore[arg-type]

    out: dict[str, Any] = {f"press_{d}d": len(within(d)) for d in PRESS_WINDOWS}
    year = within(365)
    out["press_weighted_365d"] = round(sum(
        (m.confidence if m.confidence is not None else 0.5)
        * math.pow(0.5, _days(as_of - _utc(m.published_at)) / PRESS_HALF_LIFE_DAYS)  # type: ignore[arg-type]
        for m in year
    ), 6)
    out["press_outlets_365d"] = len({m.outlet_domain for m in year if m.outlet_domain})
    out["press_countries_365d"] = len({m.country for m in year if m.country})
    out["press_languages_365d"] = len({m.language for m in year if m.language})
    out["press_unconfirmed_365d"] = len(within(365, lambda m: m.status == "unconfirmed"))
    confirmed = [m for m in dated if counted(m)]
    out["press_last_at"] = max(_utc(m.published_at) for m in confirmed).isoformat() if confirmed else None  # type: ignore[arg-type]
    return out


# --------------------------------------------------------------------------- all features of one candidate


def compute_features(
    data: CandidateInput,
    as_of: datetime,
    *,
    brands: BrandFinder | None = None,
    keywords: KeywordGroups | None = None,
    analyses: Mapping[int, PostAnalysis] | None = None,
) -> dict[str, Any]:
    """Every per-candidate feature (a flat dict; see FEATURE_SPECS for names and types).

    ``analyses`` (from :func:`analyse_posts`) may be passed when posts were analysed in a batch.
    """
    as_of = _utc(as_of)
    features: dict[str, Any] = {}
    grouped = _by_account(data.snapshots, as_of)
    features.update(reach_features(data.snapshots, data.accounts, as_of, grouped=grouped))
    features.update(growth_features(data.snapshots, as_of, grouped=grouped))
    latest_followers: dict[int, int] = {}
    for account_id, rows in grouped.items():
        counted = [r for r in rows if r.followers is not None]
        if counted:
            latest_followers[account_id] = int(counted[-1].followers)  # type: ignore[arg-type]
    features.update(engagement_features(data.posts, latest_followers, as_of))
    if analyses is None:
        analyses = analyse_posts([p for p in data.posts if p.when is not None and _utc(p.when) <= as_of], brands, keywords)
    features.update(content_features(data.posts, analyses, as_of))
    features.update(overseas_living_features(data.snapshots, as_of))
    features.update(press_features(data.press, as_of))
    # Cohort-relative: filled by enrichment.indices.add_earliness once all candidates are known.
    features.update({"earliness_first_share": None, "earliness_lead_days": None, "earliness_brands_compared": None})
    return features


# --------------------------------------------------------------------------- the documented column schema


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    type: str  # int | float | bool | str | datetime | list | map
    description: str


def _specs() -> list[FeatureSpec]:
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
    return s


FEATURE_SPECS: list[FeatureSpec] = _specs()
FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in FEATURE_SPECS)

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
    [FeatureSpec(f"{n}_index", "float", f"{n.replace('_', '-')} index 0..100") for n in ("leadership", "sales_driving", "influence", "composite")]
    + [FeatureSpec(f"{n}_coverage", "float", f"share (0..1) of the {n.replace('_', '-')} index's weight that had data")
       for n in ("leadership", "sales_driving", "influence", "composite")]
    + [FeatureSpec("top_contributors", "map", "index -> its top components (component, value, percentile, weight, points)")]
)
EXPORT_COLUMNS: tuple[FeatureSpec, ...] = META_COLUMNS + tuple(FEATURE_SPECS) + INDEX_SPECS


# --------------------------------------------------------------------------- reading the database (the one loader)


def _chunks(values: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


@dataclass
class Watermark:
    snapshot: int | None = None
    post_snapshot: int | None = None
    press: int | None = None


def _flags(raw: Any) -> tuple[str, ...]:
    """A JSON list column read as text (SQLite) or already decoded (PostgreSQL's driver)."""
    if raw is None or raw == "[]":
        return ()
    if isinstance(raw, str):
        raw = json.loads(raw)
    return tuple(raw)


def _press_model():  # type: ignore[no-untyped-def]
    """storage.models.PressMention, or None when press storage is not installed."""
    try:
        from storage.models import PressMention  # type: ignore[import-not-found]
    except ImportError:
        return None
    return PressMention


def _has_table(session: Any, name: str) -> bool:
    from sqlalchemy import inspect

    return inspect(session.get_bind()).has_table(name)


def load_inputs(
    session: Any, candidate_ids: Sequence[int], as_of: datetime
) -> tuple[dict[int, CandidateInput], dict[int, Watermark]]:
    """Read what the features of these candidates need, as plain rows.

    Snapshots: per account, the newest snapshot, the newest with a follower count, the
    nearest one at or before each growth window start (no older than one window before it),
    and the newest showing an IP location or a declared place (within PLACE_LOOKBACK_DAYS);
    each is an index seek on (account_id, captured_at), and only those rows are fetched.
    """
    from sqlalchemy import String, func, select, type_coerce

    from storage.models import Account, Post, PostSnapshot, ProfileSnapshot as PS

    as_of = _utc(as_of)
    wanted = set(candidate_ids)
    inputs = {cid: CandidateInput(candidate_id=cid) for cid in candidate_ids}
    marks = {cid: Watermark() for cid in candidate_ids}
    owner: dict[int, int] = {}
    rows = session.execute(select(Account.id, Account.candidate_id, Account.platform).where(Account.candidate_id.is_not(None))).all()
    for account_id, candidate_id, platform in rows:
        if candidate_id in wanted:
            owner[account_id] = candidate_id
            inputs[candidate_id].accounts[account_id] = platform
    if not owner:
        return inputs, marks
    platform_of = {a: inputs[c].accounts[a] for a, c in owner.items()}
    everyone = len(owner) == len(rows)

    # One row per account: the ids of the snapshots the features read, each found by a seek
    # on (account_id, captured_at) walking back from a time bound.
    def newest(*conditions):  # type: ignore[no-untyped-def]
        return (select(PS.id).where(PS.account_id == Account.id, *conditions)
                .order_by(PS.captured_at.desc(), PS.id.desc()).limit(1).correlate(Account).scalar_subquery())

    lookback = as_of - timedelta(days=PLACE_LOOKBACK_DAYS)
    point_columns = [
        newest(PS.captured_at <= as_of),
        newest(PS.captured_at <= as_of, PS.followers.is_not(None)),
        *[newest(PS.captured_at <= as_of - timedelta(days=d), PS.captured_at >= as_of - timedelta(days=2 * d),
                 PS.followers.is_not(None)) for d in GROWTH_WINDOWS],
        newest(PS.captured_at <= as_of, PS.captured_at > lookback, PS.ip_location.is_not(None)),
        newest(PS.captured_at <= as_of, PS.captured_at > lookback, (PS.location.is_not(None)) | (PS.country.is_not(None))),
    ]
    top_id = select(func.max(PS.id)).where(PS.account_id == Account.id).correlate(Account).scalar_subquery()
    points = select(Account.id, top_id, *point_columns)
    found = []
    if everyone:
        found = session.execute(points.where(Account.candidate_id.is_not(None))).all()
    else:
        for chunk in _chunks(list(owner)):
            found.extend(session.execute(points.where(Account.id.in_(chunk))).all())
    snapshot_ids: set[int] = set()
    for account_id, max_id, *ids in found:
        cid = owner.get(account_id)
        if cid is None:
            continue
        if max_id is not None:
            marks[cid].snapshot = max(marks[cid].snapshot or 0, max_id)
        snapshot_ids.update(i for i in ids if i is not None)
    for chunk in _chunks(sorted(snapshot_ids)):
        # The JSON flag lists come as text ("[]" almost always): decoded only when not empty.
        fetched = session.execute(
            select(PS.id, PS.account_id, PS.captured_at, PS.followers, type_coerce(PS.approximate, String),
                   type_coerce(PS.lower_bound, String), PS.ip_location, PS.location, PS.country).where(PS.id.in_(chunk))
        ).all()
        for sid, account_id, captured_at, followers, approximate, lower, ip, location, country in fetched:
            inputs[owner[account_id]].snapshots.append(SnapshotRow(
                account_id=account_id, platform=platform_of[account_id], captured_at=captured_at, followers=followers,
                approximate=_flags(approximate), lower_bound=_flags(lower), ip_location=ip,
                location=location, country=country, id=sid,
            ))

    newest = select(PostSnapshot.post_id, func.max(PostSnapshot.id).label("id")).where(PostSnapshot.captured_at <= as_of) \
        .group_by(PostSnapshot.post_id).subquery()
    post_query = (
        select(Post.account_id, Post.platform, Post.post_id, Post.url, Post.published_at, Post.first_seen_at, Post.title,
               Post.text, PostSnapshot.likes, PostSnapshot.comments, PostSnapshot.shares, PostSnapshot.views)
        .outerjoin(newest, newest.c.post_id == Post.id)
        .outerjoin(PostSnapshot, PostSnapshot.id == newest.c.id)
    )
    mark_query = select(Post.account_id, func.max(PostSnapshot.id)).join(PostSnapshot, PostSnapshot.post_id == Post.id).group_by(Post.account_id)
    post_rows, mark_rows = [], []
    if everyone:
        post_rows = session.execute(post_query).all()
        mark_rows = session.execute(mark_query).all()
    else:
        for chunk in _chunks(list(owner)):
            post_rows.extend(session.execute(post_query.where(Post.account_id.in_(chunk))).all())
            mark_rows.extend(session.execute(mark_query.where(Post.account_id.in_(chunk))).all())
    for account_id, platform, post_id, url, published, first_seen, title, text, likes, comments, shares, views in post_rows:
        cid = owner.get(account_id)
        if cid is None:
            continue
        inputs[cid].posts.append(PostRow(
            account_id=account_id, platform=platform, published_at=published, text=text, title=title, likes=likes,
            comments=comments, shares=shares, views=views, first_seen_at=first_seen, url=url, post_id=post_id,
        ))
    for account_id, max_id in mark_rows:
        cid = owner.get(account_id)
        if cid is not None and max_id is not None:
            marks[cid].post_snapshot = max(marks[cid].post_snapshot or 0, max_id)

    _load_press(session, inputs, marks)
    return inputs, marks


def _load_press(session: Any, inputs: dict[int, CandidateInput], marks: dict[int, Watermark]) -> None:
    """Press mentions per candidate; ``press`` stays None for candidates never searched."""
    from sqlalchemy import select

    model = _press_model()
    if model is None or not _has_table(session, model.__tablename__):
        return
    ids = list(inputs)
    searched: set[int] = set()
    for chunk in _chunks(ids):
        for mention in session.execute(select(model).where(model.candidate_id.in_(chunk))).scalars():
            cid = mention.candidate_id
            if inputs[cid].press is None:
                inputs[cid].press = []
            searched.add(cid)
            marks[cid].press = max(marks[cid].press or 0, mention.id or 0)
            inputs[cid].press.append(PressRow(
                published_at=getattr(mention, "published_at", None),
                canonical_url=getattr(mention, "canonical_url", None),
                outlet_domain=getattr(mention, "outlet_domain", None),
                country=getattr(mention, "country", None),
                language=getattr(mention, "language", None),
                confidence=getattr(mention, "confidence", None),
                status=getattr(mention, "status", "confirmed") or "confirmed",
                title=getattr(mention, "title", None),
            ))
    # A candidate whose press search ran and found nothing has zero mentions, not unknown ones.
    try:
        from storage.models import Lease
    except ImportError:
        return
    if not _has_table(session, Lease.__tablename__):
        return
    for chunk in _chunks(ids):
        for lease in session.execute(select(Lease).where(Lease.platform == "press", Lease.subject_id.in_(chunk))).scalars():
            if lease.subject_id not in searched and (lease.refreshed or {}).get("press"):
                inputs[lease.subject_id].press = []


# --------------------------------------------------------------------------- enrich: compute, persist, rank


@dataclass
class EnrichResult:
    computed: int = 0
    ranked: int = 0
    skipped: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def changed_candidates(session: Any, candidate_ids: Sequence[int]) -> list[int]:
    """Candidates with snapshots, post snapshots or press mentions newer than their newest
    feature snapshot saw (and those never enriched)."""
    from sqlalchemy import func, select

    from storage.models import FeatureSnapshot as FS
    from storage.models import Account, Post, PostSnapshot, ProfileSnapshot

    newest = select(func.max(FS.id)).group_by(FS.candidate_id)
    seen: dict[int, Watermark] = {
        cid: Watermark(s, p, m) for cid, s, p, m in session.execute(
            select(FS.candidate_id, FS.max_snapshot_id, FS.max_post_snapshot_id, FS.max_press_id).where(FS.id.in_(newest))
        ).all()
    }
    changed = {cid for cid in candidate_ids if cid not in seen}
    known = [cid for cid in candidate_ids if cid in seen]
    if not known:
        return sorted(changed)

    def newer(query, mark_of):  # type: ignore[no-untyped-def]
        for cid, max_id in session.execute(query).all():
            if cid in seen and max_id is not None and max_id > (mark_of(seen[cid]) or 0):
                changed.add(cid)

    low = min(seen[c].snapshot or 0 for c in known)
    newer(select(Account.candidate_id, func.max(ProfileSnapshot.id)).join(Account, Account.id == ProfileSnapshot.account_id)
          .where(ProfileSnapshot.id > low).group_by(Account.candidate_id), lambda w: w.snapshot)
    low = min(seen[c].post_snapshot or 0 for c in known)
    newer(select(Account.candidate_id, func.max(PostSnapshot.id)).join(Post, Post.id == PostSnapshot.post_id)
          .join(Account, Account.id == Post.account_id).where(PostSnapshot.id > low).group_by(Account.candidate_id),
          lambda w: w.post_snapshot)
    model = _press_model()
    if model is not None and _has_table(session, model.__tablename__):
        low = min(seen[c].press or 0 for c in known)
        newer(select(model.candidate_id, func.max(model.id)).where(model.id > low).group_by(model.candidate_id), lambda w: w.press)
    wanted = set(candidate_ids)
    return sorted(changed & wanted)


def enrich(
    session: Any,
    candidate_ids: Sequence[int] | None = None,
    *,
    as_of: datetime | None = None,
    force: bool = False,
    weights: Any = None,
) -> EnrichResult:
    """Compute features for candidates with new data (all given ones with ``force``), store a
    FeatureSnapshot for each, then re-rank the cohort. Returns counts and timings."""
    import time

    from sqlalchemy import insert, select

    from enrichment.indices import load_weights
    from storage.features import FEATURE_COLUMNS
    from storage.models import FeatureSnapshot
    from storage.models import Candidate
    from storage.models import utcnow

    result = EnrichResult()
    clock = time.perf_counter()
    as_of = _utc(as_of) if as_of is not None else utcnow()
    weights = weights or load_weights(known_features=FEATURE_NAMES)
    active = [cid for (cid,) in session.execute(select(Candidate.id).where(Candidate.active == True)).all()]  # noqa: E712
    targets = list(candidate_ids) if candidate_ids is not None else active
    todo = targets if force else changed_candidates(session, targets)
    result.skipped = len(targets) - len(todo)
    result.timings["detect changes"] = time.perf_counter() - clock

    clock = time.perf_counter()
    inputs, marks = load_inputs(session, todo, as_of) if todo else ({}, {})
    result.timings["load"] = time.perf_counter() - clock

    clock = time.perf_counter()
    posts = [p for cid in todo for p in inputs[cid].posts if p.when is not None and _utc(p.when) <= as_of]
    analyses = analyse_posts(posts)
    result.timings["analyse posts"] = time.perf_counter() - clock
    clock = time.perf_counter()
    now = utcnow()
    rows = []
    for cid in todo:
        features = compute_features(inputs[cid], as_of, analyses=analyses)
        row: dict[str, Any] = {
            "candidate_id": cid, "computed_at": now, "as_of": as_of, "ranked_at": None,
            "schema_version": SCHEMA_VERSION, "features": _jsonable(features), "top_contributors": {},
            "max_snapshot_id": marks[cid].snapshot, "max_post_snapshot_id": marks[cid].post_snapshot,
            "max_press_id": marks[cid].press,
        }
        row.update({name: features.get(name) for name in FEATURE_COLUMNS})
        row.update(dict.fromkeys(("leadership_index", "sales_driving_index", "influence_index", "composite_index",
                                  "leadership_coverage", "sales_driving_coverage", "influence_coverage",
                                  "composite_coverage")))
        rows.append(row)
    result.timings["compute"] = time.perf_counter() - clock

    clock = time.perf_counter()
    for chunk in _chunks(rows, 500):
        session.execute(insert(FeatureSnapshot.__table__), list(chunk))
    session.flush()
    result.computed = len(rows)
    result.timings["store"] = time.perf_counter() - clock

    clock = time.perf_counter()
    active_set = set(active)
    extra = [cid for cid in (candidate_ids or []) if cid not in active_set]
    result.ranked = rank_cohort(session, list(active) + extra, weights=weights)
    result.timings["rank"] = time.perf_counter() - clock
    log.info("enrich: %d candidate(s) computed, %d unchanged, %d ranked in %.2f s", result.computed, result.skipped,
             result.ranked, sum(result.timings.values()))
    return result


def _jsonable(features: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in features.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[key] = value
    return out


def rank_cohort(session: Any, cohort: Sequence[int], *, weights: Any = None) -> int:
    """Re-rank the newest feature snapshot of every cohort member: earliness, indices, coverage,
    top contributors. Returns how many rows were ranked."""
    from sqlalchemy import bindparam, func, select, update

    from enrichment.indices import earliness, load_weights, score_cohort
    from storage.models import FeatureSnapshot as FS
    from storage.models import utcnow

    weights = weights or load_weights(known_features=FEATURE_NAMES)
    members = set(cohort)
    newest = select(func.max(FS.id)).group_by(FS.candidate_id)
    latest = {cid: (fid, dict(features)) for fid, cid, features in
              session.execute(select(FS.id, FS.candidate_id, FS.features).where(FS.id.in_(newest))).all()
              if cid in members}
    if not latest:
        return 0
    early = earliness({cid: f.get("brand_first_seen") or {} for cid, (_, f) in latest.items()})
    for cid, (_, features) in latest.items():
        features.update(early[cid])
    scores = score_cohort({cid: f for cid, (_, f) in latest.items()}, weights)
    now = utcnow()
    table = FS.__table__
    statement = update(table).where(table.c.id == bindparam("_id")).values(
        features=bindparam("_features"), ranked_at=bindparam("_ranked_at"),
        top_contributors=bindparam("_top"),
        **{name: bindparam(f"_{name}") for name in (
            "leadership_index", "sales_driving_index", "influence_index", "composite_index",
            "leadership_coverage", "sales_driving_coverage", "influence_coverage", "composite_coverage")},
    )
    params = []
    for cid, (fid, features) in latest.items():
        score = scores[cid]
        item = {"_id": fid, "_features": features, "_ranked_at": now, "_top": score["top_contributors"]}
        item.update({f"_{k}": v for k, v in score.items() if k != "top_contributors"})
        params.append(item)
    session.connection().execute(statement, params)
    return len(params)


def enrich_all(session: Any) -> int:
    """What ``wangzi demo`` calls: enrich every active candidate with new data, re-rank the
    cohort; returns how many candidates got new features."""
    return enrich(session).computed


# --------------------------------------------------------------------------- the export table


def feature_table(session: Any, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """One row per candidate (EXPORT_COLUMNS): its newest feature snapshot whose ``as_of`` is at
    or before the given time (default: the newest)."""
    from sqlalchemy import func, select

    from storage.models import FeatureSnapshot as FS
    from storage.models import Candidate

    newest = select(func.max(FS.id)).group_by(FS.candidate_id)
    if as_of is not None:
        newest = newest.where(FS.as_of <= _utc(as_of))
    rows = session.execute(
        select(FS, Candidate.display_name, Candidate.active).join(Candidate, Candidate.id == FS.candidate_id)
        .where(FS.id.in_(newest)).order_by(FS.candidate_id)
    ).all()
    out = []
    for snapshot, name, active in rows:
        row: dict[str, Any] = {
            "schema_version": snapshot.schema_version, "candidate_id": snapshot.candidate_id, "display_name": name,
            "active": active, "as_of": snapshot.as_of, "computed_at": snapshot.computed_at, "ranked_at": snapshot.ranked_at,
        }
        features = snapshot.features or {}
        for spec in FEATURE_SPECS:
            value = features.get(spec.name)
            if spec.type == "datetime" and isinstance(value, str):
                value = datetime.fromisoformat(value)
            row[spec.name] = value
        for spec in INDEX_SPECS:
            row[spec.name] = getattr(snapshot, spec.name)
        out.append(row)
    return out
