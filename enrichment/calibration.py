"""Calibration against outcomes (``wangzi evaluate``): do the indices rank candidates the way
the marketplace's orders, GMV, clicks and conversions do, and which component weights would
rank them better?

For each index and each of its components, the Spearman correlation with each outcome, with
a bootstrap interval and N; precision@k of each index's ranking against the top decile of
each outcome; and non-negative component weights fitted by cross-validated regression,
compared on held-out folds with the weights in use. docs/features.md ("Calibration against
outcomes") says how each number is computed.

The index scores are recomputed here from the stored features with the weights given
(:func:`enrichment.indices.score_cohort`, the ranking's own scoring, against the evaluated
candidates as the cohort), so default and fitted weights are compared on the same footing.
An index score is the weighted mean of its components' percentiles with a component without
data counted at 50, so it is linear in those percentiles: fitting weights is a linear
regression on them, and a weight below zero would mean "rank the candidate lower the better
they do here", so weights are kept non-negative.

Everything but :func:`load_cohort` is pure.
"""

from __future__ import annotations

import math
import tomllib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from enrichment.indices import PRIOR, Weights, score_cohort
from enrichment.schema import COMPOSITE, score_column

#: The outcomes, in the order they are shown (storage.outcomes.OUTCOMES holds their types).
OUTCOME_NAMES: tuple[str, ...] = ("gmv", "orders", "conversions", "clicks")
#: A correlation needs this many candidates with both values; an interval this many.
MIN_PAIRS, MIN_INTERVAL = 3, 10
#: Candidates with features and the outcome below which no weights are fitted: 5 folds of 10.
FOLDS = 5
MIN_FIT = 50
#: The share of candidates with the highest outcome that precision@k is measured against.
TOP_SHARE = 0.1
#: Bootstrap resamples by default, and the interval they give.
RESAMPLES = 1000
INTERVAL = (2.5, 97.5)


# --------------------------------------------------------------------------- loading


@dataclass
class Cohort:
    """What is evaluated: each candidate's newest features, display names, and per outcome
    the candidate's mean over the periods chosen."""

    features: dict[int, dict[str, Any]]
    names: dict[int, str]
    outcomes: dict[str, dict[int, float]]
    periods: list[str]


def load_cohort(session: Any, *, as_of: datetime | None = None, periods: Sequence[str] | None = None) -> Cohort:
    """Every candidate's newest feature row (as of a time, if given) and their outcomes (of
    these canonical periods, if given), averaged per candidate over their periods."""
    from storage.features import latest_feature_snapshots
    from storage.outcomes import outcome_rows

    features: dict[int, dict[str, Any]] = {}
    names: dict[int, str] = {}
    for snapshot, name, _active in latest_feature_snapshots(session, as_of=as_of):
        features[snapshot.candidate_id] = dict(snapshot.features or {})
        names[snapshot.candidate_id] = name
    values: dict[str, dict[int, list[float]]] = {name: defaultdict(list) for name in OUTCOME_NAMES}
    seen: set[str] = set()
    for row in outcome_rows(session, periods):
        seen.add(row["period"])
        for name in OUTCOME_NAMES:
            if row[name] is not None:
                values[name][row["candidate_id"]].append(float(row[name]))
    outcomes = {name: {cid: sum(found) / len(found) for cid, found in by_candidate.items()}
                for name, by_candidate in values.items()}
    return Cohort(features, names, outcomes, sorted(seen))


