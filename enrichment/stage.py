"""The enrichment stage: load what the features need, compute them, store a feature snapshot
per candidate, re-rank the cohort; and the feature table exports read.

Every query is a named function of storage (:mod:`storage.feature_inputs`,
:mod:`storage.features`, :mod:`storage.candidates`); everything computed is a pure function
of :mod:`enrichment.features` and :mod:`enrichment.indices`, and the columns written are
those of :mod:`enrichment.schema`.

``enrich`` is incremental: each feature snapshot records the newest snapshot, post-snapshot
and press-mention ids it saw, and a candidate is recomputed only when a newer row exists
(or with ``force``). Feature values never change after insert; the cohort-relative ones
(earliness, indices, coverages, top contributors) of each candidate's newest snapshot are
re-ranked by every ``enrich``. A candidate's newest snapshot is the one describing the
latest time, then the last computed (:mod:`storage.features`); a backdated ``enrich
--as-of`` (``as_of`` before the run's time, which is every row's ``computed_at``) writes
rows describing the past, compared with and ranked among the rows describing that time, and
a plain ``enrich`` always recomputes a candidate whose newest row is such a row.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from typing import Any

from sqlmodel import Session

from enrichment.features import (
    GROWTH_WINDOWS,
    PLACE_LOOKBACK_DAYS,
    CandidateInput,
    PostRow,
    PressRow,
    SnapshotRow,
    analyse_posts,
    compute_features,
)
from enrichment.features.rows import utc
from enrichment.indices import Weights, earliness, load_weights, score_cohort
from enrichment.schema import (
    COVERAGE_COLUMNS,
    FEATURE_NAMES,
    FEATURE_SPECS,
    INDEX_COLUMNS,
    INDEX_SPECS,
    SCHEMA_VERSION,
    STORED_FEATURES,
)
from storage.candidates import active_candidate_ids, candidate_accounts
from storage.feature_inputs import (
    Watermark,
    newest_input_ids,
    posts_with_counts,
    press_mentions,
    press_searched,
    snapshot_points,
)
from storage.features import (
    insert_feature_snapshots,
    latest_feature_snapshots,
    latest_features,
    latest_watermarks,
    update_rankings,
)
from storage.models import PressMention, utcnow

log = logging.getLogger(__name__)

#: The earliest time features may describe. No platform Wangzi reads has data from before it,
#: and it keeps every window reaching back from ``as_of`` (growth: twice 90 days; posts: 180
#: days; press: a year) far from ``datetime``'s year-1 limit.
EARLIEST_AS_OF = datetime(2000, 1, 1, tzinfo=timezone.utc)


class AsOfOutOfRange(ValueError):
    """An ``as_of`` before :data:`EARLIEST_AS_OF` or after the end of tomorrow (UTC)."""


def checked_as_of(as_of: datetime, now: datetime | None = None) -> datetime:
    """``as_of`` in UTC when it lies from :data:`EARLIEST_AS_OF` to the end of tomorrow (UTC;
    tomorrow so that a date that is today in any time zone is accepted); otherwise
    :class:`AsOfOutOfRange`, saying the range."""
    now = utc(now) if now is not None else utcnow()
    latest = datetime.combine(now.date() + timedelta(days=1), dtime.max, tzinfo=timezone.utc)
    try:
        value = utc(as_of)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        value = None
    if value is None or not EARLIEST_AS_OF <= value <= latest:
        raise AsOfOutOfRange(f"as_of {as_of.isoformat()} is out of range: features describe times from "
                             f"{EARLIEST_AS_OF.date()} to the end of tomorrow (UTC, {latest.date()})")
    return value



# --------------------------------------------------------------------------- loading


def load_inputs(
    session: Session, candidate_ids: Sequence[int], as_of: datetime
) -> tuple[dict[int, CandidateInput], dict[int, Watermark]]:
    """Read what the features of these candidates need, as plain rows, and the newest input
    ids each candidate has (its watermark).

    Snapshots: per account, only the ones the features read (the newest, the newest with a
    follower count, the nearest one at or before each growth window start, the newest showing
    an IP location or a declared place), never whole histories.
    """
    as_of = utc(as_of)
    inputs = {cid: CandidateInput(candidate_id=cid) for cid in candidate_ids}
    owner: dict[int, int] = {}  # account id -> candidate id
    platform_of: dict[int, str] = {}
    for cid, accounts in candidate_accounts(session, candidate_ids).items():
        for account in accounts:
            owner[account.id] = cid  # type: ignore[index]
            platform_of[account.id] = inputs[cid].accounts[account.id] = account.platform  # type: ignore[index]
    if not owner:
        # Nothing to read, press included: these candidates' press features stay NULL.
        return inputs, {cid: Watermark() for cid in candidate_ids}
    account_ids = list(owner)

    newest_snapshots, points = snapshot_points(session, account_ids, as_of, windows=GROWTH_WINDOWS,
                                               lookback_days=PLACE_LOOKBACK_DAYS)
    for point in points:
        inputs[owner[point.account_id]].snapshots.append(SnapshotRow(
            account_id=point.account_id, platform=platform_of[point.account_id], captured_at=point.captured_at,
            followers=point.followers, approximate=point.approximate, lower_bound=point.lower_bound,
            ip_location=point.ip_location, location=point.location, country=point.country, id=point.id,
        ))
    newest_post_snapshots, posts = posts_with_counts(session, account_ids, as_of)
    for post in posts:
        inputs[owner[post.account_id]].posts.append(PostRow(
            account_id=post.account_id, platform=post.platform, published_at=post.published_at, text=post.text,
            title=post.title, likes=post.likes, comments=post.comments, shares=post.shares, views=post.views,
            first_seen_at=post.first_seen_at, url=post.url, post_id=post.post_id,
        ))
    press, newest_press = load_press(session, candidate_ids)
    for cid, rows in press.items():
        inputs[cid].press = rows
    snapshot_marks = _per_candidate(newest_snapshots, owner)
    post_marks = _per_candidate(newest_post_snapshots, owner)
    marks = {cid: Watermark(snapshot_marks.get(cid), post_marks.get(cid), newest_press.get(cid)) for cid in candidate_ids}
    return inputs, marks


def _per_candidate(newest_by_account: Mapping[int, int], owner: Mapping[int, int]) -> dict[int, int]:
    """The highest of the accounts' ids per candidate."""
    out: dict[int, int] = {}
    for account_id, newest in newest_by_account.items():
        cid = owner.get(account_id)
        if cid is not None:
            out[cid] = max(out.get(cid, 0), newest)
    return out


