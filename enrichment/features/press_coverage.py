"""Overseas press coverage: confirmed mentions over 30/90/365 days, distinct outlets,
countries and languages, and a score weighting each mention by confidence and recency.

(The name matcher that decides whether an article names the candidate is
:mod:`enrichment.press`; this module only counts what it confirmed.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from enrichment.features.rows import PressRow, in_days, utc
from enrichment.press import MIN_CONFIDENCE

PRESS_WINDOWS = (30, 90, 365)
#: Press mentions lose half their weight every this many days.
PRESS_HALF_LIFE_DAYS = 180.0


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
    dated = [m for m in press if m.published_at is not None and utc(m.published_at) <= as_of
             and m.country is not None and m.country != "CN"]

    def counted(mention: PressRow) -> bool:
        return mention.status == "confirmed" and (mention.confidence is None or mention.confidence >= MIN_CONFIDENCE)

    def within(days: int, keep: Callable[[PressRow], bool] = counted) -> list[PressRow]:
        start = as_of - timedelta(days=days)
        return [m for m in dated if keep(m) and utc(m.published_at) > start]  # type: ignore[arg-type]

    out: dict[str, Any] = {f"press_{d}d": len(within(d)) for d in PRESS_WINDOWS}
    year = within(365)
    out["press_weighted_365d"] = round(sum(
        (m.confidence if m.confidence is not None else 0.5)
        * math.pow(0.5, in_days(as_of - utc(m.published_at)) / PRESS_HALF_LIFE_DAYS)  # type: ignore[arg-type]
        for m in year
    ), 6)
    out["press_outlets_365d"] = len({m.outlet_domain for m in year if m.outlet_domain})
    out["press_countries_365d"] = len({m.country for m in year if m.country})
    out["press_languages_365d"] = len({m.language for m in year if m.language})
    out["press_unconfirmed_365d"] = len(within(365, lambda m: m.status == "unconfirmed"))
    confirmed = [m for m in dated if counted(m)]
    out["press_last_at"] = max(utc(m.published_at) for m in confirmed).isoformat() if confirmed else None  # type: ignore[arg-type]
    return out