# --------------------------------------------------------------------------- statistics


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n along the last axis, ties given their average rank (what Spearman ranks by)."""
    values = np.asarray(values, dtype=float)
    flat = values.reshape(-1, values.shape[-1])
    rows, n = flat.shape
    order = np.argsort(flat, axis=1, kind="mergesort")
    ordered = np.take_along_axis(flat, order, axis=1)
    positions = np.broadcast_to(np.arange(n), (rows, n))
    starts = np.ones((rows, n), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends = np.ones((rows, n), dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, positions, 0), axis=1)
    last = np.flip(np.minimum.accumulate(np.flip(np.where(ends, positions, n - 1), axis=1), axis=1), axis=1)
    ranks = np.empty_like(flat)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=1)
    return ranks.reshape(values.shape)


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of ``a`` with the same row of ``b`` (NaN where constant)."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    denominator = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * b).sum(axis=-1) / np.where(denominator > 0, denominator, 1.0), np.nan)


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation (ties averaged); None for fewer than :data:`MIN_PAIRS`
    pairs or when either side is constant."""
    if len(x) < MIN_PAIRS:
        return None
    rho = float(_pearson_rows(average_ranks(np.asarray(x, dtype=float)), average_ranks(np.asarray(y, dtype=float))))
    return None if math.isnan(rho) else rho


def _tie_groups(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sort order of ``values``, where each group of equal values starts in it, and each
    value's group."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    group = np.empty(len(values), dtype=np.int64)
    group[order] = np.cumsum(np.concatenate([[True], ordered[1:] != ordered[:-1]])) - 1
    return order, starts, group


def _resample_ranks(counts: np.ndarray, ties: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Each candidate's rank within each resample (rows of ``counts``: how often each candidate
    was drawn), ties averaged, computed from the one sort of the whole sample."""
    order, starts, group = ties
    in_groups = np.add.reduceat(counts[:, order], starts, axis=1)
    before = np.cumsum(in_groups, axis=1) - in_groups
    return (before + (in_groups + 1) / 2.0)[:, group]


def bootstrap_interval(x: Sequence[float], y: Sequence[float], resamples: int = RESAMPLES,
                       seed: int = 0) -> tuple[float | None, float | None]:
    """The 95 % percentile-bootstrap interval of Spearman's rho: pairs resampled with
    replacement ``resamples`` times (seeded; each resample ranked afresh, ties averaged);
    resamples where a side is constant are left out. (None, None) below :data:`MIN_INTERVAL`
    pairs."""
    n = len(x)
    if n < MIN_INTERVAL or resamples < 1:
        return None, None
    rng = np.random.default_rng(seed)
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ties_x, ties_y = _tie_groups(xs), _tie_groups(ys)
    rhos: list[np.ndarray] = []
    for start in range(0, resamples, 200):  # a block at a time keeps memory at 200 x n
        block = min(200, resamples - start)
        picks = rng.integers(0, n, size=(block, n))
        counts = np.bincount((picks + n * np.arange(block)[:, None]).ravel(), minlength=block * n).reshape(block, n)
        rx, ry = _resample_ranks(counts, ties_x), _resample_ranks(counts, ties_y)
        mx = (counts * rx).sum(axis=1, keepdims=True) / n
        my = (counts * ry).sum(axis=1, keepdims=True) / n
        covariance = (counts * (rx - mx) * (ry - my)).sum(axis=1)
        spread = np.sqrt((counts * (rx - mx) ** 2).sum(axis=1) * (counts * (ry - my) ** 2).sum(axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            rhos.append(np.where(spread > 0, covariance / np.where(spread > 0, spread, 1.0), np.nan))
    found = np.concatenate(rhos)
    found = found[~np.isnan(found)]
    if not len(found):
        return None, None
    low, high = np.percentile(found, INTERVAL)
    return float(low), float(high)


@dataclass
class Correlation:
    rho: float | None
    low: float | None
    high: float | None
    n: int

    def as_json(self) -> dict[str, Any]:
        return {"rho": _round(self.rho), "low": _round(self.low), "high": _round(self.high), "n": self.n}


def correlate(values: Mapping[int, float | None], outcome: Mapping[int, float], resamples: int = RESAMPLES,
              seed: int = 0) -> Correlation:
    """Spearman between a score (or component) and an outcome over the candidates with both."""
    ids = sorted(cid for cid, value in values.items() if value is not None and cid in outcome)
    x = [float(values[cid]) for cid in ids]  # type: ignore[arg-type]
    y = [outcome[cid] for cid in ids]
    rho = spearman(x, y)
    low, high = bootstrap_interval(x, y, resamples, seed) if rho is not None else (None, None)
    return Correlation(rho, low, high, len(ids))


@dataclass
class Precision:
    precision: float | None
    k: int
    top: int  # candidates in the top outcome decile (more than k when the k-th outcome is tied)
    n: int

    @property
    def chance(self) -> float | None:
        """What a random ranking scores on average: the top decile's share of the candidates."""
        return self.top / self.n if self.n else None

    def as_json(self) -> dict[str, Any]:
        return {"precision": _round(self.precision), "k": self.k, "top_decile": self.top, "n": self.n,
                "chance": _round(self.chance)}


def precision_at_k(scores: Mapping[int, float | None], outcome: Mapping[int, float], k: int | None = None) -> Precision:
    """Of the ``k`` candidates the score ranks highest (ties by candidate id), the share in the
    top outcome decile: the candidates whose outcome is at least the ``ceil(n / 10)``-th
    highest. ``k`` defaults to that decile's size. Over candidates with both values."""
    ids = [cid for cid, value in scores.items() if value is not None and cid in outcome]
    n = len(ids)
    if n == 0:
        return Precision(None, 0, 0, 0)
    size = max(1, math.ceil(n * TOP_SHARE))
    threshold = sorted((outcome[cid] for cid in ids), reverse=True)[size - 1]
    top = {cid for cid in ids if outcome[cid] >= threshold}
    k = min(k or size, n)
    ranked = sorted(ids, key=lambda cid: (-float(scores[cid]), cid))[:k]  # type: ignore[arg-type]
    return Precision(sum(1 for cid in ranked if cid in top) / k, k, len(top), n)


# --------------------------------------------------------------------------- fitting


@dataclass
class Fit:
    """Weights fitted for one index (or the composite) against one outcome."""

    index: str
    outcome: str
    n: int
    default: dict[str, float]
    fitted: dict[str, float] | None = None
    held_out_fitted: float | None = None
    held_out_default: float | None = None
    folds: list[dict[str, float | None]] = field(default_factory=list)
    refused: str | None = None
    kept: list[str] = field(default_factory=list)  # components not fitted (no data that varies): weight kept

    @property
    def better(self) -> bool:
        """The fitted weights ranked the held-out candidates better than the weights in use."""
        return (self.fitted is not None and self.held_out_fitted is not None and self.held_out_default is not None
                and self.held_out_fitted > self.held_out_default)

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "outcome": self.outcome, "n": self.n, "default": self.default,
                "fitted": self.fitted, "held_out_spearman_fitted": _round(self.held_out_fitted),
                "held_out_spearman_default": _round(self.held_out_default), "folds": self.folds,
                "refused": self.refused, "kept": self.kept, "better": self.better}