def press_row(mention: PressMention) -> PressRow:
    return PressRow(
        published_at=mention.published_at, canonical_url=mention.canonical_url, outlet_domain=mention.outlet_domain,
        country=mention.country, language=mention.language, confidence=mention.confidence, status=mention.status,
        title=mention.title,
    )


def load_press(session: Session, candidate_ids: Sequence[int]) -> tuple[dict[int, list[PressRow] | None], dict[int, int]]:
    """Each candidate's press mentions, and the newest mention id per candidate.

    A candidate whose press search ran and found nothing has no mentions (``[]``); one whose
    search never ran (no mention, no refreshed ``press`` lease) has unknown ones (None), so
    their press features are NULL, not 0.
    """
    press: dict[int, list[PressRow] | None] = dict.fromkeys(candidate_ids)
    newest: dict[int, int] = {}
    for mention in press_mentions(session, candidate_ids):
        cid = mention.candidate_id
        rows = press[cid]
        if rows is None:
            rows = press[cid] = []
        rows.append(press_row(mention))
        newest[cid] = max(newest.get(cid, 0), mention.id or 0)
    for cid in press_searched(session, [cid for cid, rows in press.items() if rows is None]):
        press[cid] = []
    return press, newest


def changed_candidates(session: Session, candidate_ids: Sequence[int], as_of: datetime | None = None) -> list[int]:
    """Candidates with snapshots, post snapshots or press mentions newer than their newest
    feature snapshot (as of a time, if given) saw, those without one, and those whose newest
    one was computed for a past time (a backdated ``enrich --as-of``: it vouches for nothing
    after the time it describes, so it is never a reason to skip a candidate)."""
    newest = latest_watermarks(session, as_of=as_of)
    changed = {cid for cid in candidate_ids if cid not in newest or newest[cid].as_of < newest[cid].computed_at}
    seen = {cid: newest[cid].seen for cid in candidate_ids if cid not in changed}
    known = list(seen)
    if not known:
        return sorted(changed)
    # One range scan per kind of row, from the oldest watermark among the candidates.
    oldest = Watermark(min(seen[c].snapshot or 0 for c in known), min(seen[c].post_snapshot or 0 for c in known),
                       min(seen[c].press or 0 for c in known))
    for cid, newest in newest_input_ids(session, oldest).items():
        mark = seen.get(cid)
        if mark is not None and any(new is not None and new > (old or 0) for new, old in (
            (newest.snapshot, mark.snapshot), (newest.post_snapshot, mark.post_snapshot), (newest.press, mark.press),
        )):
            changed.add(cid)
    return sorted(changed & set(candidate_ids))


