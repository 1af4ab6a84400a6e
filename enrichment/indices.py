"""The three indices (leadership, sales-driving, influence) and the composite, 0-100.

**Percentiles.** Each component (a feature named in ``data/weights.toml``) is percentile-ranked
against a *reference*: the distribution of that component over a cohort. The reference is
either the live cohort (every active candidate's newest feature row, rebuilt at every ranking)
or a frozen one (``wangzi reference freeze``), so a candidate's score does not move when
others join. For a value *x* in a reference of *n* values, with *less* values below it and
*equal* values equal to it::

    pct(x) = 100 · (less + equal/2 − 1/2) / (n − 1), clipped to 0..100

which is the mid-rank percentile (lowest 0, highest 100, ties averaged) for a value of the
reference itself, and puts a new value halfway between its neighbours.

A yes/no component (``ip_abroad``, ``declared_abroad``) is evidence on an absolute scale, not
a rank: ``true`` is 100 and ``false`` 0 whoever else is abroad, so ``true`` always beats
``false`` (as a rank, ``true`` got 50 when everyone known was abroad). A numeric component
whose reference values do not differ (fewer than two distinct values: every known brand count
is 0, one candidate has press) carries no information and is left out for everyone: it is
neither data (coverage) nor a pull towards the middle.

**Tiers.** Followers put each platform account, and the candidate, in a size tier
(:mod:`enrichment.tiers`: nano, micro, mid, macro, mega; edges configurable under ``[tiers]``).
The components listed in ``[tiers] within_tier`` (engagement rate, growth rates) are ranked
only against the same tier: a component with a per-platform breakdown
(``<name>_by_platform``) per platform among accounts of that platform and tier, averaged over
the candidate's platforms; the others among candidates of the candidate's tier (the highest of
its platforms). Absolute reach stays cohort-wide.

**Index, coverage, score.** For an index with weights *w_c* over its components::

    index    = Σ_{c with data} w_c · pct_c / Σ_{c with data} w_c        (the raw index; NULL without data)
    coverage = Σ_{c with data} w_c / Σ_c w_c                            (0..1)
    score    = coverage · index + (1 − coverage) · 50
             = 50 + Σ_{c with data} w_c · (pct_c − 50) / Σ_c w_c          (NULL without data)

50 is the prior: the cohort's typical percentile (the mean and median of mid-rank
percentiles). A component without data counts as typical instead of being dropped, so an
index resting on one lucky component stays near 50 and cannot beat a well-covered one; the
ranking sorts by the score and keeps the raw index and its coverage beside it. A component's
*points* are its term ``w_c · (pct_c − 50) / Σ_c w_c``, how far it moves the score from 50.
The composite: ``score`` = the weighted mean of the index scores (an index without data counts
50), ``index`` = the weighted mean of the raw indices that have data, ``coverage`` = the
weighted mean of the coverages.

Also here: earliness, the one cohort-relative feature (who mentioned a brand first), among the
live cohort or against a frozen reference's first mentions.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import statistics
import tomllib
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from enrichment.features import PLATFORMS
from enrichment.schema import (
    COMPOSITE,
    COVERAGE_COLUMNS,
    INDEX_COLUMNS,
    INDICES,
    SCORE_COLUMNS,
    coverage_column,
    index_column,
    score_column,
)
from enrichment.tiers import TIER_EDGES, TIERS, tier_at

WEIGHTS_FILE = Path(__file__).parent / "data" / "weights.toml"
TOP_CONTRIBUTORS = 3
#: The largest weight a weights file may give. Weights only count relative to each other (the
#: defaults are 1-2): at 1000 a component already outweighs a default one a thousandfold, so a
#: larger number is a typo, and an unbounded one (1e308) overflows the weighted sums to inf.
#: To let one component decide alone, give the others 0.
MAX_WEIGHT = 1000.0
#: What a component without data counts as: the cohort's typical percentile.
PRIOR = 50.0
#: Components ranked within their follower tier unless ``[tiers] within_tier`` says otherwise.
WITHIN_TIER = ("engagement_rate", "engagement_per_follower_median", "growth_7d_rel", "growth_30d_rel", "growth_90d_rel")
#: A stored reference keeps at most this many points of each distribution: exact below that
#: many distinct values, a rank-spaced sketch above it (percentiles within ±0.03).
MAX_KNOTS = 4096
#: The name of the reference that is the live cohort itself.
COHORT = "cohort"

K = TypeVar("K")
_isfinite = math.isfinite
_bisect_left = bisect.bisect_left


class WeightsError(ValueError):
    """The weights file is malformed or names a component that is not a feature."""


# --------------------------------------------------------------------------- tiers


@dataclass(frozen=True)
class Tiers:
    """Follower-size tiers: the edges (lowest follower count of each tier above the first),
    per-platform edges that replace them, and the components ranked within a tier."""

    edges: tuple[float, ...] = TIER_EDGES
    platform_edges: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    within_tier: tuple[str, ...] = WITHIN_TIER

    def tier(self, followers: float | None, platform: str | None = None) -> str | None:
        """The tier of an account with this many followers on a platform (None: not known)."""
        if followers is None:
            return None
        return tier_at(followers, self.platform_edges.get(platform or "", self.edges))

    def of(self, features: Mapping[str, Any]) -> tuple[str | None, dict[str, str]]:
        """The candidate's tier (the highest of its platforms') and each platform's tier, from
        the ``followers_<platform>`` features."""
        # What self.tier does per platform, with each platform's feature name and edges looked
        # up once (:attr:`_followers`): ranking calls this for every row, twice.
        by_platform = {}
        best = -1
        get = features.get
        for platform, name, edges in self._followers:
            followers = get(name)
            if followers is not None and (followers := _numeric(followers)) is not None:
                position = bisect.bisect_right(edges, followers)  # tier_at: TIERS[position]
                by_platform[platform] = TIERS[position]
                if position > best:  # (max() is a call: this runs for every platform of every row)
                    best = position
        return (TIERS[best] if best >= 0 else None), by_platform

    @cached_property
    def _followers(self) -> tuple[tuple[str, str, tuple[float, ...]], ...]:
        """(platform, its followers feature, its tier edges) for every platform, in order."""
        return tuple((p, f"followers_{p}", self.platform_edges.get(p, self.edges)) for p in PLATFORMS)

    @cached_property
    def _within(self) -> frozenset[str]:
        """:attr:`within_tier` as a set (scoring asks once per component and row)."""
        return frozenset(self.within_tier)

    def to_json(self) -> dict[str, Any]:
        return {"edges": list(self.edges), "platform_edges": {p: list(e) for p, e in self.platform_edges.items()},
                "within_tier": list(self.within_tier)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tiers:
        return cls(tuple(data["edges"]), {p: tuple(e) for p, e in data.get("platform_edges", {}).items()},
                   tuple(data.get("within_tier", ())))


def _tiers(path: Path, data: Any, known: set[str] | None) -> Tiers:
    if data is None:
        return Tiers()
    if not isinstance(data, dict):
        raise WeightsError(f"{path}: [tiers] must be a table")
    unknown = set(data) - {"edges", "within_tier", "platform"}
    if unknown:
        raise WeightsError(f"{path}: [tiers] {sorted(unknown)[0]} is not a setting (edges, within_tier, [tiers.platform])")

    def edges(where: str, value: Any) -> tuple[float, ...]:
        if (not isinstance(value, list) or len(value) != len(TIERS) - 1
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0 for v in value)
                or any(a >= b for a, b in zip(value, value[1:]))):
            raise WeightsError(f"{path}: {where} = {value!r}: give {len(TIERS) - 1} increasing follower counts, the lowest "
                               f"of {', '.join(TIERS[1:])}")
        return tuple(float(v) for v in value)

    default = edges("[tiers] edges", data["edges"]) if "edges" in data else TIER_EDGES
    platforms = data.get("platform", {})
    if not isinstance(platforms, dict):
        raise WeightsError(f"{path}: [tiers.platform] must be a table of platform = [edges]")
    per_platform = {}
    for platform, value in platforms.items():
        if platform not in PLATFORMS:
            raise WeightsError(f"{path}: [tiers.platform] {platform} is not a platform ({', '.join(PLATFORMS)})")
        per_platform[platform] = edges(f"[tiers.platform] {platform}", value)
    within = data.get("within_tier", list(WITHIN_TIER))
    if not isinstance(within, list) or not all(isinstance(name, str) for name in within):
        raise WeightsError(f"{path}: [tiers] within_tier must be a list of feature names")
    for name in within:
        if known is not None and name not in known:
            raise WeightsError(f"{path}: [tiers] within_tier names {name}, which is not a feature (see docs/features.md)")
    return Tiers(default, per_platform, tuple(within))


# --------------------------------------------------------------------------- weights


@dataclass(frozen=True)
class Weights:
    indices: dict[str, dict[str, float]]  # index -> component -> weight
    composite: dict[str, float]  # index -> weight
    source: str = "default"
    tiers: Tiers = field(default_factory=Tiers)

    @cached_property
    def components(self) -> list[str]:
        """Every weighted component once, in the order of the file."""
        return list(dict.fromkeys(c for table in self.indices.values() for c in table))

    @cached_property
    def fingerprint(self) -> str:
        """A hash of what the weights say (components, weights, tiers; not where they came from)."""
        text = json.dumps({"indices": self.indices, "composite": self.composite, "tiers": self.tiers.to_json()},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    @cached_property
    def ranking_inputs(self) -> tuple[str, ...]:
        """Every feature scoring reads (components, their per-platform breakdowns, followers
        for tiers, first mentions for earliness): what the stage keeps of each row."""
        names = list(RANKING_INPUTS)
        for component in self.components:
            names.append(component)
            if component in self.tiers.within_tier:
                names.append(f"{component}_by_platform")
        return tuple(dict.fromkeys(names))

    @cached_property
    def _plan(self) -> _ScoringPlan:
        """What :func:`score_candidate` derives from the weights alone, derived once."""
        index_weight = sum(self.composite.values())
        return _ScoringPlan(
            indices=tuple(_IndexPlan(name, table, sum(table.values()),
                                     self.composite.get(name, 0.0) / index_weight if index_weight else 0.0,
                                     index_column(name), coverage_column(name), score_column(name))
                          for name, table in self.indices.items()),
            composite=tuple((name, weight, index_column(name), coverage_column(name), score_column(name))
                            for name, weight in self.composite.items()),
            index_weight=index_weight)


@dataclass(frozen=True)
class _IndexPlan:
    """One index as scoring uses it: its weights, their sum, its share of the composite and its
    columns."""

    name: str
    table: dict[str, float]  # component -> weight
    total: float  # sum(table.values())
    share: float  # composite weight / sum of the composite weights (0 without any)
    index_column: str
    coverage_column: str
    score_column: str


@dataclass(frozen=True)
class _ScoringPlan:
    indices: tuple[_IndexPlan, ...]
    composite: tuple[tuple[str, float, str, str, str], ...]  # (index, weight, its three columns)
    index_weight: float  # sum of the composite weights


def load_weights(path: Path | None = None, known_features: Iterable[str] | None = None) -> Weights:
    """Read and check a weights file (default: the one shipped in ``enrichment/data``)."""
    path = path or WEIGHTS_FILE
    try:
        with Path(path).open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise WeightsError(f"weights file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise WeightsError(f"weights file {path} is not valid TOML: {exc}") from None
    known = set(known_features) if known_features is not None else None
    indices: dict[str, dict[str, float]] = {}
    for name in INDICES:
        table = data.get(name)
        if not isinstance(table, dict) or not table:
            raise WeightsError(f"{path}: missing table [{name}] with at least one component")
        indices[name] = {}
        for component, weight in table.items():
            indices[name][component] = _weight(path, name, component, weight)
            if known is not None and component not in known:
                raise WeightsError(f"{path}: [{name}] {component} is not a feature (see docs/features.md)")
    composite = data.get("composite", dict.fromkeys(INDICES, 1.0))
    if not isinstance(composite, dict):
        raise WeightsError(f"{path}: [composite] must be a table weighting {', '.join(INDICES)}")
    if set(composite) - set(INDICES):
        raise WeightsError(f"{path}: [composite] may only weight {', '.join(INDICES)}")
    return Weights(indices, {key: _weight(path, "composite", key, weight) for key, weight in composite.items()}, str(path),
                   _tiers(path, data.get("tiers"), known))


def _weight(path: Path, table: str, component: str, weight: Any) -> float:
    """A weight as a float: a finite number from 0 to :data:`MAX_WEIGHT` (TOML also reads
    ``nan`` and ``inf``, which would make every index NULL or infinite)."""
    if (not isinstance(weight, (int, float)) or isinstance(weight, bool)
            or (isinstance(weight, float) and not math.isfinite(weight)) or not 0 <= weight <= MAX_WEIGHT):
        raise WeightsError(f"{path}: [{table}] {component} = {weight!r}: a weight must be a finite number "
                           f">= 0 and <= {MAX_WEIGHT:g}")
    return float(weight)


def _in_order(values: Iterable[float]) -> float:
    """The values added one after another, left to right. Scoring's sums are taken so, not with
    ``sum()``: from Python 3.12 on, ``sum()`` compensates floats' rounding, and the cohort's
    column form (``enrichment/cohort_scores.py``) must add the same terms to the same bits."""
    total = 0.0
    for value in values:
        total += value
    return total


def _numeric(value: Any) -> float | None:
    """A feature value as a finite float (a bool as 1/0), None when it is not one."""
    if type(value) is float:  # the common case first (an exact float: float(value) is itself)
        return value if _isfinite(value) else None
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    return None


def percentile_ranks(values: Mapping[K, Any]) -> dict[K, float | None]:
    """0..100 rank of each non-NULL value among the non-NULL ones (ties averaged; one value -> 50)."""
    present = sorted((v, k) for k, v in ((k, _numeric(v)) for k, v in values.items()) if v is not None)
    out: dict[K, float | None] = dict.fromkeys(values)
    n = len(present)
    if n == 0:
        return out
    if n == 1:
        out[present[0][1]] = 50.0
        return out
    i = 0
    while i < n:
        j = i
        while j + 1 < n and present[j + 1][0] == present[i][0]:
            j += 1
        pct = ((i + j) / 2) / (n - 1) * 100.0
        for position in range(i, j + 1):
            out[present[position][1]] = pct
        i = j + 1
    return out


# --------------------------------------------------------------------------- distributions and references


@dataclass(frozen=True)
class Distribution:
    """A component's values in a reference: its distinct values (``knots``, ascending), how
    many reference values lie below and equal each, and how many there are in all. Exact up to
    :data:`MAX_KNOTS` distinct values; above that the knots are spaced by rank and a value
    between two of them gets a rank interpolated between theirs."""

    n: int
    knots: tuple[float, ...]
    below: tuple[int, ...]
    equal: tuple[int, ...]
    #: Every knot's percentile (knot -> percentile), worked out once :meth:`percentile` has been
    #: asked more than a sixteenth as many times as there are knots: a live cohort asks for each
    #: member's own value, a knot, so ranking it takes a lookup instead of a search; the few rows
    #: an incremental run ranks against a frozen reference are cheaper searched than tabulated
    #: (filling the tables of a 2,000-row reference cost ~35 ms). (One entry per knot.)
    _at_knot: dict[float, float] = field(default_factory=dict, init=False, repr=False, compare=False)
    #: How many times :meth:`percentile` searched before the table was filled.
    _searched: list[int] = field(default_factory=lambda: [0], init=False, repr=False, compare=False)
    #: The values differ (at least two distinct ones): only then does a rank say anything.
    #: (Worked out once: scoring asks for every component of every row.)
    informative: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "informative", len(self.knots) >= 2)

    @classmethod
    def of(cls, values: Iterable[float], max_knots: int | None = None) -> Distribution:
        ordered = sorted(values)
        knots: list[float] = []
        below: list[int] = []
        equal: list[int] = []
        for position, value in enumerate(ordered):
            if knots and knots[-1] == value:
                equal[-1] += 1
            else:
                knots.append(value)
                below.append(position)
                equal.append(1)
        if max_knots is not None and len(knots) > max_knots:
            n = len(ordered)
            keep = sorted({bisect.bisect_right(below, round(k * (n - 1) / (max_knots - 1))) - 1 for k in range(max_knots)}
                          | {0, len(knots) - 1})
            knots, below, equal = [knots[i] for i in keep], [below[i] for i in keep], [equal[i] for i in keep]
        return cls(len(ordered), tuple(knots), tuple(below), tuple(equal))

    def percentile(self, value: float) -> float:
        """0..100: the mid-rank percentile of a reference value, halfway between the
        neighbours' for a new one, 0/100 beyond the lowest/highest."""
        n = self.n
        if n < 2:
            return PRIOR
        if not self._at_knot:
            searched = self._searched
            searched[0] += 1
            if searched[0] > len(self.knots) >> 4:
                self._percentiles_at_knots()
        known = self._at_knot.get(value)
        if known is not None:
            return known
        knots = self.knots
        i = _bisect_left(knots, value)
        if i < len(knots) and knots[i] == value:  # (a knot not in the table: see _percentiles_at_knots)
            return self._clipped(float(self.below[i]), self.equal[i])
        if i == 0:
            less, equal = 0.0, 0
        elif i == len(knots):
            less, equal = float(n), 0
        else:
            start = self.below[i - 1] + self.equal[i - 1]
            less = start + (self.below[i] - start) * (value - knots[i - 1]) / (knots[i] - knots[i - 1])
            equal = 0
        return self._clipped(less, equal)

    def _clipped(self, less: float, equal: int) -> float:
        """The percentile of a value with ``less`` reference values below it (interpolated
        between knots) and ``equal`` equal to it, clipped to 0..100."""
        return min(100.0, max(0.0, 100.0 * (less + equal / 2 - 0.5) / (self.n - 1)))

    def _percentiles_at_knots(self) -> None:
        """Fill :attr:`_at_knot`: each knot's percentile as :meth:`percentile` works it out.
        Filled from the highest knot down, so that of knots that compare equal (which
        :meth:`of` never makes) the lowest one's stays, the one a search finds; a NaN knot
        (equal to nothing) is left to the search."""
        table = self._at_knot
        last = self.n - 1
        for knot, below, equal in zip(reversed(self.knots), reversed(self.below), reversed(self.equal)):
            if not math.isnan(knot):
                # _clipped(float(below), equal), written out: this runs for every knot.
                found = 100.0 * (float(below) + equal / 2 - 0.5) / last
                found = found if found > 0.0 else 0.0  # max(0.0, found), a NaN included
                table[knot] = found if found < 100.0 else 100.0  # min(100.0, found)

    def to_json(self) -> list[Any]:
        return [self.n, list(self.knots), list(self.below), list(self.equal)]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Distribution:
        n, knots, below, equal = data
        return cls(int(n), tuple(float(v) for v in knots), tuple(below), tuple(equal))


