"""Feature snapshots: what the enrichment stage computed for a candidate at one moment.

One :class:`FeatureSnapshot` row per candidate per enrich run that found new data for
them. ``features`` holds every feature (``docs/features.md`` lists them, column by
column); the most used ones are also real columns so SQL and the
``candidate_features_latest`` view can filter and sort on them. Feature values are never
changed after insert, except the cohort-relative ones: the indices, coverages, top
contributors and the ``earliness_*`` features of each candidate's newest row are re-ranked
(``ranked_at``) whenever an enrich run changes the cohort.

``max_snapshot_id`` / ``max_post_snapshot_id`` / ``max_press_id`` are the newest source
rows the features saw: ``wangzi enrich`` only recomputes candidates with newer rows.
"""

# No `from __future__ import annotations`: SQLModel needs real annotations.

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from storage.models import utcnow

#: Name of the SQL view holding the newest FeatureSnapshot of every candidate.
LATEST_VIEW = "candidate_features_latest"


class FeatureSnapshot(SQLModel, table=True):
    """A candidate's features and indices as computed at ``computed_at`` for time ``as_of``."""

    __table_args__ = (Index("ix_featuresnapshot_candidate_as_of", "candidate_id", "as_of"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    computed_at: datetime = Field(default_factory=utcnow)
    as_of: datetime
    ranked_at: Optional[datetime] = None
    schema_version: str = Field(max_length=16)
    features: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

    followers_total: Optional[int] = None
    followers_domestic: Optional[int] = None
    followers_overseas: Optional[int] = None
    overseas_share: Optional[float] = None
    growth_30d_rel: Optional[float] = None
    engagement_median: Optional[float] = None
    posts_per_week: Optional[float] = None
    foreign_language_share: Optional[float] = None
    brands_distinct: Optional[int] = None
    brand_countries_distinct: Optional[int] = None
    press_365d: Optional[int] = None

    leadership_index: Optional[float] = None
    sales_driving_index: Optional[float] = None
    influence_index: Optional[float] = None
    composite_index: Optional[float] = None
    leadership_coverage: Optional[float] = None
    sales_driving_coverage: Optional[float] = None
    influence_coverage: Optional[float] = None
    composite_coverage: Optional[float] = None
    # {"leadership": [{"component": ..., "value": ..., "percentile": ..., "weight": ..., "points": ...}], ...}
    top_contributors: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

    max_snapshot_id: Optional[int] = None
    max_post_snapshot_id: Optional[int] = None
    max_press_id: Optional[int] = None


#: Columns copied from the features dict into real columns.
FEATURE_COLUMNS: tuple[str, ...] = (
    "followers_total", "followers_domestic", "followers_overseas", "overseas_share", "growth_30d_rel",
    "engagement_median", "posts_per_week", "foreign_language_share", "brands_distinct",
    "brand_countries_distinct", "press_365d",
)
INDEX_COLUMNS: tuple[str, ...] = (
    "leadership_index", "sales_driving_index", "influence_index", "composite_index",
    "leadership_coverage", "sales_driving_coverage", "influence_coverage", "composite_coverage",
)
