"""Per-candidate features, one module per family, each a pure function over plain rows.

| module | family |
|---|---|
| :mod:`~enrichment.features.rows` | the input rows (``SnapshotRow``, ``PostRow``, ``PressRow``, ``CandidateInput``) and the rules every family reads them by |
| :mod:`~enrichment.features.reach` | followers per platform, domestic/overseas totals, rounded counts, freshness |
| :mod:`~enrichment.features.growth` | follower change over 7, 30 and 90 days |
| :mod:`~enrichment.features.engagement` | engagement of recent posts, posting cadence |
| :mod:`~enrichment.features.content` | language, keywords, brands and their countries, sourcing trips |
| :mod:`~enrichment.features.living` | IP location and declared place outside mainland China |
| :mod:`~enrichment.features.press_coverage` | overseas press mentions |
| :mod:`~enrichment.features.authenticity` | suspicious follower growth from the daily follower series |
| :mod:`~enrichment.features.sponsored` | sponsored posts: share, brands and their countries, engagement against organic posts |
| :mod:`~enrichment.features.compute` | all of them for one candidate (``compute_features``) |

Every feature is a function of rows and a point in time ``as_of``, so the known-answer tests
build histories by hand and nothing here needs a database: the enrichment stage
(:mod:`enrichment.stage`) loads the rows through storage and stores what comes out. The
feature columns (names, types, meanings) are listed once, in :mod:`enrichment.schema`.

Rules every feature follows:

* a value not read is ``None``, never 0: no data gives NULL, not a zero that would rank;
* growth compares real snapshots only: the nearest snapshot at or before the window start,
  never interpolated, and NULL when that snapshot is more than one window older than the
  start (a gap longer than the window) or missing;
* rounded numbers ("1.2万") stay usable but are counted and flagged.

Cohort-relative features (earliness) and the indices are computed in :mod:`enrichment.indices`
once every candidate's features are known.
"""

from __future__ import annotations

from enrichment.features.compute import compute_features
from enrichment.features.content import PostAnalysis, analyse_posts, content_features
from enrichment.features.engagement import ENGAGEMENT_RATE_POSTS, engagement_features
from enrichment.features.growth import (
    GROWTH_WINDOWS,
    Growth,
    account_growth,
    growth_features,
)
from enrichment.features.living import PLACE_LOOKBACK_DAYS, overseas_living_features
from enrichment.features.press_coverage import (
    PRESS_HALF_LIFE_DAYS,
    PRESS_WINDOWS,
    press_features,
)
from enrichment.features.reach import STALE_AFTER_DAYS, reach_features
from enrichment.features.rows import (
    PLATFORMS,
    RECENT_DAYS,
    CandidateInput,
    PostRow,
    PressRow,
    SnapshotRow,
    recent_posts,
)

__all__ = [
    "ENGAGEMENT_RATE_POSTS", "GROWTH_WINDOWS", "PLACE_LOOKBACK_DAYS", "PLATFORMS", "PRESS_HALF_LIFE_DAYS", "PRESS_WINDOWS", "RECENT_DAYS",
    "STALE_AFTER_DAYS", "CandidateInput", "Growth", "PostAnalysis", "PostRow", "PressRow", "SnapshotRow",
    "account_growth", "analyse_posts", "compute_features", "content_features", "engagement_features",
    "growth_features", "overseas_living_features", "press_features", "reach_features", "recent_posts",
]