def group_key(component: str, group: str | None) -> str:
    """The key of a component's distribution: the component, or ``component|group`` for one
    ranked within a tier (group ``micro``, or ``weibo:micro`` per platform)."""
    return component if group is None else f"{component}|{group}"


@dataclass
class Reference:
    """What percentiles are taken against: per component (and tier group) a distribution, the
    tiers they were grouped by, and for earliness each brand's first mentions (None for the
    live cohort, whose earliness is computed among itself)."""

    name: str = COHORT
    version: int | None = None
    size: int = 0
    distributions: dict[str, Distribution] = field(default_factory=dict)
    tiers: Tiers = field(default_factory=Tiers)
    brands: dict[str, list[tuple[int, float]]] | None = None  # brand -> [(candidate id, first mention ts)]
    created_at: datetime | None = None
    weights_fingerprint: str | None = None  # of the weights it was frozen with
    _brand_index: dict[str, tuple[list[float], dict[int, float]]] | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """``cohort``, or ``NAME@vVERSION`` for a frozen reference (what rows and exports carry)."""
        return self.name if self.version is None else f"{self.name}@v{self.version}"

    @property
    def frozen(self) -> bool:
        return self.version is not None

    def label_for(self, weights: Weights) -> str:
        """What a row ranked with these weights against this reference records: the label, and
        ``+w`` and the weights' fingerprint when they are not the ones it was frozen with (so
        that rows ranked with other weights count as not ranked against it)."""
        if not self.frozen or self.weights_fingerprint in (None, weights.fingerprint):
            return self.label
        return f"{self.label}+w{weights.fingerprint[:8]}"

    def brand_index(self) -> dict[str, tuple[list[float], dict[int, float]]]:
        """brand -> (sorted first-mention times, candidate id -> its time)."""
        if self._brand_index is None:
            self._brand_index = {brand: (sorted(t for _, t in rows), {cid: t for cid, t in rows})
                                 for brand, rows in (self.brands or {}).items()}
        return self._brand_index

    def payload(self) -> dict[str, Any]:
        """The JSON stored for a frozen reference."""
        return {"tiers": self.tiers.to_json(), "distributions": {k: d.to_json() for k, d in self.distributions.items()},
                "brands": {b: [[cid, t] for cid, t in rows] for b, rows in (self.brands or {}).items()},
                "weights_fingerprint": self.weights_fingerprint}

    @classmethod
    def from_payload(cls, name: str, version: int, size: int, payload: Mapping[str, Any],
                     created_at: datetime | None = None) -> Reference:
        return cls(name, version, size, {k: Distribution.from_json(v) for k, v in payload["distributions"].items()},
                   Tiers.from_json(payload["tiers"]),
                   {b: [(int(cid), float(t)) for cid, t in rows] for b, rows in payload.get("brands", {}).items()},
                   created_at, payload.get("weights_fingerprint"))


