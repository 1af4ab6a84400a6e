"""The three indices (leadership, sales-driving, influence) and the composite, 0-100.

Each component (a feature named in ``data/weights.toml``) is percentile-ranked within the
active cohort: 0 for the lowest value, 100 for the highest, ties share their average
rank, a cohort of one gets 50. An index is the weighted mean of its components'
percentiles over the components the candidate has data for; the weights of the others are
dropped and the rest renormalised, and ``coverage`` = the share of the index's total weight
that had data. The composite combines the three indices the same way, with coverage the
weighted mean of their coverages. Each index keeps its top contributing components
(percentile x renormalised weight = points of the index), so a person can see *why*.

Also here: earliness, the one cohort-relative feature (who mentioned a brand first).
"""

from __future__ import annotations

import bisect
import math
import statistics
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from enrichment.schema import COMPOSITE, INDICES, coverage_column, index_column

WEIGHTS_FILE = Path(__file__).parent / "data" / "weights.toml"
TOP_CONTRIBUTORS = 3
#: The largest weight a weights file may give. Weights only count relative to each other (the
#: defaults are 1-2): at 1000 a component already outweighs a default one a thousandfold, so a
#: larger number is a typo, and an unbounded one (1e308) overflows the weighted sums to inf.
#: To let one component decide alone, give the others 0.
MAX_WEIGHT = 1000.0

K = TypeVar("K")


class WeightsError(ValueError):
    """The weights file is malformed or names a component that is not a feature."""


@dataclass(frozen=True)
class Weights:
    indices: dict[str, dict[str, float]]  # index -> component -> weight
    composite: dict[str, float]  # index -> weight
    source: str = "default"


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
    return Weights(indices, {key: _weight(path, "composite", key, weight) for key, weight in composite.items()}, str(path))


def _weight(path: Path, table: str, component: str, weight: Any) -> float:
    """A weight as a float: a finite number from 0 to :data:`MAX_WEIGHT` (TOML also reads
    ``nan`` and ``inf``, which would make every index NULL or infinite)."""
    if (not isinstance(weight, (int, float)) or isinstance(weight, bool)
            or (isinstance(weight, float) and not math.isfinite(weight)) or not 0 <= weight <= MAX_WEIGHT):
        raise WeightsError(f"{path}: [{table}] {component} = {weight!r}: a weight must be a finite number "
                           f">= 0 and <= {MAX_WEIGHT:g}")
    return float(weight)


def _numeric(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
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


def _combine(parts: Mapping[str, tuple[float | None, float]], values: Mapping[str, Any]) -> tuple[float | None, float, list[dict[str, Any]]]:
    """parts: component -> (percentile or None, weight). Returns (index, coverage, contributors)."""
    total = sum(weight for _, weight in parts.values())
    available = {c: (p, w) for c, (p, w) in parts.items() if p is not None and w > 0}
    used = sum(w for _, w in available.values())
    if not total or not used:
        return None, 0.0, []
    index = sum(p * w for p, w in available.values()) / used  # type: ignore[operator]
    contributors = sorted(
        ({"component": c, "value": values.get(c), "percentile": round(p, 2), "weight": w,  # type: ignore[arg-type]
          "points": round(p * w / used, 2)} for c, (p, w) in available.items()),  # type: ignore[operator]
        key=lambda item: (-item["points"], item["component"]),
    )
    return round(index, 4), round(used / total, 4), contributors[:TOP_CONTRIBUTORS]


def score_cohort(features: Mapping[int, Mapping[str, Any]], weights: Weights) -> dict[int, dict[str, Any]]:
    """Indices, coverages and top contributors for every candidate of the cohort."""
    components = {c for table in weights.indices.values() for c in table}
    ranks = {c: percentile_ranks({cid: f.get(c) for cid, f in features.items()}) for c in components}
    out: dict[int, dict[str, Any]] = {}
    for cid, values in features.items():
        result: dict[str, Any] = {"top_contributors": {}}
        for name, table in weights.indices.items():
            index, coverage, top = _combine({c: (ranks[c][cid], w) for c, w in table.items()}, values)
            result[index_column(name)] = index
            result[coverage_column(name)] = coverage
            result["top_contributors"][name] = top
        index_values = {name: result[index_column(name)] for name in weights.composite}
        composite, _, top = _combine({n: (index_values[n], w) for n, w in weights.composite.items()}, index_values)
        weight_sum = sum(weights.composite.values())
        result[index_column(COMPOSITE)] = composite
        result[coverage_column(COMPOSITE)] = round(
            sum(w * result[coverage_column(n)] for n, w in weights.composite.items()) / weight_sum, 4
        ) if weight_sum else 0.0
        result["top_contributors"][COMPOSITE] = top
        out[cid] = result
    return out


def earliness(first_seen: Mapping[int, Mapping[str, str]]) -> dict[int, dict[str, Any]]:
    """How early each candidate mentioned brands that other candidates also mentioned.

    ``first_seen``: candidate -> brand -> ISO time of their first post naming it.
    ``earliness_first_share``: share of shared brands where the candidate was first (ties
    count as first for everyone tied); ``earliness_lead_days``: median over shared brands of
    (median first mention of the others - own first mention), in days (negative = later);
    NULL when the candidate shares no brand with anyone.
    """
    # Per brand: everyone's first-mention times, sorted once; each candidate's "others" are
    # that list without their own entry, so min and median come from positions, not a rescan.
    by_brand: dict[str, list[float]] = defaultdict(list)
    parsed: dict[int, dict[str, float]] = {}
    for cid, brands in first_seen.items():
        parsed[cid] = {brand: datetime.fromisoformat(stamp).timestamp() for brand, stamp in brands.items()}
        for brand, when in parsed[cid].items():
            by_brand[brand].append(when)
    for times in by_brand.values():
        times.sort()
    out: dict[int, dict[str, Any]] = {}
    for cid, brands in parsed.items():
        leads: list[float] = []
        firsts = 0
        for brand, mine in brands.items():
            times = by_brand[brand]
            if len(times) < 2:
                continue
            own = bisect.bisect_left(times, mine)  # one entry equal to mine: drop it
            others = len(times) - 1

            def other(j: int) -> float:
                return times[j if j < own else j + 1]

            if mine <= other(0):
                firsts += 1
            median = (other((others - 1) // 2) + other(others // 2)) / 2
            leads.append((median - mine) / 86400.0)
        out[cid] = {
            "earliness_brands_compared": len(leads),
            "earliness_first_share": firsts / len(leads) if leads else None,
            "earliness_lead_days": round(statistics.median(leads), 4) if leads else None,
        }
    return out