def fit_weights(index: str, outcome: str, matrix: np.ndarray, target: np.ndarray, names: Sequence[str],
                default: Mapping[str, float], *, folds: int = FOLDS, seed: int = 0) -> Fit:
    """Non-negative weights for the columns of ``matrix`` (percentiles, 50 where no data) that
    rank ``target`` best: a least-squares fit with non-negative coefficients
    (``LinearRegression(positive=True)``) of the outcome's ranks, checked by ``folds``-fold
    cross-validation (shuffled, seeded): each fold is fitted on the others and its held-out
    Spearman between the fitted score and the outcome is compared with the default weights'
    on the same fold. The weights reported are fitted on every candidate and scaled to the
    default weights' total over the fitted components (only ratios matter). A component whose
    column does not vary among these candidates (no data for any of them) says nothing about
    the outcome: it is not fitted and keeps its weight. Refused below :data:`MIN_FIT`
    candidates."""
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import KFold

    n = len(target)
    fit = Fit(index, outcome, n, dict(default))
    if n < MIN_FIT:
        fit.refused = (f"only {n} candidate(s) have features and {outcome}; fitting {len(names)} weights with "
                       f"{folds}-fold cross-validation needs at least {MIN_FIT} ({MIN_FIT // folds} per held-out fold), "
                       "or the held-out correlations are noise")
        return fit
    if len(set(target.tolist())) < 2:
        fit.refused = f"every candidate has the same {outcome}: there is nothing to rank"
        return fit
    varying = [j for j in range(matrix.shape[1]) if np.ptp(matrix[:, j]) > 0]
    if not varying:
        fit.refused = f"no component of {index} has data that differs among these candidates"
        return fit
    fit.kept = [names[j] for j in range(len(names)) if j not in varying]
    columns = matrix[:, varying]
    ranks = average_ranks(target)
    base = np.array([default[c] for c in names], dtype=float)
    fitted_rhos, default_rhos = [], []
    for number, (train, test) in enumerate(KFold(n_splits=folds, shuffle=True, random_state=seed).split(columns), 1):
        model = LinearRegression(positive=True).fit(columns[train], ranks[train])
        fitted_rho = spearman(columns[test] @ model.coef_, target[test])
        default_rho = spearman(matrix[test] @ base, target[test])
        # A score that does not vary ranks nobody: no correlation (0), not "unknown".
        fitted_rhos.append(fitted_rho or 0.0)
        default_rhos.append(default_rho or 0.0)
        fit.folds.append({"fold": number, "n": len(test), "fitted": _round(fitted_rho), "default": _round(default_rho)})
    fit.held_out_fitted = float(np.mean(fitted_rhos))
    fit.held_out_default = float(np.mean(default_rhos))
    coefficients = LinearRegression(positive=True).fit(columns, ranks).coef_
    if not np.any(coefficients > 0):
        fit.refused = f"no component rises with {outcome} among these candidates: every fitted weight is 0"
        return fit
    total = base[varying].sum()
    scale = total / coefficients.sum() if total > 0 else 1.0
    fitted = dict(default)
    fitted.update({names[j]: round(float(w * scale), 3) for j, w in zip(varying, coefficients)})
    fit.fitted = fitted
    return fit