def component_entries(component: str, features: Mapping[str, Any], tiers: Tiers, tier: str | None,
                      platform_tiers: Mapping[str, str]) -> list[tuple[str | None, float]]:
    """The (group, value) pairs a component is ranked by for one candidate: one cohort-wide
    value (group None); for a component ranked within tiers, one per platform (group
    ``platform:tier``) when the features break it down per platform, else one within the
    candidate's tier. Empty when the candidate has no value (or, within tiers, no tier)."""
    if component in tiers.within_tier:
        per_platform = features.get(f"{component}_by_platform")
        if isinstance(per_platform, dict):
            pairs = []
            for platform, raw in sorted(per_platform.items()):
                # _numeric's common case inline: a finite float is itself.
                value = raw if type(raw) is float and _isfinite(raw) else _numeric(raw)
                group = platform_tiers.get(platform)
                if value is not None and group is not None:
                    pairs.append((f"{platform}:{group}", value))
            return pairs
        value = _numeric(features.get(component))
        return [(tier, value)] if value is not None and tier is not None else []
    value = _numeric(features.get(component))
    return [] if value is None else [(None, value)]


#: Feature names (besides the weighted components) the ranking reads from a row.
RANKING_INPUTS = ("brand_first_seen", *(f"followers_{p}" for p in PLATFORMS))


