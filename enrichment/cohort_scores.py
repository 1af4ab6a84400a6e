"""A whole cohort scored at once: for every row, the ranking columns
:func:`enrichment.indices.score_candidate` gives it (indices, coverages, scores, tier, top
contributors), the same values bit for bit, computed a component at a time over numpy columns.

Why a second implementation: ranking against the live cohort re-scores every row on every
``enrich``, since each percentile depends on every other row. Row by row in Python that was
~1 s for 2,000 candidates, the largest part of an incremental enrich. ``score_candidate``
stays the definition (and what ``wangzi explain`` shows); this module is its column form, and
``tests/test_cohort_scores.py`` holds the two equal on cohorts made to hit every branch.

How the two stay equal: every sum here adds the same terms in the same order as the row form
(an absent term adds ``0.0``, which leaves a float sum unchanged), so each float operation is
the same IEEE operation; roundings to 2 and 4 decimals are Python's ``round``
(:func:`rounded`); and the values quoted in top contributors are the rows' own objects.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from enrichment.indices import (
    PRIOR,
    TOP_CONTRIBUTORS,
    Distribution,
    Reference,
    Tiers,
    Weights,
    _numeric,
    _plain,
    group_key,
)
from enrichment.schema import (
    COMPOSITE,
    COVERAGE_COLUMNS,
    INDEX_COLUMNS,
    SCORE_COLUMNS,
    coverage_column,
    index_column,
    score_column,
)
from enrichment.tiers import TIERS

_NAN = float("nan")


def rounded(values: np.ndarray, digits: int) -> np.ndarray:
    """``round(x, digits)`` of every element, as Python's ``round`` gives it (NaN stays NaN).

    ``rint(x · 10^d) / 10^d`` is Python's answer unless ``x · 10^d`` lies within rounding error
    of a half (Python rounds the exact decimal value of ``x``; the product may have rounded
    across the half): those few elements are rounded by Python itself."""
    scale = 10.0 ** digits
    scaled = values * scale
    out = np.rint(scaled) / scale
    with np.errstate(invalid="ignore"):
        near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    for at in np.flatnonzero(near_half).tolist():
        out.flat[at] = round(float(values.flat[at]), digits)
    return out


def percentiles(distribution: Distribution, values: np.ndarray) -> np.ndarray:
    """:meth:`Distribution.percentile` of every value (finite floats), the same arithmetic."""
    knots = np.asarray(distribution.knots, dtype=float)
    below = np.asarray(distribution.below, dtype=float)
    equal = np.asarray(distribution.equal, dtype=float)
    n = distribution.n
    count = len(knots)
    i = np.searchsorted(knots, values, side="left")
    inside = np.minimum(i, count - 1)
    at_knot = (i < count) & (knots[inside] == values)
    less = np.where(i == 0, 0.0, float(n))
    same = np.where(at_knot, equal[inside], 0.0)
    less = np.where(at_knot, below[inside], less)
    between = ~at_knot & (i > 0) & (i < count)
    if between.any():
        j = i[between]
        start = below[j - 1] + equal[j - 1]
        less[between] = start + (below[j] - start) * (values[between] - knots[j - 1]) / (knots[j] - knots[j - 1])
    return np.minimum(100.0, np.maximum(0.0, 100.0 * (less + same / 2 - 0.5) / (n - 1)))


def _numbers(values: Sequence[Any]) -> np.ndarray:
    """``_numeric`` of every value as a float column, NaN where it gives None."""
    # The common cases inline (a float, None), the rest through _numeric; non-finite to NaN after.
    out = np.array([v if type(v) is float else _NAN if v is None else float(v) if type(v) is int else _or_nan(_numeric(v))
                    for v in values], dtype=float)
    out[np.isinf(out)] = _NAN
    return out


def _or_nan(value: float | None) -> float:
    return _NAN if value is None else value


def _distribution(values: np.ndarray) -> Distribution:
    """``Distribution.of(values)`` (exact: every distinct value a knot), from a float column."""
    ordered = np.sort(values)
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    equal = np.diff(np.append(starts, len(ordered)))
    return Distribution(len(ordered), tuple(ordered[starts].tolist()), tuple(starts.tolist()), tuple(equal.tolist()))


class ColumnSource(Protocol):
    """Rows' features already read as columns (``enrichment.ranking_inputs.KeptColumns``), as
    :class:`CohortColumns` reads a feature of every view: NaN where there is no number, a
    yes/no fact as 1.0 or 0.0."""

    def numbers(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Each row's number of ``name``, and which rows hold a yes/no fact there."""
        ...

    def tables(self, name: str) -> np.ndarray:
        """Which rows hold a table as ``name``."""
        ...

    def table(self, name: str, key: str) -> np.ndarray:
        """Each row's number under ``key`` of its table ``name``."""
        ...