# --------------------------------------------------------------------------- evaluation


@dataclass
class Evaluation:
    candidates: int
    outcomes: dict[str, int]  # outcome -> candidates with it and features
    correlations: dict[str, dict[str, dict[str, Correlation]]]  # index -> row (score or component) -> outcome
    precision: dict[str, dict[str, Precision]]  # index -> outcome
    fits: list[Fit]
    fit_outcome: str | None
    weights: Weights
    periods: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "candidates": self.candidates, "outcomes": self.outcomes, "periods": self.periods,
            "weights": self.weights.source, "fit_outcome": self.fit_outcome,
            "correlations": {index: {row: {o: c.as_json() for o, c in by.items()} for row, by in rows.items()}
                             for index, rows in self.correlations.items()},
            "precision_at_k": {index: {o: p.as_json() for o, p in by.items()} for index, by in self.precision.items()},
            "fits": [f.as_json() for f in self.fits],
        }


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 4)


def evaluate(cohort: Cohort, weights: Weights, *, outcomes: Sequence[str] | None = None, fit_outcome: str | None = None,
             k: int | None = None, resamples: int = RESAMPLES, seed: int = 0) -> Evaluation:
    """Correlations, precision@k and fitted weights (see the module docstring)."""
    chosen = [o for o in (outcomes or OUTCOME_NAMES) if cohort.outcomes.get(o)]
    scored = score_cohort(cohort.features, weights) if cohort.features else {}
    indices = [*weights.indices, COMPOSITE]
    counts = {o: sum(1 for cid in cohort.outcomes[o] if cid in scored) for o in chosen}

    def score_of(index: str) -> dict[int, float | None]:
        return {cid: result[score_column(index)] for cid, result in scored.items()}

    def percentile_of(component: str) -> dict[int, float | None]:
        return {cid: result["components"][component].percentile for cid, result in scored.items()}

    correlations: dict[str, dict[str, dict[str, Correlation]]] = {}
    precision: dict[str, dict[str, Precision]] = {}
    for index in indices:
        rows = {"score": score_of(index)}
        if index != COMPOSITE:
            rows.update({component: percentile_of(component) for component in weights.indices[index]})
        correlations[index] = {row: {o: correlate(values, cohort.outcomes[o], resamples, seed) for o in chosen}
                               for row, values in rows.items()}
        precision[index] = {o: precision_at_k(rows["score"], cohort.outcomes[o], k) for o in chosen}

    fits: list[Fit] = []
    target_name = fit_outcome or next(iter(chosen), None)
    if target_name is not None and target_name in cohort.outcomes:
        target = cohort.outcomes[target_name]
        ids = sorted(cid for cid in scored if cid in target)
        y = np.array([target[cid] for cid in ids], dtype=float)
        for index in indices:
            if index == COMPOSITE:
                names = list(weights.composite)
                default = dict(weights.composite)
                columns = [score_of(name) for name in names]
            else:
                names = list(weights.indices[index])
                default = dict(weights.indices[index])
                columns = [percentile_of(name) for name in names]
            matrix = np.array([[PRIOR if column[cid] is None else float(column[cid]) for column in columns]  # type: ignore[arg-type]
                               for cid in ids], dtype=float).reshape(len(ids), len(names))
            fits.append(fit_weights(index, target_name, matrix, y, names, default, seed=seed))
    return Evaluation(len(scored), counts, correlations, precision, fits, target_name, weights, cohort.periods)