def cohort_reference(cohort: Iterable[Mapping[str, Any]], weights: Weights, *, max_knots: int | None = None,
                     brands: Mapping[int, Mapping[str, str]] | None = None) -> Reference:
    """The reference a cohort makes: each component's (and tier group's) values over the
    cohort's feature rows (with ``brands``, candidate -> brand -> first mention, also the
    first mentions a frozen reference keeps for earliness)."""
    values: dict[str, array[float]] = defaultdict(lambda: array("d"))
    tiers = weights.tiers
    # Per component: ranked within tiers?, the name of its per-platform breakdown.
    components = [(c, c in tiers._within, f"{c}_by_platform") for c in weights.components]
    size = 0
    for features in cohort:
        size += 1
        get = features.get
        found: tuple[str | None, dict[str, str]] | None = None  # the row's tiers, once a component needs them
        for component, within, breakdown in components:
            value = get(component)
            if not within:
                # Ranked cohort-wide: the one entry component_entries gives, under its own name
                # (none for a yes/no fact: those are scored as they are, true 100, false 0).
                if type(value) is float:  # _numeric's common case inline: a finite float is itself
                    if _isfinite(value):
                        values[component].append(value)
                elif value is not None and not isinstance(value, bool) and (value := _numeric(value)) is not None:
                    values[component].append(value)
            elif (value is not None or isinstance(get(breakdown), dict)) and not isinstance(value, bool):
                found = found or tiers.of(features)
                for group, number in component_entries(component, features, tiers, *found):
                    values[group_key(component, group)].append(number)
    distributions = {key: Distribution.of(found, max_knots) for key, found in values.items()}
    first = None
    if brands is not None:
        first = defaultdict(list)
        for cid, seen in brands.items():
            for brand, stamp in (seen or {}).items():
                first[brand].append((cid, first_mention(stamp)))
        first = {brand: sorted(rows, key=lambda r: (r[1], r[0])) for brand, rows in first.items()}
    return Reference(size=size, distributions=distributions, tiers=weights.tiers, brands=first,
                     weights_fingerprint=weights.fingerprint)


