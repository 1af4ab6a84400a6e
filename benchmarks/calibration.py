"""Benchmark: do the weights `wangzi evaluate` fits rank held-out candidates as well as the
weights that really generated the outcomes?

2,000 synthetic candidates with every sales-driving component (counts, shares, medians and
ratios drawn as such features are, each missing for 15 % of candidates), GMV generated from
*known* weights: the sales-driving score those weights give (the ranking's own scoring,
:func:`enrichment.indices.score_cohort`), through exp() plus log-normal noise. Then the
evaluation's fit (5-fold cross-validated non-negative regression on the components'
percentiles) against the true weights on the same held-out folds, for several noise levels
and seeds. Target: the fitted weights' held-out Spearman within 0.05 of the true weights'.

    python benchmarks/calibration.py
    python benchmarks/calibration.py --candidates 500 --seeds 3
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from enrichment.calibration import Cohort, evaluate  # noqa: E402
from enrichment.indices import load_weights, score_cohort  # noqa: E402
from enrichment.schema import FEATURE_NAMES, score_column  # noqa: E402

#: The weights that generate GMV (the shipped ones are 2, 1.5, 1, 1.5, 1, 1).
TRUE_WEIGHTS = {"brands_distinct": 3.0, "brand_countries_distinct": 0.5, "brand_post_share": 0.0,
                "brand_engagement_median": 2.0, "brand_engagement_ratio": 0.0, "engagement_rate": 1.5}
MISSING = 0.15


def features(n: int, rng: np.random.Generator) -> dict[int, dict[str, float | int | None]]:
    rows: dict[int, dict[str, float | int | None]] = {}
    followers = 10 ** rng.uniform(3, 7, n)
    draws = {
        "brands_distinct": rng.poisson(rng.gamma(2.0, 4.0, n)),
        "brand_countries_distinct": rng.poisson(rng.gamma(2.0, 1.5, n)),
        "brand_post_share": rng.beta(2, 5, n),
        "brand_engagement_median": np.round(followers * rng.lognormal(-4, 1, n)),
        "brand_engagement_ratio": rng.lognormal(0, 0.5, n),
        "engagement_rate": rng.lognormal(-4, 0.8, n),
    }
    for i in range(n):
        row: dict[str, float | int | None] = {}
        for name, values in draws.items():
            value = values[i].item()
            row[name] = None if rng.random() < MISSING else value
        row["followers_total"] = int(followers[i])
        rows[i + 1] = row
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=2_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--noise", type=float, nargs="+", default=[0.5, 1.0, 2.0],
                        help="standard deviations of the log-normal noise on GMV")
    args = parser.parse_args()

    shipped = load_weights(known_features=FEATURE_NAMES)
    truth = replace(shipped, indices={**shipped.indices, "sales_driving": dict(TRUE_WEIGHTS)}, source="true weights")
    print(f"{args.candidates} candidates; GMV = exp(sales-driving score with the true weights / 20 + N(0, noise)); "
          f"true weights {TRUE_WEIGHTS}")
    print("noise  seed  N     Spearman(true score, GMV)  held-out: fitted  true   shipped  |fitted - true|  seconds")
    gaps: list[float] = []
    for noise in args.noise:
        for seed in range(1, args.seeds + 1):
            rng = np.random.default_rng(seed)
            rows = features(args.candidates, rng)
            scores = {cid: result[score_column("sales_driving")] for cid, result in score_cohort(rows, truth).items()}
            gmv = {cid: float(np.exp(score / 20 + rng.normal(0, noise)) * 100) for cid, score in scores.items()
                   if score is not None}
            cohort = Cohort(rows, {}, {"gmv": gmv}, ["2026-10"])
            clock = time.perf_counter()
            found = evaluate(cohort, truth, outcomes=["gmv"], resamples=0, seed=seed)
            elapsed = time.perf_counter() - clock
            fit = next(f for f in found.fits if f.index == "sales_driving")
            with_shipped = evaluate(cohort, shipped, outcomes=["gmv"], resamples=0, seed=seed)
            shipped_fit = next(f for f in with_shipped.fits if f.index == "sales_driving")
            gap = abs(fit.held_out_fitted - fit.held_out_default)  # type: ignore[operator]
            gaps.append(gap)
            overall = found.correlations["sales_driving"]["score"]["gmv"].rho
            print(f"{noise:5.1f}  {seed:4d}  {fit.n:5d} {overall:26.3f}  {fit.held_out_fitted:16.3f}  "
                  f"{fit.held_out_default:5.3f}  {shipped_fit.held_out_default:7.3f}  {gap:15.3f}  {elapsed:7.2f}")
            if seed == 1:
                total = sum(TRUE_WEIGHTS.values())
                fitted = fit.fitted or {}
                print("              fitted weights (scaled to the true total): "
                      + ", ".join(f"{c} {fitted.get(c, 0):.2f} (true {w:g})" for c, w in TRUE_WEIGHTS.items())
                      + f"; total {sum(fitted.values()):.2f} = {total:g}")
    clock = time.perf_counter()
    found = evaluate(cohort, shipped, outcomes=["gmv"], seed=1)
    print(f"a whole evaluation of the last cohort with the shipped weights and 1,000 bootstrap resamples per "
          f"correlation ({sum(len(rows) for rows in found.correlations.values())} correlations): "
          f"{time.perf_counter() - clock:.1f} s")
    worst = max(gaps)
    print(f"largest |held-out Spearman fitted - true| {worst:.3f} over {len(gaps)} runs "
          f"(target <= 0.05: ratio {worst / 0.05:.2f}); mean {np.mean(gaps):.3f}")


if __name__ == "__main__":
    main()