# --------------------------------------------------------------------------- enrich: compute, store, rank


@dataclass
class EnrichResult:
    computed: int = 0
    ranked: int = 0
    skipped: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def enrich(
    session: Session,
    candidate_ids: Sequence[int] | None = None,
    *,
    as_of: datetime | None = None,
    force: bool = False,
    weights: Weights | None = None,
) -> EnrichResult:
    """Compute features for candidates with new data (all given ones with ``force``), store a
    FeatureSnapshot for each, then re-rank the cohort. Returns counts and timings."""
    result = EnrichResult()
    clock = time.perf_counter()
    now = utcnow()  # the run's time: computed_at of every row it writes
    # Features cannot describe a time that has not come: a future as_of (tomorrow is allowed) is now.
    as_of = min(checked_as_of(as_of, now), now) if as_of is not None else now
    # Backdated: the rows describe a past time. They are compared with (and ranked among) the
    # rows describing that time; the rows describing now are left as they are.
    backdated = as_of < now
    weights = weights or load_weights(known_features=FEATURE_NAMES)
    active = active_candidate_ids(session)
    targets = list(candidate_ids) if candidate_ids is not None else active
    todo = targets if force else changed_candidates(session, targets, as_of if backdated else None)
    result.skipped = len(targets) - len(todo)
    result.timings["detect changes"] = time.perf_counter() - clock

    clock = time.perf_counter()
    inputs, marks = load_inputs(session, todo, as_of) if todo else ({}, {})
    result.timings["load"] = time.perf_counter() - clock

    clock = time.perf_counter()
    posts = [p for cid in todo for p in inputs[cid].posts if p.when is not None and utc(p.when) <= as_of]
    analyses = analyse_posts(posts)
    result.timings["analyse posts"] = time.perf_counter() - clock
    clock = time.perf_counter()
    rows = []
    for cid in todo:
        features = compute_features(inputs[cid], as_of, analyses=analyses)
        row: dict[str, Any] = {
            "candidate_id": cid, "computed_at": now, "as_of": as_of, "ranked_at": None,
            "schema_version": SCHEMA_VERSION, "features": _jsonable(features), "top_contributors": {},
            "max_snapshot_id": marks[cid].snapshot, "max_post_snapshot_id": marks[cid].post_snapshot,
            "max_press_id": marks[cid].press,
        }
        row.update({name: features.get(name) for name in STORED_FEATURES})
        row.update(dict.fromkeys(INDEX_COLUMNS + COVERAGE_COLUMNS))  # ranked below, with the cohort
        rows.append(row)
    result.timings["compute"] = time.perf_counter() - clock

    clock = time.perf_counter()
    result.computed = insert_feature_snapshots(session, rows)
    result.timings["store"] = time.perf_counter() - clock

    clock = time.perf_counter()
    active_set = set(active)
    extra = [cid for cid in (candidate_ids or []) if cid not in active_set]
    if backdated:
        result.ranked = rank_cohort(session, list(active) + extra, weights=weights, as_of=as_of, only=todo)
    else:
        result.ranked = rank_cohort(session, list(active) + extra, weights=weights)
    result.timings["rank"] = time.perf_counter() - clock
    log.info("enrich: %d candidate(s) computed, %d unchanged, %d ranked in %.2f s", result.computed, result.skipped,
             result.ranked, sum(result.timings.values()))
    return result