# --------------------------------------------------------------------------- scoring


@dataclass
class ComponentScore:
    """One component of one candidate: its value, the groups it was ranked in, its
    percentile (None: no data, or no information in the reference) and why not."""

    component: str
    value: Any
    groups: list[str]
    percentile: float | None
    note: str  # "" | "no data" | "no spread" (the reference's values do not differ) | "not in reference"


def component_score(component: str, features: Mapping[str, Any], reference: Reference, tier: str | None,
                    platform_tiers: Mapping[str, str]) -> ComponentScore:
    value = features.get(component)
    if isinstance(value, bool) and component not in reference.tiers.within_tier:
        # A yes/no fact is evidence on an absolute scale: true beats false whoever else is true.
        return ComponentScore(component, value, ["yes/no"], 100.0 if value else 0.0, "")
    entries = component_entries(component, features, reference.tiers, tier, platform_tiers)
    if not entries:
        return ComponentScore(component, value, [], None, "no data")
    percentiles, groups, notes = [], [], []
    for group, number in entries:
        groups.append(group or "cohort")
        found = reference.distributions.get(group_key(component, group))
        if found is None:
            notes.append("not in reference")
        elif not found.informative:
            notes.append("no spread")
        else:
            percentiles.append(found.percentile(number))
    if not percentiles:
        return ComponentScore(component, value, groups, None, notes[0])
    return ComponentScore(component, value, groups, _in_order(percentiles) / len(percentiles), "")


def _component_scores(features: Mapping[str, Any], components: Sequence[str], reference: Reference,
                      tier: str | None, platform_tiers: Mapping[str, str]) -> dict[str, ComponentScore]:
    """:func:`component_score` of every component the row has a value for (most rows of a
    large cohort lack most), in order. A component ranked cohort-wide (most of them: one entry,
    ranked in the distribution under its own name) is scored here without the general
    machinery, one ranked within tiers by :func:`component_score` itself; the same scores
    either way (ranking scores every component of every row: this is its inner loop)."""
    within = reference.tiers._within
    distributions = reference.distributions
    get = features.get
    scored: dict[str, ComponentScore] = {}
    for component in components:
        value = get(component)
        if component in within:
            if value is not None or isinstance(get(f"{component}_by_platform"), dict):
                scored[component] = component_score(component, features, reference, tier, platform_tiers)
        elif value is None:
            continue
        elif isinstance(value, bool):
            # A yes/no fact is evidence on an absolute scale: true beats false whoever else is true.
            scored[component] = ComponentScore(component, value, ["yes/no"], 100.0 if value else 0.0, "")
        elif (number := value if type(value) is float and _isfinite(value) else _numeric(value)) is None:
            scored[component] = ComponentScore(component, value, [], None, "no data")
        elif (found := distributions.get(component)) is None:
            scored[component] = ComponentScore(component, value, ["cohort"], None, "not in reference")
        elif not found.informative:
            scored[component] = ComponentScore(component, value, ["cohort"], None, "no spread")
        else:
            # The mean of one percentile (component_score: sum([p]) / 1) is p itself.
            scored[component] = ComponentScore(component, value, ["cohort"], found.percentile(number), "")
    return scored