@dataclass
class _Entries:
    """The values a component ranked within tiers is ranked by: ``rows`` (their positions in
    the cohort), ``values`` and ``tiers`` (tier positions), grouped as ``<prefix><tier>``
    (prefix ``weibo:`` per platform, empty for the candidate's own tier)."""

    prefix: str
    rows: np.ndarray
    values: np.ndarray
    tiers: np.ndarray


class CohortColumns:
    """A cohort's feature rows (ranking views) as the columns scoring reads, taken out of the
    rows once: each platform's tier position and the candidate's (the highest), each component
    ranked cohort-wide as a float column with its yes/no facts, each component ranked within
    tiers as its entries (what ``component_entries`` gives every row). From them, the live
    cohort's :class:`Reference` (what ``cohort_reference`` makes of the same rows) and every
    row's percentiles against any reference grouped by the same tiers."""

    def __init__(self, views: Sequence[Mapping[str, Any]], weights: Weights, tiers: Tiers, *,
                 kept: tuple[ColumnSource, Sequence[int]] | None = None, fresh: Collection[str] = ()) -> None:
        """``kept``: some rows' values already read as columns (the kept views decoded together,
        ``enrichment.ranking_inputs.decode_cohort``) and those rows' positions among ``views``:
        their features are read from the columns, not the views (walking 2,000 views for each
        of ~50 features was most of making the columns), but those named in ``fresh`` (values
        set on the views since: earliness)."""
        self.views = views
        self.weights = weights
        self.tiers = tiers
        self.size = n = len(views)
        self._kept = None
        if kept is not None:
            source, positions = kept
            at = np.asarray(positions, dtype=np.int64)
            others = np.setdiff1d(np.arange(n), at)
            self._kept = (source, at, others, others.tolist(), frozenset(fresh))
        #: platform -> tier position of each row's account there (-1: no follower count).
        self.platform_tier: dict[str, np.ndarray] = {}
        self.tier = np.full(n, -1, dtype=np.int64)
        for platform, name, edges in tiers._followers:
            followers = self._read(name)[0]
            known = ~np.isnan(followers)
            if not known.any():
                continue
            position = np.full(n, -1, dtype=np.int64)
            position[known] = np.searchsorted(np.asarray(edges, dtype=float), followers[known], side="right")
            self.platform_tier[platform] = position
            np.maximum(self.tier, position, out=self.tier)
        #: component -> its numbers (NaN: none; yes/no facts left out) and its yes/no facts (row -> fact).
        self.numbers: dict[str, np.ndarray] = {}
        self.facts: dict[str, dict[int, bool]] = {}
        #: component ranked within tiers -> its entries, and the rows whose value is a yes/no fact
        #: (left out of the reference, as cohort_reference leaves them out).
        self.entries: dict[str, list[_Entries]] = {}
        self.fact_rows: dict[str, np.ndarray] = {}
        self._groups: dict[str, dict[int, list[str]]] = {}  # component -> row -> its groups (groups())
        self._group_texts: dict[str, dict[int, str]] = {}  # component -> row -> their JSON text (groups_text())
        within = tiers._within
        for component in weights.components:
            numbers, is_fact = self._read(component)
            fact_rows = np.flatnonzero(is_fact)
            if component in within:
                self.entries[component] = self._entries(component, numbers)
                self.fact_rows[component] = fact_rows
            else:
                # (a yes/no fact is ranked as itself, not among the numbers)
                self.facts[component] = dict(zip(fact_rows.tolist(), (numbers[fact_rows] == 1.0).tolist()))
                numbers[fact_rows] = _NAN
                self.numbers[component] = numbers

    def _read(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Every row's value of the feature ``name`` as :func:`_numbers` reads it (NaN: none;
        a yes/no fact as 1.0 or 0.0), and which rows hold a yes/no fact there."""
        if self._kept is None or name in self._kept[4]:
            raw = [view.get(name) for view in self.views]
            return _numbers(raw), np.array([v is True or v is False for v in raw], dtype=bool)
        source, at, others, other_rows, _ = self._kept
        numbers, is_fact = np.full(self.size, _NAN), np.zeros(self.size, dtype=bool)
        numbers[at], is_fact[at] = source.numbers(name)
        if other_rows:
            raw = [self.views[i].get(name) for i in other_rows]
            numbers[others] = _numbers(raw)
            is_fact[others] = [v is True or v is False for v in raw]
        return numbers, is_fact

    def _breakdowns(self, name: str) -> tuple[np.ndarray, Callable[[str], np.ndarray]]:
        """Which rows hold a table (a per-platform breakdown) as the feature ``name``, and what
        reads every row's number under a key of it (NaN: no table, no such key, no number)."""
        if self._kept is None or name in self._kept[4]:
            tables = [view.get(name) for view in self.views]
            return (np.array([isinstance(b, dict) for b in tables], dtype=bool),
                    lambda key: _numbers([b.get(key) if isinstance(b, dict) else None for b in tables]))
        source, at, others, other_rows, _ = self._kept
        own = [self.views[i].get(name) for i in other_rows]
        has = np.zeros(self.size, dtype=bool)
        has[at] = source.tables(name)
        has[others] = [isinstance(b, dict) for b in own]

        def numbers(key: str) -> np.ndarray:
            out = np.full(self.size, _NAN)
            out[at] = source.table(name, key)
            out[others] = _numbers([b.get(key) if isinstance(b, dict) else None for b in own])
            return out

        return has, numbers

    def _entries(self, component: str, numbers: np.ndarray) -> list[_Entries]:
        """The entries of a component ranked within tiers (``numbers``: its own values, as
        :meth:`_read` reads them): per platform (in the order of the platforms' names, as
        ``component_entries`` sorts them) for rows breaking it down, one in the candidate's
        tier for the others."""
        broken_down, breakdown = self._breakdowns(f"{component}_by_platform")
        found = []
        for platform in sorted(self.platform_tier):
            numbers_there = breakdown(platform)
            positions = self.platform_tier[platform]
            rows = np.flatnonzero(broken_down & ~np.isnan(numbers_there) & (positions >= 0))
            if len(rows):
                found.append(_Entries(f"{platform}:", rows, numbers_there[rows], positions[rows]))
        numbers = np.where(broken_down, _NAN, numbers)
        rows = np.flatnonzero(~np.isnan(numbers) & (self.tier >= 0))
        if len(rows):
            found.append(_Entries("", rows, numbers[rows], self.tier[rows]))
        return found

    def reference(self) -> Reference:
        """The live cohort's reference: ``cohort_reference(views, weights)`` of these rows."""
        distributions: dict[str, Distribution] = {}
        for component, numbers in self.numbers.items():
            known = numbers[~np.isnan(numbers)]
            if len(known):
                distributions[component] = _distribution(known)
        for component, entries in self.entries.items():
            facts = self.fact_rows[component]
            for entry in entries:
                keep = ~np.isin(entry.rows, facts) if len(facts) else np.ones(len(entry.rows), dtype=bool)
                for position in np.unique(entry.tiers[keep]).tolist():
                    chosen = keep & (entry.tiers == position)
                    distributions[group_key(component, f"{entry.prefix}{TIERS[position]}")] = \
                        _distribution(entry.values[chosen])
        return Reference(size=self.size, distributions=distributions, tiers=self.tiers,
                         weights_fingerprint=self.weights.fingerprint)

    def percentiles(self, reference: Reference) -> np.ndarray:
        """Rows x :attr:`Weights.components`: each component's percentile as
        ``score_candidate`` takes it against ``reference`` (grouped by these tiers; NaN: none -
        no value, no data, no spread, not in the reference)."""
        distributions = reference.distributions
        out = np.full((self.size, len(self.weights.components)), _NAN)
        for k, component in enumerate(self.weights.components):
            if component in self.entries:
                out[:, k] = self._within_tier(component, distributions)
                continue
            found = distributions.get(component)
            if found is not None and found.informative:
                numbers = self.numbers[component]
                known = ~np.isnan(numbers)
                out[known, k] = percentiles(found, numbers[known])
            # Yes/no facts are 100 or 0 whatever the reference holds.
            for i, fact in self.facts[component].items():
                out[i, k] = 100.0 if fact else 0.0
        return out

    def _within_tier(self, component: str, distributions: Mapping[str, Distribution]) -> np.ndarray:
        """The percentiles of a component ranked within tiers: the mean, over the row's entries
        (in order), of those whose group has an informative distribution."""
        total = np.zeros(self.size)
        count = np.zeros(self.size, dtype=np.int64)
        for entry in self.entries[component]:
            for position in np.unique(entry.tiers).tolist():
                found = distributions.get(group_key(component, f"{entry.prefix}{TIERS[position]}"))
                if found is None or not found.informative:
                    continue
                chosen = entry.tiers == position
                rows = entry.rows[chosen]
                total[rows] += percentiles(found, entry.values[chosen])
                count[rows] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, _NAN)

    def groups(self, row: int, component: str) -> list[str]:
        """The groups a top contributor ranked within tiers names: its row's entries' groups, in
        order (what ``component_entries`` gives)."""
        found = self._groups.get(component)
        if found is None:
            found = self._groups[component] = {}
            for entry in self.entries[component]:
                for at, position in zip(entry.rows.tolist(), entry.tiers.tolist()):
                    found.setdefault(at, []).append(f"{entry.prefix}{TIERS[position]}")
        return list(found.get(row, ()))

    def groups_text(self, row: int, component: str) -> str:
        """``json.dumps(groups(row, component))``: made once per distinct list of groups (rows
        mostly share a few), not once per contributor."""
        texts = self._group_texts.get(component)
        if texts is None:
            self.groups(row, component)  # (every row's groups of this component)
            made: dict[tuple[str, ...], str] = {}
            texts = self._group_texts[component] = {}
            for at, groups in self._groups[component].items():
                key = tuple(groups)
                text = made.get(key)
                if text is None:
                    text = made[key] = _encode(groups)
                texts[at] = text
        return texts.get(row, "[]")

    def rankings(self, reference: Reference, rows: Sequence[int] | None = None,
                 percentiles: np.ndarray | None = None, *, contributors_text: bool = False) -> list[dict[str, Any]]:
        """The ranking columns of every row (of ``rows`` only, in their order) against
        ``reference``: :func:`cohort_rankings`. ``percentiles``: :meth:`percentiles` of the same
        reference, when the caller has them already. With ``contributors_text``, each row's
        ``top_contributors`` is given as its JSON text, the text ``json.dumps`` makes of them,
        made without making them: what a ranking writes (:func:`_contributors_text`)."""
        if percentiles is None:
            percentiles = self.percentiles(reference)
        return _rankings(self, percentiles, list(range(self.size)) if rows is None else list(rows),
                         contributors_text)

    def digests(self, percentiles: np.ndarray, reference: Reference, label: str, also: Sequence[str] = ()) -> list[str]:
        """Each row's ranking digest: a digest of everything its ranking against ``reference``
        (recorded as ``label``) is a function of besides its own features - its percentiles,
        its values of the features named in ``also`` (those a feature row may have rewritten:
        earliness), the reference's tiers, the weights and this scoring code. Equal digests,
        equal rankings: a row whose stored digest is this one keeps its stored ranking."""
        context = hashlib.blake2b(json.dumps([label, self.weights.fingerprint, reference.tiers.to_json(),
                                              _code_fingerprint()], sort_keys=True).encode(), digest_size=16)
        # One NaN (the percentiles' absent value) whatever bits an operation left in it.
        percentiles = np.where(np.isnan(percentiles), _NAN, percentiles)
        out = []
        for view, row in zip(self.views, percentiles):
            digest = context.copy()
            digest.update(row.tobytes())
            digest.update(repr([view.get(name) for name in also]).encode())
            out.append(digest.hexdigest())
        return out