# --------------------------------------------------------------------------- the weights file


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def weights_toml(evaluation: Evaluation, base: Path | None = None, *, when: datetime | None = None) -> str:
    """A weights file (``wangzi enrich --weights FILE``): the fitted weights of every index and
    of the composite, the weights in use where no fit was made (said in a comment), and the
    base file's ``[tiers]`` table as it was."""
    weights = evaluation.weights
    fits = {f.index: f for f in evaluation.fits}
    lines = [
        f"# Index weights fitted by `wangzi evaluate --write-weights`{' on ' + when.date().isoformat() if when else ''}",
        f"# against {evaluation.fit_outcome} ({next(iter(fits.values())).n if fits else 0} candidates; non-negative "
        f"least squares on the components' percentiles, {FOLDS}-fold cross-validated), from {weights.source}.",
        "# Held-out Spearman with the outcome, fitted vs these weights before:",
    ]
    for name, found in fits.items():
        if found.fitted is not None:
            lines.append(f"#   {name}: {found.held_out_fitted:.3f} vs {found.held_out_default:.3f}")
    lines.append("# A table whose fitted weights did no better on the held-out folds keeps the weights it had.")
    lines.append("# Only the ratios within a table matter; a weight of 0 leaves its component out.")
    for name in (*weights.indices, COMPOSITE):
        found = fits.get(name)
        table = weights.composite if name == COMPOSITE else weights.indices[name]
        lines.append("")
        lines.append(f"[{name}]")
        if found is None or found.fitted is None:
            lines.append(f"# kept as before: {found.refused if found else 'not fitted'}")
            values = table
        elif not found.better:
            lines.append(f"# kept as before: the fitted weights ranked held-out candidates no better "
                         f"({found.held_out_fitted:.3f} vs {found.held_out_default:.3f})")
            values = table
        else:
            if found.kept:
                lines.append(f"# not fitted (no data that differs among the candidates), kept: {', '.join(found.kept)}")
            values = found.fitted
        lines += [f"{component} = {_toml_value(float(weight))}" for component, weight in values.items()]
    if base is not None and Path(base).exists():
        with Path(base).open("rb") as handle:
            tiers = tomllib.load(handle).get("tiers")
        if isinstance(tiers, dict):
            lines += ["", "[tiers]"]
            lines += [f"{key} = {_toml_value(value)}" for key, value in tiers.items() if not isinstance(value, dict)]
            for key, value in tiers.items():
                if isinstance(value, dict):
                    lines += ["", f"[tiers.{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"