def _combine(percentiles: Mapping[str, float], table: Mapping[str, float],
             total: float) -> tuple[float | None, float, float | None, dict[str, float]]:
    """percentiles: component -> percentile (the components that have one); table: component
    -> weight, total: the sum of its weights. Returns (raw index, coverage, score, points per
    component with data)."""
    if not total:
        return None, 0.0, None, {}
    # One pass over the table (sums taken afterwards, in the table's order as ever).
    used_weights: list[float] = []
    weighted: list[float] = []
    points: dict[str, float] = {}
    for c, w in table.items():
        p = percentiles.get(c)
        if p is not None and w > 0:
            used_weights.append(w)
            weighted.append(p * w)
            points[c] = w * (p - PRIOR) / total
    used = _in_order(used_weights)
    if not used:
        return None, 0.0, None, {}
    return _in_order(weighted) / used, used / total, PRIOR + _in_order(points.values()), points


def _top(names: Sequence[str], points: Sequence[float]) -> list[tuple[int, float]]:
    """The top contributors among ``points`` (of ``names``), as (position, points rounded to 2
    decimals): the first :data:`TOP_CONTRIBUTORS` after sorting all of them by (−|rounded
    points|, name), ties kept in order.

    Rounds only the few that can be among them (round with digits is slow): |round(x, 2)|
    never decreases as |x| grows, so they are the largest by |points|, plus any further ones
    that round to the same |points| as the last of those (and may come first by name)."""
    sizes = list(map(abs, points))
    chosen: list[tuple[float, str, int, float]] = []  # (−|rounded|, name, position, rounded)
    for i in sorted(range(len(sizes)), key=sizes.__getitem__, reverse=True):
        rounded = round(points[i], 2)
        if len(chosen) >= TOP_CONTRIBUTORS and -abs(rounded) > chosen[-1][0]:
            break  # rounds to less than the last one chosen, and so do all that follow
        chosen.append((-abs(rounded), names[i], i, rounded))
    chosen.sort()  # the position makes every key distinct: the order a stable sort keeps
    return [(i, rounded) for _, _, i, rounded in chosen[:TOP_CONTRIBUTORS]]


def _contributor(component: str, found: ComponentScore, weight: float, points: float,
                 index: str | None = None) -> dict[str, Any]:
    """A top contributor as stored: the component, its value, percentile, weight, points (as
    rounded) and groups, and for the composite's the index it counts in."""
    item = {"component": component, "value": _plain(found.value), "percentile": round(found.percentile, 2),  # type: ignore[arg-type]
            "weight": weight, "points": points, "groups": found.groups}
    if index is not None:
        item["index"] = index
    return item


def score_candidate(features: Mapping[str, Any], weights: Weights, reference: Reference, *,
                    explain: bool = True) -> dict[str, Any]:
    """Indices, coverages, scores, the tier and the top contributors of one candidate, and
    ``components``: every component's :class:`ComponentScore` (what ``explain`` shows; with
    ``explain=False`` only the components with a value, which is all the ranking needs)."""
    tier, platform_tiers = reference.tiers.of(features)
    scored = _component_scores(features, weights.components, reference, tier, platform_tiers)
    percentiles = {c: found.percentile for c, found in scored.items() if found.percentile is not None}
    if not percentiles:
        result = dict(_no_data(weights))  # nothing to rank: the same answer for every such row
        result.update(tier=tier, platform_tiers=platform_tiers,
                      components=_with_missing(scored, weights) if explain else scored)
        return result
    if explain:
        scored = _with_missing(scored, weights)
    plan = weights._plan
    tops: dict[str, list[dict[str, Any]]] = {}
    result: dict[str, Any] = {"tier": tier, "platform_tiers": platform_tiers, "components": scored,
                              "top_contributors": tops, "points": {}}
    # Every index's contributors (component, points as the composite counts them, index,
    # weight), in the order of the indices and their points: the composite's top come from all
    # of them. Only the top contributors are made into dicts.
    composite_names: list[str] = []
    composite_points: list[float] = []
    composite_from: list[_IndexPlan] = []
    for index in plan.indices:
        table = index.table
        raw, coverage, score, points = _combine(percentiles, table, index.total)
        result[index.index_column] = None if raw is None else round(raw, 4)
        result[index.coverage_column] = round(coverage, 4)
        result[index.score_column] = None if score is None else round(score, 4)
        result["points"][index.name] = points
        names = list(points)
        tops[index.name] = []
        for i, rounded in _top(names, list(points.values())):
            tops[index.name].append(_contributor(names[i], scored[names[i]], table[names[i]], rounded))
        composite_names += names
        composite_points += [p * index.share for p in points.values()]
        composite_from += [index] * len(names)
    raws = {n: result[column] for n, _, column, _, _ in plan.composite}
    with_data = {n: w for n, w, _, _, _ in plan.composite if raws[n] is not None and w > 0}
    weight_with_data = _in_order(with_data.values())
    index_weight = plan.index_weight
    result[index_column(COMPOSITE)] = (round(_in_order(w * raws[n] for n, w in with_data.items()) / weight_with_data, 4)
                                       if weight_with_data else None)
    result[coverage_column(COMPOSITE)] = round(
        _in_order(w * result[column] for _, w, _, column, _ in plan.composite) / index_weight, 4) if index_weight else 0.0
    scores = {n: (w, result[column]) for n, w, _, _, column in plan.composite}
    result[score_column(COMPOSITE)] = (round(PRIOR + _in_order(w * (s - PRIOR) for w, s in scores.values()
                                                         if s is not None) / index_weight, 4)
                                       if index_weight and any(s is not None for _, s in scores.values()) else None)
    tops[COMPOSITE] = []
    for i, rounded in _top(composite_names, composite_points):
        component, index = composite_names[i], composite_from[i]
        tops[COMPOSITE].append(_contributor(component, scored[component], index.table[component], rounded, index.name))
    return result