def _jsonable(features: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in features.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[key] = value
    return out


def rank_cohort(
    session: Session,
    cohort: Sequence[int],
    *,
    weights: Weights | None = None,
    as_of: datetime | None = None,
    only: Sequence[int] | None = None,
) -> int:
    """Re-rank the newest feature snapshot of every cohort member (as of a time, if given):
    earliness, indices, coverage, top contributors. With ``only``, the whole cohort is ranked
    but only those candidates' rows are written (a backdated enrich ranks the rows it computed
    among the rows describing that time, and changes no other row). Returns how many rows were
    ranked."""
    weights = weights or load_weights(known_features=FEATURE_NAMES)
    members = set(cohort)
    latest = {cid: newest for cid, newest in latest_features(session, as_of=as_of).items() if cid in members}
    written = set(latest) if only is None else set(latest) & set(only)
    if not written:
        return 0
    early = earliness({cid: f.get("brand_first_seen") or {} for cid, (_, f) in latest.items()})
    for cid, (_, features) in latest.items():
        features.update(early[cid])
    scores = score_cohort({cid: f for cid, (_, f) in latest.items()}, weights)
    now = utcnow()
    rankings = []
    for cid, (fid, features) in latest.items():
        if cid not in written:
            continue
        score = scores[cid]
        ranking = {"id": fid, "features": features, "ranked_at": now, "top_contributors": score["top_contributors"]}
        ranking.update({name: score[name] for name in INDEX_COLUMNS + COVERAGE_COLUMNS})
        rankings.append(ranking)
    return update_rankings(session, rankings)


def enrich_all(session: Session) -> int:
    """What ``wangzi demo`` calls: enrich every active candidate with new data, re-rank the
    cohort; returns how many candidates got new features."""
    return enrich(session).computed


# --------------------------------------------------------------------------- the export table


def feature_table(session: Session, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """One row per candidate (``enrichment.schema.EXPORT_COLUMNS``): its newest feature snapshot
    whose ``as_of`` is at or before the given time (default: the newest; a time out of
    :func:`checked_as_of`'s range is :class:`AsOfOutOfRange`)."""
    out = []
    for snapshot, name, active in latest_feature_snapshots(session, as_of=checked_as_of(as_of) if as_of is not None else None):
        row: dict[str, Any] = {
            "schema_version": snapshot.schema_version, "candidate_id": snapshot.candidate_id, "display_name": name,
            "active": active, "as_of": snapshot.as_of, "computed_at": snapshot.computed_at, "ranked_at": snapshot.ranked_at,
        }
        features = snapshot.features or {}
        for spec in FEATURE_SPECS:
            value = features.get(spec.name)
            if spec.type == "datetime" and isinstance(value, str):
                value = datetime.fromisoformat(value)
            row[spec.name] = value
        for spec in INDEX_SPECS:
            row[spec.name] = getattr(snapshot, spec.name)
        out.append(row)
    return out
