"""Every feature of one candidate: the families together, over one :class:`CandidateInput`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from enrichment.brands import BrandFinder
from enrichment.features.authenticity import authenticity_features, follower_counts_of
from enrichment.features.content import PostAnalysis, analyse_posts, content_features
from enrichment.features.engagement import engagement_features
from enrichment.features.growth import growth_features
from enrichment.features.living import overseas_living_features
from enrichment.features.press_coverage import press_features
from enrichment.features.reach import reach_features
from enrichment.features.rows import CandidateInput, snapshots_by_account, utc
from enrichment.features.sponsored import sponsored_features
from enrichment.keywords import KeywordGroups


def compute_features(
    data: CandidateInput,
    as_of: datetime,
    *,
    brands: BrandFinder | None = None,
    keywords: KeywordGroups | None = None,
    analyses: Mapping[int, PostAnalysis] | None = None,
) -> dict[str, Any]:
    """Every per-candidate feature (a flat dict; see ``enrichment.schema.FEATURE_SPECS`` for
    names and types).

    ``analyses`` (from :func:`analyse_posts`) may be passed when posts were analysed in a batch.
    """
    as_of = utc(as_of)
    features: dict[str, Any] = {}
    grouped = snapshots_by_account(data.snapshots, as_of)
    features.update(reach_features(data.snapshots, data.accounts, as_of, grouped=grouped))
    features.update(growth_features(data.snapshots, as_of, grouped=grouped))
    latest_followers: dict[int, int] = {}
    for account_id, rows in grouped.items():
        counted = [r for r in rows if r.followers is not None]
        if counted:
            latest_followers[account_id] = int(counted[-1].followers)  # type: ignore[arg-type]
    features.update(engagement_features(data.posts, latest_followers, as_of))
    if analyses is None:
        analyses = analyse_posts([p for p in data.posts if p.when is not None and utc(p.when) <= as_of], brands, keywords)
    features.update(content_features(data.posts, analyses, as_of))
    features.update(sponsored_features(data.posts, analyses, as_of))
    features.update(overseas_living_features(data.snapshots, as_of))
    features.update(press_features(data.press, as_of))
    if data.follower_daily is not None:
        features.update(authenticity_features((), data.accounts, data.posts, as_of, daily=data.follower_daily,
                                              verdicts=data.growth_verdicts))
    else:
        history = data.follower_history if data.follower_history is not None else follower_counts_of(data.snapshots)
        features.update(authenticity_features(history, data.accounts, data.posts, as_of))
    # Cohort-relative: filled by enrichment.indices.earliness once all candidates are known.
    features.update({"earliness_first_share": None, "earliness_lead_days": None, "earliness_brands_compared": None})
    # Set by enrichment.stage from the database (did the rows read include the demo's invented
    # history?); nothing in the candidate's own rows says so.
    features["synthetic_history"] = None
    return features
