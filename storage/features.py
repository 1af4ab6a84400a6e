"""Feature snapshot columns: which features are also real columns of ``featuresnapshot``."""

from sqlmodel import Session, col, select

from storage.models import FeatureSnapshot

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


def latest_feature_snapshot(session: Session, candidate_id: int) -> FeatureSnapshot | None:
    """The candidate's newest feature row: the latest ``as_of``, the last computed of those."""
    statement = (
        select(FeatureSnapshot)
        .where(FeatureSnapshot.candidate_id == candidate_id)
        .order_by(col(FeatureSnapshot.as_of).desc(), col(FeatureSnapshot.id).desc())
    )
    return session.exec(statement).first()