def _with_missing(scored: Mapping[str, ComponentScore], weights: Weights) -> dict[str, ComponentScore]:
    return {c: scored.get(c) or ComponentScore(c, None, [], None, "no data") for c in weights.components}


_NO_DATA: dict[int, tuple[Weights, dict[str, Any]]] = {}


def _no_data(weights: Weights) -> dict[str, Any]:
    """What a row with no component data scores (indices and scores NULL, coverage 0, no top
    contributors), computed once per weights."""
    cached = _NO_DATA.get(id(weights))
    if cached is None or cached[0] is not weights:
        result: dict[str, Any] = {"points": {name: {} for name in weights.indices},
                                  "top_contributors": {name: [] for name in (*weights.indices, COMPOSITE)}}
        for name in (*weights.indices, COMPOSITE):
            result[index_column(name)] = None
            result[coverage_column(name)] = 0.0
            result[score_column(name)] = None
        cached = _NO_DATA[id(weights)] = (weights, result)
    return {**cached[1], "top_contributors": {k: [] for k in cached[1]["top_contributors"]},
            "points": {k: {} for k in cached[1]["points"]}}


def _plain(value: Any) -> Any:
    """A component's value as stored with the top contributors (JSON: finite numbers only)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def ranking_columns(result: Mapping[str, Any]) -> dict[str, Any]:
    """What of :func:`score_candidate`'s result is written to a feature row."""
    out = {name: result[name] for name in INDEX_COLUMNS + COVERAGE_COLUMNS + SCORE_COLUMNS}
    out["tier"] = result["tier"]
    out["top_contributors"] = result["top_contributors"]
    return out


def score_cohort(features: Mapping[int, Mapping[str, Any]], weights: Weights,
                 reference: Reference | None = None) -> dict[int, dict[str, Any]]:
    """Indices, coverages, scores, tiers and top contributors for every candidate of a cohort,
    against a reference (default: the cohort itself)."""
    reference = reference or cohort_reference(features.values(), weights)
    return {cid: score_candidate(values, weights, reference) for cid, values in features.items()}


# --------------------------------------------------------------------------- earliness


def first_mention(stamp: str | float) -> float:
    """A first mention as earliness compares it: the POSIX timestamp of its ISO time (a float
    is one already: the ranking keeps first mentions so, ``enrichment/ranking_inputs.py``)."""
    return stamp if type(stamp) is float else datetime.fromisoformat(stamp).timestamp()  # type: ignore[arg-type]


def earliness(first_seen: Mapping[int, Mapping[str, str | float]], reference: Reference | None = None) -> dict[int, dict[str, Any]]:
    """How early each candidate mentioned brands that other candidates also mentioned.

    ``first_seen``: candidate -> brand -> ISO time of their first post naming it (or its
    ``datetime.timestamp()``, as the ranking keeps it: ``enrichment/ranking_inputs.py``). The others
    are the rest of ``first_seen`` (the live cohort), or with a frozen ``reference`` its
    members' first mentions (a member's own entry left out), so that a candidate's earliness
    does not move when others join. ``earliness_first_share``: share of shared brands where
    the candidate was first (ties count as first for everyone tied); ``earliness_lead_days``:
    median over shared brands of (median first mention of the others - own first mention), in
    days (negative = later); NULL when the candidate shares no brand with anyone. (The stage
    passes only candidates who mentioned a brand; the others' earliness is NULL.)
    """
    parsed: dict[int, Mapping[str, float]] = {cid: _first_mentions(brands) for cid, brands in first_seen.items()}
    if reference is not None and reference.brands is not None:
        return _earliness_against(parsed, reference.brand_index())
    return _earliness_among(parsed)


def _first_mentions(brands: Mapping[str, str | float] | None) -> Mapping[str, float]:
    """A candidate's first mentions as numbers: as given when they are (the ranking's kept
    views hold them so), each ISO time parsed otherwise."""
    if not brands:
        return {}
    if all(type(stamp) is float for stamp in brands.values()):
        return brands  # type: ignore[return-value]
    return {brand: first_mention(stamp) for brand, stamp in brands.items()}


def _live_table(parsed: Mapping[int, Mapping[str, float]]) -> dict[str, tuple[list[float], Mapping[int, float]]]:
    """brand -> (everyone's first-mention times, sorted; candidate -> own time): the live
    cohort as :func:`_earliness_against` takes a reference."""
    owners: dict[str, dict[int, float]] = defaultdict(dict)
    for cid, brands in parsed.items():
        for brand, when in brands.items():
            owners[brand][cid] = when
    return {brand: (sorted(owner.values()), owner) for brand, owner in owners.items()}