def no_data_digest(weights: Weights, reference: Reference, label: str, also: Sequence[str] = ()) -> str:
    """The ranking digest of a row with nothing to rank - no value of any feature ranking reads,
    so no percentile, no tier and no earliness - against ``reference`` (only its tiers matter)
    recorded as ``label``: the same for every such row. Its ranking is the no-data one
    (indices and scores NULL, coverage 0, no contributors, tier NULL) whatever the cohort, so a
    row stored with that ranking and this digest is current, and no ranking rewrites it.

    It is not the digest :meth:`CohortColumns.digests` gives such a row but one made from it:
    a row with values whose percentiles are all absent (every distribution it falls in without
    spread) has that one too, and its values still count in the live cohort. This one says the
    row has nothing at all, so a live ranking may leave it out (``enrichment.stage``)."""
    columns = CohortColumns([{}], weights, reference.tiers)
    digest = columns.digests(np.full((1, len(weights.components)), _NAN), reference, label, also)[0]
    return hashlib.blake2b(f"nothing to rank:{digest}".encode(), digest_size=16).hexdigest()


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """A digest of the scoring code's source (this module and ``enrichment/indices.py``): a
    change to how rankings are made makes every ranking digest new."""
    digest = hashlib.blake2b(digest_size=16)
    for path in (Path(__file__), Path(__file__).with_name("indices.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def live_columns(views: Sequence[Mapping[str, Any]], weights: Weights, *,
                 kept: tuple[ColumnSource, Sequence[int]] | None = None,
                 fresh: Collection[str] = ()) -> tuple[CohortColumns, Reference]:
    """The live cohort's columns and its reference (``cohort_reference(views, weights)``), the
    rows read once for both (``kept``, ``fresh``: as :class:`CohortColumns` takes them)."""
    columns = CohortColumns(views, weights, weights.tiers, kept=kept, fresh=fresh)
    return columns, columns.reference()


def cohort_rankings(views: Sequence[Mapping[str, Any]], weights: Weights, reference: Reference) -> list[dict[str, Any]]:
    """For each view (a feature row as ranking reads it), what
    ``ranking_columns(score_candidate(view, weights, reference, explain=False))`` is, in the
    same order."""
    return CohortColumns(views, weights, reference.tiers).rankings(reference)


def _rankings(columns: CohortColumns, pct: np.ndarray, rows: list[int], contributors_text: bool = False) -> list[dict[str, Any]]:
    """The ranking columns of ``rows`` from the cohort's percentiles: the sums over the whole
    cohort at once, the Python objects (contributors above all) for those rows only; with
    ``contributors_text``, the contributors as their JSON text (:func:`_contributors_text`)."""
    weights = columns.weights
    if not columns.size or not rows:
        return []
    position = {c: k for k, c in enumerate(weights.components)}
    plan = weights._plan
    n = columns.size
    rounded_index: dict[str, np.ndarray] = {}
    rounded_coverage: dict[str, np.ndarray] = {}
    rounded_score: dict[str, np.ndarray] = {}
    # Every index's points (as the composite counts them, too), for the top contributors.
    tops: list[tuple[str, list[str], list[float], list[str | None], np.ndarray]] = []
    composite_names: list[str] = []
    composite_weights: list[float] = []
    composite_from: list[str] = []
    composite_points: list[np.ndarray] = []
    for index in plan.indices:
        used = np.zeros(n)
        weighted = np.zeros(n)
        points_sum = np.zeros(n)
        names: list[str] = []
        points: list[np.ndarray] = []
        if index.total:
            for component, weight in index.table.items():
                if not weight > 0:
                    continue
                p = pct[:, position[component]]
                have = ~np.isnan(p)
                if not have.any():
                    continue
                used += np.where(have, weight, 0.0)
                weighted += np.where(have, p * weight, 0.0)
                term = weight * (p - PRIOR) / index.total
                points_sum += np.where(have, term, 0.0)
                names.append(component)
                points.append(term)  # NaN where the row has no percentile
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(used > 0, weighted / used, _NAN)
            coverage = np.where(used > 0, used / index.total if index.total else 0.0, 0.0)
        score = np.where(used > 0, PRIOR + points_sum, _NAN)
        rounded_index[index.name] = rounded(raw, 4)
        rounded_coverage[index.name] = rounded(coverage, 4)
        rounded_score[index.name] = rounded(score, 4)
        weights_of = [index.table[c] for c in names]
        tops.append((index.name, names, weights_of, [None] * len(names), _stack(points, n)))
        composite_names += names
        composite_weights += weights_of
        composite_from += [index.name] * len(names)
        composite_points += [p * index.share for p in points]
    tops.append((COMPOSITE, composite_names, composite_weights, composite_from, _stack(composite_points, n)))

    # The composite, from the rounded index values as score_candidate takes them.
    with_data_weight = np.zeros(n)
    with_data_sum = np.zeros(n)
    coverage_sum = np.zeros(n)
    score_sum = np.zeros(n)
    any_score = np.zeros(n, dtype=bool)
    for name, weight, _, _, _ in plan.composite:
        raw = rounded_index[name]
        have = ~np.isnan(raw) & (weight > 0)
        with_data_weight += np.where(have, weight, 0.0)
        with_data_sum += np.where(have, weight * raw, 0.0)
        coverage_sum += weight * rounded_coverage[name]
        s = rounded_score[name]
        scored = ~np.isnan(s)
        score_sum += np.where(scored, weight * (s - PRIOR), 0.0)
        any_score |= scored
    index_weight = plan.index_weight
    with np.errstate(invalid="ignore", divide="ignore"):
        rounded_index[COMPOSITE] = rounded(np.where(with_data_weight > 0, with_data_sum / with_data_weight, _NAN), 4)
        rounded_coverage[COMPOSITE] = (rounded(coverage_sum / index_weight, 4) if index_weight else np.zeros(n))
        rounded_score[COMPOSITE] = (rounded(np.where(any_score, PRIOR + score_sum / index_weight, _NAN), 4)
                                    if index_weight else np.full(n, _NAN))

    chosen_rows = np.asarray(rows, dtype=np.int64)
    by_column: dict[str, list[float | None]] = {}
    for name in [index.name for index in plan.indices] + [COMPOSITE]:
        for column, values in ((index_column(name), rounded_index[name]), (coverage_column(name), rounded_coverage[name]),
                               (score_column(name), rounded_score[name])):
            by_column[column] = [None if value != value else value for value in values[chosen_rows].tolist()]
    order = INDEX_COLUMNS + COVERAGE_COLUMNS + SCORE_COLUMNS  # ranking_columns' order
    tier_names = [TIERS[t] if t >= 0 else None for t in columns.tier[chosen_rows].tolist()]
    chosen = [(name, names, weights_of, from_index, *_chosen(names, points[chosen_rows]))
              for name, names, weights_of, from_index, points in tops]  # (its contributors as arrays)
    percentile_2 = rounded(pct[chosen_rows], 2)
    within = columns.entries
    views = columns.views
    result: list[dict[str, Any]] = []
    if contributors_text:
        texts = _contributors_text(columns, chosen, position, rows, percentile_2)
        for at, numbers in enumerate(zip(*(by_column[c] for c in order))):
            ranking = dict(zip(order, numbers))
            ranking["tier"] = tier_names[at]
            ranking["top_contributors"] = texts[at]
            result.append(ranking)
        return result
    listed = [(name, names, weights_of, from_index, *_as_lists(picks, picked))
              for name, names, weights_of, from_index, picks, picked in chosen]
    for at, (row, numbers, pct_row) in enumerate(zip(rows, zip(*(by_column[c] for c in order)), percentile_2.tolist())):
        view = views[row]
        ranking: dict[str, Any] = dict(zip(order, numbers))
        ranking["tier"] = tier_names[at]
        contributors: dict[str, list[dict[str, Any]]] = {}
        for name, names, weights_of, from_index, picks, picked_points in listed:
            items = []
            for j, points_value in zip(picks[at], picked_points[at]):
                component = names[j]
                value = view.get(component)
                if component in within:
                    groups = columns.groups(row, component)
                else:
                    groups = ["yes/no"] if value is True or value is False else ["cohort"]
                item = {"component": component, "value": _plain(value), "percentile": pct_row[position[component]],
                        "weight": weights_of[j], "points": points_value, "groups": groups}
                if from_index[j] is not None:
                    item["index"] = from_index[j]
                items.append(item)
            contributors[name] = items
        ranking["top_contributors"] = contributors
        result.append(ranking)
    return result


_encode = json.JSONEncoder().encode  # json.dumps' defaults, as the JSON column writes a value


def _json_scalar(value: Any) -> str:
    """``json.dumps(value)`` of a contributor's value, the usual types without the encoder."""
    kind = type(value)
    if kind is float:
        return float.__repr__(value) if value - value == 0 else _encode(value)  # (NaN and infinities: the encoder's)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return _encode(value)


def _contributors_text(columns: CohortColumns, chosen: list[tuple[Any, ...]], position: Mapping[str, int],
                       rows: list[int], percentile_2: np.ndarray) -> list[str]:
    """Each row's top contributors as ``json.dumps`` writes the dicts :func:`_rankings` makes
    (the same keys in the same order, the same numbers), written as text directly: making
    24,000 contributor dicts and encoding them was 0.3 s of a live re-rank of 2,000 rows in
    which every row moves (``tests/test_cohort_scores.py`` pins the text to the dicts').

    Made a column at a time: the text of each (row, component) some list quotes (its value and
    percentile; its groups) once, each distinct percentile and points value once, then each
    list's s-th items of every row in one comprehension over those columns. Item by item,
    looking each piece up, it was ~3 µs an item: 0.08 s for 2,000 rows (0.06 s now)."""
    within = columns.entries
    views = columns.views
    n = len(rows)
    every = np.arange(n)
    used = list(dict.fromkeys(component for _, names, *_ in chosen for component in names))
    slot = {component: k for k, component in enumerate(used)}
    # Which (component, row) pairs some list quotes: only their texts are made.
    quoted = np.zeros((len(used), n), dtype=bool)
    lists = []
    for name, names, weights_of, from_index, order, picked in chosen:
        present = ~np.isnan(picked)  # (a row's missing contributors sort last: present ones lead)
        where = np.array([slot[c] for c in names], dtype=np.int64)[order] if names else order
        for s in range(order.shape[1]):
            quoted[where[present[:, s], s], every[present[:, s]]] = True
        lists.append((name, names, weights_of, from_index, order, picked, present, where))
    middle = np.full((len(used), n), "", dtype=object)  # value and percentile
    groups = np.full((len(used), n), "", dtype=object)
    cohort, yes_no = ', "groups": ["cohort"]', ', "groups": ["yes/no"]'
    # The quoted percentiles' texts, of all components at once.
    quoted_at = [np.flatnonzero(quoted[k]) for k in range(len(used))]
    percentile_text = _texts(np.concatenate([percentile_2[at, position[component]]
                                             for at, component in zip(quoted_at, used)] or [np.zeros(0)])).tolist()
    ends = np.cumsum([len(at) for at in quoted_at]).tolist()
    for k, (component, at, end) in enumerate(zip(used, quoted_at, ends)):
        if not len(at):
            continue
        ats = at.tolist()
        values = [views[rows[i]].get(component) for i in ats]
        middle[k, at] = [f'{value}, "percentile": {text}'
                         for value, text in zip(_value_texts(values), percentile_text[end - len(ats):end])]
        if component in within:
            groups[k, at] = [f', "groups": {columns.groups_text(rows[i], component)}' for i in ats]
        else:
            groups[k, at] = [yes_no if value is True or value is False else cohort for value in values]
    texts = []
    for name, names, weights_of, from_index, order, picked, present, where in lists:
        opening = f"{_encode(name)}: ["
        if not names:
            texts.append([f"{opening}]"] * n)
            continue
        heads = np.array([f'{{"component": {_encode(component)}, "value": ' for component in names], dtype=object)
        weights_text = np.array([f', "weight": {_encode(weight)}, "points": ' for weight in weights_of], dtype=object)
        tails = np.array(["}" if index is None else f', "index": {_encode(index)}}}' for index in from_index], dtype=object)
        points_text = _texts(picked)
        slots = []
        for s in range(order.shape[1]):  # each row's s-th contributor (past its last: made, not used)
            j, k = order[:, s], where[:, s]
            slots.append([f"{head}{middle_text}{weight}{points}{groups_text}{tail}" for head, middle_text, weight, points,
                          groups_text, tail in zip(heads[j].tolist(), middle[k, every].tolist(), weights_text[j].tolist(),
                                                   points_text[:, s].tolist(), groups[k, every].tolist(), tails[j].tolist())])
        full = order.shape[1]
        texts.append([f"{opening}{', '.join(items if count == full else items[:count])}]"
                      for items, count in zip(zip(*slots), present.sum(axis=1).tolist())])
    return [f"{{{', '.join(parts)}}}" for parts in zip(*texts)]


def _value_texts(values: list[Any]) -> list[str]:
    """``_json_scalar(_plain(value))`` of each value: a float, an int or None inline (a
    non-finite float is null), anything else through them."""
    out = []
    for value in values:
        kind = type(value)
        if kind is float:
            out.append(float.__repr__(value) if value - value == 0 else "null")
        elif kind is int:
            out.append(int.__repr__(value))
        elif value is None:
            out.append("null")
        else:
            out.append(_json_scalar(_plain(value)))
    return out


def _texts(values: np.ndarray) -> np.ndarray:
    """``_json_scalar`` of every float of an array, as an object array of the same shape: each
    distinct value (by its bits: -0.0 is not 0.0, whose sign the text keeps) written once."""
    if not values.size:
        return np.full(values.shape, "", dtype=object)
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    distinct, inverse = np.unique(bits.ravel(), return_inverse=True)
    texts = np.array([_json_scalar(value) for value in distinct.view(np.float64).tolist()], dtype=object)
    return texts[inverse.reshape(-1)].reshape(values.shape)


def _stack(columns: list[np.ndarray], n: int) -> np.ndarray:
    return np.stack(columns, axis=1) if columns else np.zeros((n, 0))


def _chosen(names: list[str], points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the top contributors among ``names`` (columns of ``points``, NaN: no data) as
    ``indices._top`` picks them: by |points rounded to 2 decimals| descending, then name, then
    position; as arrays of rows x the top's size: their positions in ``names`` and their
    rounded points (NaN past a row's last: a row's missing ones sort last)."""
    n, m = points.shape
    if m == 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0))
    points_2 = rounded(points, 2)
    size = np.abs(points_2)
    missing = np.isnan(size)
    name_rank = np.empty(m, dtype=np.int64)
    name_rank[sorted(range(m), key=lambda j: names[j])] = np.arange(m)
    # lexsort: the last key is the first sorted by.
    keys = (np.broadcast_to(np.arange(m), (n, m)), np.broadcast_to(name_rank, (n, m)), np.where(missing, np.inf, -size))
    order = np.lexsort(keys, axis=1)[:, :TOP_CONTRIBUTORS]
    return order, np.take_along_axis(points_2, order, axis=1)


def _as_lists(order: np.ndarray, picked: np.ndarray) -> tuple[list[list[int]], list[list[float]]]:
    """:func:`_chosen`'s arrays as each row's lists of its contributors only."""
    picks: list[list[int]] = order.tolist()
    values: list[list[float]] = picked.tolist()
    for row in np.flatnonzero(np.isnan(picked).any(axis=1)).tolist():
        keep = [k for k, value in enumerate(values[row]) if value == value]
        picks[row] = [picks[row][k] for k in keep]
        values[row] = [values[row][k] for k in keep]
    return picks, values