def _earliness_among(parsed: Mapping[int, Mapping[str, float]]) -> dict[int, dict[str, Any]]:
    """Earliness among the live cohort: :func:`_earliness_against` its own :func:`_live_table`,
    worked out over numpy columns (every entry is its brand's, so each candidate's "others"
    are its brand's sorted times without its own, found by position). The same numbers:
    the same float operations on the same times (``tests/test_indices.py`` holds them equal)."""
    candidates = list(parsed)
    counts = [len(parsed[cid]) for cid in candidates]
    owner = np.repeat(np.arange(len(candidates), dtype=np.int64), counts)
    names = [name for cid in candidates for name in parsed[cid]]
    when = np.array([stamp for cid in candidates for stamp in parsed[cid].values()], dtype=float)
    return _earliness_of_entries(candidates, owner, names, when)


def earliness_entries(owners: Sequence[int], brands: Sequence[str], times: np.ndarray) -> dict[int, dict[str, Any]]:
    """:func:`earliness` among the live cohort, its first mentions given as entries: the
    candidate, the brand and the first mention's timestamp of each, one per candidate and
    brand (what the ranking's kept views hold as columns: ``enrichment.ranking_inputs``)."""
    places: dict[int, int] = {}
    owner = np.fromiter((places.setdefault(cid, len(places)) for cid in owners), dtype=np.int64, count=len(owners))
    return _earliness_of_entries(list(places), owner, brands, np.asarray(times, dtype=float))


def _earliness_of_entries(candidates: list[int], owner: np.ndarray, names: Sequence[str],
                          when: np.ndarray) -> dict[int, dict[str, Any]]:
    """:func:`_earliness_among` of entries: ``owner`` (each entry's candidate, by its place
    in ``candidates``), ``names`` (its brand), ``when`` (its first mention's timestamp)."""
    # A brand's number: the place of its first entry (only telling brands apart matters here).
    brand_ids: dict[str, int] = {}
    brand = np.array(list(map(brand_ids.setdefault, names, range(len(names)))), dtype=np.int64)
    out = {cid: {"earliness_brands_compared": 0, "earliness_first_share": None, "earliness_lead_days": None}
           for cid in candidates}
    if not len(owner):
        return out
    order = np.lexsort((when, brand))
    times = when[order]
    brands = brand[order]
    owners = owner[order]
    size = len(times)
    new_brand = np.concatenate(([True], brands[1:] != brands[:-1]))
    starts = np.flatnonzero(new_brand)
    lengths = np.diff(np.append(starts, size))
    start = np.repeat(starts, lengths)  # each entry's brand's first position
    others = np.repeat(lengths, lengths) - 1
    # bisect_left of the entry's own time: the first of its run of equal times within the brand.
    runs = np.flatnonzero(new_brand | np.concatenate(([True], times[1:] != times[:-1])))
    own = np.repeat(runs, np.diff(np.append(runs, size))) - start
    keep = others >= 1
    if not keep.any():
        return out  # no brand named by two candidates
    times_k, start, own, others, owners = times[keep], start[keep], own[keep], others[keep], owners[keep]
    # The others' j-th time is times[start + j], or times[start + j + 1] from the own entry on.
    earliest = times[start + np.where(own > 0, 0, 1)]
    first = times_k <= earliest
    low, high = (others - 1) // 2, others // 2
    median = (times[start + np.where(low < own, low, low + 1)] + times[start + np.where(high < own, high, high + 1)]) / 2
    leads = (median - times_k) / 86400.0
    # Per candidate: how many compared, how many first, the median lead (statistics.median's).
    by = np.lexsort((leads, owners))
    owners, leads, first = owners[by], leads[by], first[by]
    group = np.flatnonzero(np.concatenate(([True], owners[1:] != owners[:-1])))
    counts = np.diff(np.append(group, len(owners)))
    firsts = np.add.reduceat(first.astype(np.int64), group)
    middle = group + counts // 2
    medians = np.where(counts % 2 == 1, leads[middle], (leads[middle - 1] + leads[middle]) / 2)
    for k, count, firsts_of, median_of in zip(owners[group].tolist(), counts.tolist(), firsts.tolist(), medians.tolist()):
        out[candidates[k]] = {"earliness_brands_compared": count, "earliness_first_share": firsts_of / count,
                              "earliness_lead_days": round(median_of, 4)}
    return out


def _earliness_against(parsed: Mapping[int, Mapping[str, float]],
                       table: Mapping[str, tuple[list[float], Mapping[int, float]]]) -> dict[int, dict[str, Any]]:
    """Earliness against a table of brand -> (first-mention times, sorted; candidate -> own
    time): a frozen reference's, or the live cohort's own (:func:`_live_table`). Each
    candidate's "others" are the brand's list without its own entry, so min and median come
    from positions, not a rescan."""
    out: dict[int, dict[str, Any]] = {}
    nobody: tuple[list[float], Mapping[int, float]] = ([], {})
    for cid, brands in parsed.items():
        leads: list[float] = []
        firsts = 0
        for brand, mine in brands.items():
            times_of, owner = table.get(brand, nobody)
            listed = owner.get(cid)
            if listed is None:
                own, others = len(times_of) + 1, len(times_of)
            else:
                own, others = _bisect_left(times_of, listed), len(times_of) - 1
            if others < 1:
                continue
            # The others' j-th time is times_of[j], or times_of[j + 1] from the own entry on.
            earliest = times_of[0 if own > 0 else 1]
            if mine <= earliest:
                firsts += 1
            low, high = (others - 1) // 2, others // 2
            median = (times_of[low if low < own else low + 1] + times_of[high if high < own else high + 1]) / 2
            leads.append((median - mine) / 86400.0)
        out[cid] = {
            "earliness_brands_compared": len(leads),
            "earliness_first_share": firsts / len(leads) if leads else None,
            "earliness_lead_days": round(statistics.median(leads), 4) if leads else None,
        }
    return out
