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

import gc
import json
import logging
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from typing import Any

import numpy as np
from sqlmodel import Session

from enrichment.cohort_scores import CohortColumns, live_columns, no_data_digest
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
from enrichment.features.authenticity import DETECTION_DAYS, assess_many
from enrichment.features.content import (
    AnalysisDecoder,
    PostAnalysis,
    analyser_fingerprint,
    encode_analysis,
    text_digest,
)
from enrichment.features.rows import DailyFollowers, posts_by_account, utc
from enrichment.indices import (
    COHORT,
    MAX_KNOTS,
    PRIOR,
    Reference,
    Weights,
    cohort_reference,
    earliness,
    earliness_entries,
    first_mention,
    load_weights,
    ranking_columns,
    score_candidate,
)
from enrichment.ranking_inputs import (
    KeptColumns,
    decode_cohort,
    encode_inputs,
    names_key,
)
from enrichment.schema import (
    COMPOSITE,
    FEATURE_NAMES,
    FEATURE_SPECS,
    INDEX_SPECS,
    SCHEMA_VERSION,
    coverage_column,
    index_column,
    score_column,
    stored_columns,
)
from storage.candidates import (
    active_candidate_ids,
    candidate_account_platforms,
    get_candidate,
)
from storage.collector import collector_paused
from storage.feature_inputs import (
    Watermark,
    newest_input_ids,
    posts_with_counts,
    press_mentions,
    press_searched,
    snapshot_points,
)
from storage.features import (
    advance_watermarks,
    feature_documents,
    input_id_bounds,
    insert_feature_snapshots,
    iter_latest_feature_snapshots,
    iter_newest_rows,
    latest_feature_snapshot,
    latest_watermarks,
    picked_features,
    update_feature_documents,
    update_rankings,
)
from storage.follower_series import daily_follower_series
from storage.models import FeatureRanking, FeatureSnapshot, PressMention, utcnow
from storage.post_analyses import keep_analyses, kept_analyses
from storage.ranking_inputs import keep_inputs
from storage.references import find_reference, list_references, store_reference
from storage.synthetic import synthetic_candidates

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
    for cid, accounts in candidate_account_platforms(session, candidate_ids).items():
        for account_id, platform in accounts:
            owner[account_id] = cid
            platform_of[account_id] = inputs[cid].accounts[account_id] = platform
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
    # Each account's daily series over the detection window, for the suspicious-growth detector
    # (enrichment.features.authenticity): kept in storage (storage/follower_series.py), with the
    # snapshots added since the last enrich folded in, instead of every count read again.
    for cid in candidate_ids:
        inputs[cid].follower_daily = {}
    window = daily_follower_series(session, account_ids, as_of - timedelta(days=DETECTION_DAYS), as_of)
    for account_id, (days, followers) in window.items():
        inputs[owner[account_id]].follower_daily[account_id] = DailyFollowers(days, followers)  # type: ignore[index]
    del window
    newest_post_snapshots, posts = posts_with_counts(session, account_ids, as_of)
    for post in posts:
        inputs[owner[post.account_id]].posts.append(PostRow(
            account_id=post.account_id, platform=post.platform, published_at=post.published_at, text=post.text,
            title=post.title, likes=post.likes, comments=post.comments, shares=post.shares, views=post.views,
            first_seen_at=post.first_seen_at, url=post.url, post_id=post.post_id, id=post.id,
        ))
    press, newest_press = load_press(session, candidate_ids)
    for cid, rows in press.items():
        inputs[cid].press = rows
    snapshot_marks = _per_candidate(newest_snapshots, owner)
    post_marks = _per_candidate(newest_post_snapshots, owner)
    marks = {cid: Watermark(snapshot_marks.get(cid), post_marks.get(cid), newest_press.get(cid)) for cid in candidate_ids}
    return inputs, marks


def analyse_kept(session: Session, posts: Sequence[PostRow]) -> dict[int, PostAnalysis]:
    """Each post's text analysis (keyed by ``id(post)``, as :func:`analyse_posts` gives it):
    the kept one where the post has one from this analyser of this very text
    (``storage/post_analyses.py``), otherwise made now and kept."""
    analyser = analyser_fingerprint()
    kept = kept_analyses(session, [p.id for p in posts if p.id is not None], analyser)
    decode = AnalysisDecoder()
    out: dict[int, PostAnalysis] = {}
    todo: list[tuple[PostRow, str]] = []
    for post in posts:
        digest = text_digest(post.content)
        stored = kept.get(post.id) if post.id is not None else None
        if stored is not None and stored[0] == digest:
            out[id(post)] = decode(stored[1])
        else:
            todo.append((post, digest))
    if todo:
        fresh = analyse_posts([post for post, _ in todo])
        out.update(fresh)
        keep_analyses(session, [(post.id, digest, encode_analysis(fresh[id(post)]))
                                for post, digest in todo if post.id is not None], analyser)
    return out


def judge_growth(inputs: Mapping[int, CandidateInput], as_of: datetime) -> None:
    """The suspicious-growth detector's verdict on every account of these candidates with a
    daily series, made at once (:func:`enrichment.features.authenticity.assess_many`) and kept
    in each candidate's input for its features."""
    accounts = []
    for data in inputs.values():
        if not data.follower_daily:
            continue
        posts_of = posts_by_account(data.posts)
        accounts.extend((account_id, data.accounts[account_id], series, posts_of.get(account_id, []))
                        for account_id, series in data.follower_daily.items() if account_id in data.accounts)
    verdicts = assess_many(accounts, as_of)
    for data in inputs.values():
        if data.follower_daily:
            data.growth_verdicts = {account_id: verdicts[account_id] for account_id in data.follower_daily
                                    if account_id in verdicts}


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


def checked_through(seen: Watermark, bound: Watermark | None) -> Watermark:
    """A plain run's watermark for a row it computed: what the row saw, raised to the ids stored
    before the run read anything (``bound``, None for a backdated run). The candidate's inputs
    were read after that, so none of its rows up to there is unseen; without the raise, the
    first incremental run after a full one scanned the input tables from the lowest of 2,000
    candidates' own newest ids, almost the whole table."""
    if bound is None:
        return seen
    return Watermark(*(max(own or 0, top) if top is not None else own for own, top in (
        (seen.snapshot, bound.snapshot), (seen.post_snapshot, bound.post_snapshot), (seen.press, bound.press))))


def changed_candidates(session: Session, candidate_ids: Sequence[int], as_of: datetime | None = None, *,
                       advance: bool = False, bound: Watermark | None = None) -> list[int]:
    """Candidates with snapshots, post snapshots or press mentions newer than their newest
    feature snapshot (as of a time, if given) saw, those without one, and those whose newest
    one was computed for a past time (a backdated ``enrich --as-of``: it vouches for nothing
    after the time it describes, so it is never a reason to skip a candidate).

    One primary-key range scan per kind of row, from the oldest watermark among the
    candidates. With ``advance`` (a plain enrich), the watermarks of the candidates found
    unchanged are raised to the highest ids stored when the scan began: they have no newer row
    up to there, so the next scan starts from there instead of from the candidate that was
    last crawled longest ago (whose old watermark made every incremental enrich read the
    input tables from that far back). They are raised once the scan re-reads more than
    :data:`ADVANCE_PER_ROW` ids per unchanged candidate (:func:`_worth_advancing`). ``bound``:
    those highest ids, when the caller read them already (before anything else)."""
    if not advance:
        bound = None
    elif bound is None:
        # Read before the scan: rows added during it are above. None while a lower id may still
        # be committed (PostgreSQL, storage.features.input_id_bounds): nothing is raised then.
        bound = input_id_bounds(session)
    newest = latest_watermarks(session, as_of=as_of)
    changed = {cid for cid in candidate_ids if cid not in newest or newest[cid].backdated}
    seen = {cid: newest[cid].seen for cid in candidate_ids if cid not in changed}
    known = list(seen)
    if not known:
        return sorted(changed)
    oldest = Watermark(min(seen[c].snapshot or 0 for c in known), min(seen[c].post_snapshot or 0 for c in known),
                       min(seen[c].press or 0 for c in known))
    for cid, newest_ids in newest_input_ids(session, oldest).items():
        mark = seen.get(cid)
        if mark is not None and any(new is not None and new > (old or 0) for new, old in (
            (newest_ids.snapshot, mark.snapshot), (newest_ids.post_snapshot, mark.post_snapshot),
            (newest_ids.press, mark.press),
        )):
            changed.add(cid)
    unchanged = {newest[cid].id: seen[cid] for cid in known if cid not in changed}
    if bound is not None and _worth_advancing(oldest, bound, len(unchanged)):
        advance_watermarks(session, unchanged, bound)
    return sorted(changed & set(candidate_ids))


#: Input ids a scan may re-read per unchanged candidate before their watermarks are raised.
#: Raising one rewrites its feature row (~6 KB of features with it: ~25 µs on SQLite), which
#: costs about as much as scanning ten input rows by primary key.
ADVANCE_PER_ROW = 10


def _worth_advancing(oldest: Watermark, bound: Watermark, unchanged: int) -> bool:
    """Whether the next scan would re-read more input rows than raising the unchanged
    candidates' watermarks costs. A run that finds 20 of 2,000 candidates changed leaves a gap
    of a few hundred ids: rewriting 1,980 rows for it cost more than the scan it spares."""
    gap = max((top or 0) - (own or 0) for own, top in (
        (oldest.snapshot, bound.snapshot), (oldest.post_snapshot, bound.post_snapshot), (oldest.press, bound.press)))
    return gap > ADVANCE_PER_ROW * unchanged


# --------------------------------------------------------------------------- enrich: compute, store, rank

#: Candidates loaded, computed and stored at a time: memory stays that of one chunk whatever
#: the cohort's size.
CHUNK = 1000


@dataclass
class EnrichResult:
    computed: int = 0
    ranked: int = 0
    skipped: int = 0
    reference: str = COHORT
    timings: dict[str, float] = field(default_factory=dict)

    def timed(self, name: str, since: float) -> float:
        """Add the time since ``since`` to ``name``; returns now."""
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - since
        return now


def enrich(
    session: Session,
    candidate_ids: Sequence[int] | None = None,
    *,
    as_of: datetime | None = None,
    force: bool = False,
    weights: Weights | None = None,
    reference: str | None = None,
) -> EnrichResult:
    """Compute features for candidates with new data (all given ones with ``force``), store a
    FeatureSnapshot for each, then rank: against ``reference`` (:func:`resolve_reference`;
    default the newest frozen reference, else the live cohort). Returns counts and timings."""
    with collector_paused():
        return _enrich(session, candidate_ids, as_of=as_of, force=force, weights=weights, reference=reference)


def _enrich(
    session: Session,
    candidate_ids: Sequence[int] | None,
    *,
    as_of: datetime | None,
    force: bool,
    weights: Weights | None,
    reference: str | None,
) -> EnrichResult:
    result = EnrichResult()
    clock = time.perf_counter()
    now = utcnow()  # the run's time: computed_at of every row it writes
    # Features cannot describe a time that has not come: a future as_of (tomorrow is allowed) is now.
    as_of = min(checked_as_of(as_of, now), now) if as_of is not None else now
    # Backdated: the rows describe a past time. They are compared with (and ranked among) the
    # rows describing that time; the rows describing now are left as they are.
    backdated = as_of < now
    weights = weights or load_weights(known_features=FEATURE_NAMES)
    frozen = resolve_reference(session, reference)
    result.reference = frozen.label_for(weights) if frozen is not None else COHORT
    active = active_candidate_ids(session)
    targets = list(candidate_ids) if candidate_ids is not None else active
    # The highest input ids stored before anything is read: a plain run's rows have seen every
    # row of their candidates up to there (below), and the candidates it finds unchanged have none.
    # (None too while another transaction may still commit a lower id: nothing is raised then.)
    bound = None if backdated else input_id_bounds(session)
    todo = targets if force else changed_candidates(session, targets, as_of if backdated else None,
                                                    advance=not backdated, bound=bound)
    result.skipped = len(targets) - len(todo)
    # The ranking a new row is stored with: unranked (the cohort ranks it below; a row with no
    # component data ranks as this anyway, and a row whose ranking does not change is not
    # written again), or, for a row with nothing to rank, ranked already: its ranking is the
    # no-data one whatever the cohort, so with its digest no ranking reads or writes it again.
    # (200,000 imported candidates without snapshots were all read, kept and written by the
    # first ranking.)
    unranked = ranking_columns(score_candidate({}, weights, frozen or Reference(), explain=False))
    unranked.update(tier=None, reference=result.reference, top_contributors=_JSON(unranked["top_contributors"]),
                    ranking_digest=None, ranked_at=None)
    ranked_blank = {**unranked, "ranking_digest": _blank_digest(weights, frozen), "ranked_at": now}
    clock = result.timed("detect changes", clock)

    blank: dict[tuple[Any, ...], _Stored] = {}
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start:start + CHUNK]
        inputs, marks = load_inputs(session, chunk, as_of)
        clock = result.timed("load", clock)
        posts = [p for cid in chunk for p in inputs[cid].posts if p.when is not None and utc(p.when) <= as_of]
        analyses = analyse_kept(session, posts)
        clock = result.timed("analyse posts", clock)
        judge_growth(inputs, as_of)
        clock = result.timed("judge growth", clock)
        synthetic = synthetic_candidates(session, chunk)  # wangzi demo's invented history, marked in the row
        rows, rankings = [], []
        for cid in chunk:
            stored = _computed(inputs[cid], as_of, analyses, weights, blank)
            if cid in synthetic:
                stored = _stored({**json.loads(stored.columns["features"]), "synthetic_history": True}, weights)
            seen = checked_through(marks[cid], bound)
            rows.append({
                "candidate_id": cid, "computed_at": now, "as_of": as_of, "schema_version": SCHEMA_VERSION,
                "max_snapshot_id": seen.snapshot, "max_post_snapshot_id": seen.post_snapshot,
                "max_press_id": seen.press, **stored.columns,
            })
            rankings.append(ranked_blank if stored.nothing_to_rank else unranked)
        del inputs, posts, analyses
        clock = result.timed("compute", clock)
        result.computed += insert_feature_snapshots(session, rows, rankings, json_text=("features",),
                                                    ranking_json_text=("top_contributors",))
        del rows, rankings
        gc.collect(1)  # the chunk's young objects only: whatever cycles its queries left
        clock = result.timed("store", clock)

    active_set = set(active)
    extra = [cid for cid in (candidate_ids or []) if cid not in active_set]
    result.ranked = rank_cohort(session, active_only=True, extra_ids=extra, weights=weights, reference=frozen,
                                as_of=as_of if backdated else None, only=todo if backdated else None)
    result.timed("rank", clock)
    log.info("enrich: %d candidate(s) computed, %d unchanged, %d ranked against %s in %.2f s", result.computed,
             result.skipped, result.ranked, result.reference, sum(result.timings.values()))
    return result


@dataclass(frozen=True)
class _Stored:
    """A candidate's features as a feature row stores them: the document (as JSON text) and
    the columns copied out of it (:func:`enrichment.schema.stored_columns`), and whether the
    row has nothing to rank."""

    columns: dict[str, Any]
    nothing_to_rank: bool


def _stored(features: Mapping[str, Any], weights: Weights) -> _Stored:
    document = compact_features(features)
    return _Stored({"features": _JSON(document), **stored_columns(features)}, _nothing_to_rank(document, weights))


_JSON = json.JSONEncoder().encode  # as the JSON column writes it (json.dumps' defaults)


def _computed(data: CandidateInput, as_of: datetime, analyses: Mapping[int, Any], weights: Weights,
              blank: dict[tuple[Any, ...], _Stored]) -> _Stored:
    """A candidate's features as stored. A candidate with nothing read yet (no snapshot, post,
    follower count or press mention: what an import of 200,000 creators is at first) has the
    features of every other such candidate with the same platforms, so those are computed,
    encoded and copied into columns once per run (the features are a function of the rows read
    and ``as_of``, never of who the candidate is)."""
    if data.snapshots or data.posts or data.press or data.follower_history or data.follower_daily:
        return _stored(compute_features(data, as_of, analyses=analyses), weights)
    key = (tuple(sorted(data.accounts.values())), data.press is None,
           data.follower_history is None and data.follower_daily is None)
    if key not in blank:
        blank[key] = _stored(compute_features(data, as_of, analyses=analyses), weights)
    return blank[key]


def _nothing_to_rank(features: Mapping[str, Any], weights: Weights) -> bool:
    """Whether a row has no value of any feature ranking reads (components, their per-platform
    breakdowns, follower counts, first mentions): its ranking is then the no-data one
    (:func:`enrichment.cohort_scores.no_data_digest`)."""
    get = features.get
    return not get("brand_first_seen") and all(get(name) is None for name in weights.ranking_inputs
                                               if name != "brand_first_seen")


def compact_features(features: Mapping[str, Any]) -> dict[str, Any]:
    """The features as stored: JSON values, NULLs left out (a missing key is NULL: a candidate
    with no data stores a few dozen bytes, not every column's name), non-finite numbers NULL."""
    out: dict[str, Any] = {}
    for key, value in features.items():
        if isinstance(value, float) and not math.isfinite(value):
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        if value is not None:
            out[key] = value
    return out



# --------------------------------------------------------------------------- references


class ReferenceNotFound(ValueError):
    """``--reference`` names no stored reference."""


def parse_reference_name(text: str) -> tuple[str, int | None]:
    """``NAME``, ``NAME@vN`` or ``NAME@N`` -> (name, version or None) (a ``+w...`` suffix, as
    rows ranked with other weights carry, is ignored)."""
    name, sep, version = text.partition("+")[0].partition("@")
    if not name.strip():
        raise ReferenceNotFound(f"reference {text!r}: give NAME, NAME@vN or {COHORT}")
    if not sep:
        return name, None
    digits = version[1:] if version[:1] in ("v", "V") else version
    if not digits.isdigit():
        raise ReferenceNotFound(f"reference {text!r}: the version after @ is a number (NAME@v2)")
    return name, int(digits)


def resolve_reference(session: Session, text: str | None = None) -> Reference | None:
    """The frozen reference to rank against: the named one (``NAME``: its newest version;
    ``NAME@vN``), ``None`` for ``cohort`` (the live cohort), and without a name the newest
    frozen reference, or None when none was frozen yet."""
    if text == COHORT:
        return None
    name, version = parse_reference_name(text) if text is not None else (None, None)
    row = find_reference(session, name, version)
    if row is None:
        if text is None:
            return None
        known = ", ".join(sorted({f"{r.name}@v{r.version}" for r in list_references(session)})) or "none yet"
        raise ReferenceNotFound(f"no reference {text!r} (stored: {known}; `wangzi reference freeze` stores one)")
    return Reference.from_payload(row.name, row.version, row.cohort_size, row.payload, row.created_at)


def freeze_reference(session: Session, name: str = "default", *, weights: Weights | None = None) -> Reference:
    """Store the live cohort's distribution of every component (and tier group) as the next
    version of ``name``, then rank the cohort against it (so every row names it). Returns it."""
    with collector_paused():
        return _freeze_reference(session, name, weights or load_weights(known_features=FEATURE_NAMES))


def _freeze_reference(session: Session, name: str, weights: Weights) -> Reference:
    parse_reference_name(name)
    if "@" in name or "+" in name or name == COHORT:
        raise ReferenceNotFound(f"reference name {name!r}: a name has no '@' or '+' and is not {COHORT!r}")
    rank_cohort(session, active_only=True, weights=weights)  # the cohort as it is now, earliness included
    rows, as_of = [], None
    for row in iter_newest_rows(session, active_only=True):
        rows.append((row.candidate_id, _ranking_view(row.features, weights)))
        as_of = row.as_of if as_of is None else max(as_of, row.as_of)
    live = cohort_reference((features for _, features in rows), weights, max_knots=MAX_KNOTS,
                            brands={cid: features.get("brand_first_seen") or {} for cid, features in rows})
    stored = store_reference(session, name, live.payload(), cohort_size=live.size, as_of=as_of,
                             weights_source=weights.source)
    frozen = Reference.from_payload(stored.name, stored.version, stored.cohort_size, stored.payload, stored.created_at)
    rank_cohort(session, active_only=True, weights=weights, reference=frozen)
    return frozen


# --------------------------------------------------------------------------- ranking


def _ranking_view(features: Mapping[str, Any], weights: Weights) -> dict[str, Any]:
    """The part of a feature row scoring reads (components, per-platform breakdowns,
    followers for tiers, first mentions for earliness, the earliness stored)."""
    view = {name: features[name] for name in weights.ranking_inputs if name in features}
    for name in EARLINESS:
        view[name] = features.get(name)
    return view


EARLINESS = ("earliness_first_share", "earliness_lead_days", "earliness_brands_compared")


def _view_names(weights: Weights) -> list[str]:
    """The features :func:`_ranking_view` keeps: what ranking reads of each stored row."""
    return list(dict.fromkeys([*weights.ranking_inputs, *EARLINESS]))


def rank_cohort(
    session: Session,
    cohort: Sequence[int] | None = None,
    *,
    active_only: bool = False,
    extra_ids: Sequence[int] = (),
    weights: Weights | None = None,
    as_of: datetime | None = None,
    only: Sequence[int] | None = None,
    reference: Reference | None = None,
) -> int:
    """Rank the newest feature snapshot (as of a time, if given) of the cohort — the given
    candidates, or every active one (and ``extra_ids``) with ``active_only`` — and write
    earliness, indices, coverages, scores, tier, reference and top contributors.

    Against the live cohort (``reference`` None) every member's percentiles depend on every
    other's, so every row is ranked again (with ``only``, the whole cohort is ranked but only
    those candidates' rows are written: a backdated enrich changes no other row). Against a
    frozen reference a row's scores depend on the row alone, so only rows not yet ranked
    against it are (with ``only``: those candidates' rows).

    Either way a row stored with the digest of nothing to rank (:func:`_blank_digest`: no value
    of anything ranking reads, under these weights and against this reference) is left out:
    its ranking is the no-data one whatever the cohort, and it adds nothing to the live
    cohort's distributions, tiers or earliness (200,000 imported candidates without a snapshot
    were read, kept and scored by every ranking). Returns how many rows were ranked, those
    left out included.
    """
    weights = weights or load_weights(known_features=FEATURE_NAMES)
    members = dict(candidate_ids=list(cohort)) if cohort is not None else dict(active_only=active_only, extra_ids=extra_ids)
    wanted = set(only) if only is not None else None
    frozen = reference if reference is not None and reference.frozen else None
    blank = _blank_digest(weights, frozen)
    stale = frozen.label_for(weights) if frozen is not None and wanted is None else None
    cohort = _ranked_rows(session, weights, blank, as_of=as_of, reference_not=stale, **members)
    rows, left_out = cohort.rows, cohort.left_out
    left = len(left_out) if wanted is None else len(wanted.intersection(left_out))
    if frozen is not None:
        if wanted is not None:
            rows = [row for row in rows if row.candidate_id in wanted]
        return left + _write_rankings(session, rows, weights, frozen, blank)
    if not rows:
        return left
    # Earliness of the candidates who mentioned a brand (the others have none to compare: NULL).
    early = cohort.earliness()
    for row in rows:
        row.view.update(early.get(row.candidate_id, NO_EARLINESS))
    # The cohort's columns and the live reference they make (enrichment/cohort_scores.py).
    columns, live = cohort.columns(weights)
    positions = None
    if wanted is not None:
        positions = [i for i, row in enumerate(rows) if row.candidate_id in wanted]
        rows = [rows[i] for i in positions]
    return left + _write_rankings(session, rows, weights, live, blank, columns, positions)


def _blank_digest(weights: Weights, reference: Reference | None) -> str:
    """The ranking digest of a row with nothing to rank (:func:`_nothing_to_rank`) ranked with
    these weights against ``reference`` (a frozen one, or None: the live cohort), as enrich
    stores such a row and ranking rewrites one: :func:`enrichment.cohort_scores.no_data_digest`."""
    against = reference if reference is not None else Reference(tiers=weights.tiers)
    return no_data_digest(weights, against, against.label_for(weights), EARLINESS)


NO_EARLINESS = {"earliness_brands_compared": None, "earliness_first_share": None, "earliness_lead_days": None}


@dataclass
class _Ranked:
    """A newest row as ranking holds it: ids, what scoring reads, the earliness stored, the
    reference and ranking digest it was ranked with, and whether its view is kept
    (``storage/ranking_inputs.py``) as it is."""

    id: int
    candidate_id: int
    view: dict[str, Any]
    earliness: dict[str, Any]
    reference: str | None
    ranking_digest: str | None
    kept: bool = False


@dataclass
class _Cohort:
    """The rows a ranking reads (:func:`_ranked_rows`), the candidates left out (nothing to
    rank), and the kept rows' features as columns with those rows' places among ``rows``."""

    rows: list[_Ranked]
    left_out: list[int]
    kept: tuple[KeptColumns, list[int]]

    def earliness(self) -> dict[int, dict[str, Any]]:
        """The live cohort's earliness (:func:`enrichment.indices.earliness` of every row's
        first mentions), the kept rows' read as entries (``KeptColumns.first_mentions``)."""
        source, places = self.kept
        at, brands, times = source.first_mentions()
        kept_rows = [self.rows[i] for i in places]
        owners = [kept_rows[i].candidate_id for i in at.tolist()]
        brands, extra = list(brands), []
        for row in self.rows:
            if not row.kept and row.view.get("brand_first_seen"):
                for brand, stamp in row.view["brand_first_seen"].items():
                    owners.append(row.candidate_id)
                    brands.append(brand)
                    extra.append(first_mention(stamp))
        return earliness_entries(owners, brands, np.concatenate((times, np.asarray(extra, dtype=float))))

    def columns(self, weights: Weights) -> tuple[CohortColumns, Reference]:
        """The rows' columns and the live reference they make (the earliness set on the views
        since they were read is read from the views)."""
        return live_columns([row.view for row in self.rows], weights, kept=self.kept, fresh=EARLINESS)


def _ranked_rows(session: Session, weights: Weights, blank: str, **query: Any) -> _Cohort:
    """The newest rows :func:`iter_newest_rows` gives for ``query``, with their ranking views:
    kept ones (``storage/ranking_inputs.py``) decoded, the others picked out of the documents
    (and kept once ranked, by :func:`_write_rankings`); and the candidates whose row was left
    out, stored with the ``blank`` digest (nothing to rank: neither read nor ranked)."""
    names = _view_names(weights)
    key = names_key(names)
    newest = []
    left_out = []
    for row in iter_newest_rows(session, marks_only=True, kept_under=key, **query):
        if row.ranking_digest == blank:
            left_out.append(row.candidate_id)
        else:
            newest.append(row)
    picked = picked_features(session, [row.id for row in newest if row.kept is None], names)
    views, columns = decode_cohort([row.kept for row in newest if row.kept is not None])
    decoded = iter(views)
    rows = []
    places = []
    for at, row in enumerate(newest):
        text = row.kept
        if text is not None:
            view = next(decoded)
            places.append(at)
        else:
            view = _ranking_view(picked.get(row.id, {}), weights)
        rows.append(_Ranked(row.id, row.candidate_id, view, {name: view.get(name) for name in EARLINESS}, row.reference,
                            row.ranking_digest, text is not None))
    return _Cohort(rows, left_out, (columns, places))


def _write_rankings(session: Session, rows: list[_Ranked], weights: Weights, reference: Reference, blank: str,
                    columns: CohortColumns | None = None, positions: Sequence[int] | None = None) -> int:
    """Rank the rows against the reference and write what changed, 1,000 rows at a time; a
    row whose earliness changed also gets its features rewritten with the new values.

    The whole cohort is scored at once (:mod:`enrichment.cohort_scores`: what
    ``score_candidate`` gives each row). A row whose ranking digest (its percentiles,
    earliness, reference, weights, scoring code) is the one stored, against the same
    reference, keeps its ranking and is not written, ``ranked_at`` included (which so says
    since when its ranking has stood): when a few candidates change, most rows' percentiles do
    not move, and making, encoding and writing their contributors again was most of a live
    re-rank (stamping the time alone on 1,800 such rows cost ~0.1 s).

    ``blank``: the digest of a row with nothing to rank against this reference
    (:func:`_blank_digest`), given to such a row so that the next ranking leaves it out.

    ``columns``: the rows' columns when the caller made them (the live cohort's;
    ``positions`` gives each row's place in them when only some rows of the cohort are
    written)."""
    if reference.frozen and rows:
        early = earliness({row.candidate_id: row.view["brand_first_seen"] for row in rows
                           if row.view.get("brand_first_seen")}, reference)
        for row in rows:
            row.view.update(early.get(row.candidate_id, NO_EARLINESS))
    if columns is None:
        columns = CohortColumns([row.view for row in rows], weights, reference.tiers)
    if positions is None:
        positions = range(len(rows))
    now = utcnow()
    label = reference.label_for(weights)
    percentiles = columns.percentiles(reference)
    digests = columns.digests(percentiles, reference, label, EARLINESS)
    # A row with nothing to rank gets the digest saying so, and the next ranking leaves it out.
    for at, row in zip(positions, rows):
        if row.ranking_digest != digests[at] and _nothing_to_rank(row.view, weights):
            digests[at] = blank
    stale = [i for i, row in zip(positions, rows) if row.ranking_digest != digests[i] or row.reference != label]
    # (the contributors as their JSON text, written as it is)
    fresh = dict(zip(stale, columns.rankings(reference, stale, percentiles, contributors_text=True)))
    changed: list[dict[str, Any]] = []
    moved: dict[int, dict[str, Any]] = {}  # snapshot id -> new earliness
    for at, row in zip(positions, rows):
        ranking = fresh.get(at)
        if ranking is not None:
            changed.append({"snapshot_id": row.id, "ranked_at": now, "reference": label, "ranking_digest": digests[at],
                            **ranking})
        new = {name: row.view.get(name) for name in EARLINESS}
        if row.earliness != new:
            moved[row.id] = new
        if len(changed) >= 1000:
            update_rankings(session, changed, json_text=("top_contributors",))
            changed = []
    update_rankings(session, changed, json_text=("top_contributors",))
    # What ranking read of each row, kept for the next ranking (storage/ranking_inputs.py): the
    # rows read from their documents, and the rows whose earliness is rewritten below.
    # (A view encode_inputs cannot keep exactly is not kept: that row's document is read each time.)
    encoded = {row.id: encode_inputs(row.view) for at, row in zip(positions, rows)
               if (not row.kept or row.id in moved) and digests[at] != blank}
    keep_inputs(session, {fid: text for fid, text in encoded.items() if text is not None}, names_key(_view_names(weights)))
    ids = list(moved)
    for start in range(0, len(ids), 1000):
        documents = feature_documents(session, ids[start:start + 1000])
        update_feature_documents(session, {fid: compact_features({**documents[fid], **moved[fid]})
                                           for fid in ids[start:start + 1000]})
    return len(rows)


def enrich_all(session: Session) -> int:
    """What ``wangzi demo`` calls: enrich every active candidate with new data, re-rank the
    cohort; returns how many candidates got new features."""
    return enrich(session).computed


# --------------------------------------------------------------------------- explain


def live_cohort_reference(session: Session, weights: Weights, *, extra_ids: Sequence[int] = ()) -> Reference:
    """The live cohort as a reference: the newest feature rows of every active candidate (and of
    ``extra_ids``), read as the ranking reads them (:func:`_ranked_rows`: the kept views, no row
    with nothing to rank, which adds nothing to it; its ``size`` counts them) and made into the
    reference the ranking makes (``CohortColumns.reference``, what ``cohort_reference`` gives).
    Reads the whole cohort: a caller showing many candidates computes it once (the review desk
    keeps it until a feature row changes) and passes it to :func:`explain_candidate`."""
    with collector_paused():
        cohort = _ranked_rows(session, weights, _blank_digest(weights, None), active_only=True,
                              extra_ids=list(extra_ids))
        reference = cohort.columns(weights)[1]
    return replace(reference, size=len(cohort.rows) + len(cohort.left_out))


def explain_candidate(session: Session, candidate_id: int, *, weights: Weights | None = None,
                      cohort: Reference | None = None) -> dict[str, Any] | None:
    """Why a candidate ranks where it does, as plain data (what ``wangzi explain``, the HTML
    report and ``GET /candidates/{id}/features`` show): every index with its score, raw index
    and coverage; the tier (the candidate's and each platform's); every component's value,
    weight, tier group, percentile and points (or why it has none); the suspicious-growth
    verdict with its evidence; and the reference used. None when the candidate has no
    feature row yet.

    The numbers are computed again from the stored row against the reference it was ranked
    against (a frozen one as stored; the live cohort as it is now, or ``cohort`` when given:
    :func:`live_cohort_reference` computed by the caller with the same ``weights``), so they are
    the stored ones as long as the cohort has not changed since the last ``enrich``. ``cohort``
    may also be the frozen reference the row names (its ``label``), resolved by the caller:
    then it is not read and decoded again (the review desk keeps the references it resolved)."""
    snapshot = latest_feature_snapshot(session, candidate_id)
    if snapshot is None:
        return None
    weights = weights or load_weights(known_features=FEATURE_NAMES)
    features = dict(snapshot.features or {})
    stored = _ranking_of(snapshot)
    label = (stored.reference or COHORT).partition("+")[0]  # NAME@vN+wHASH: ranked with other weights
    reference: Reference | None = None
    if label != COHORT and cohort is not None and cohort.frozen and cohort.label == label:
        reference = cohort
    elif label != COHORT:
        try:
            reference = resolve_reference(session, label)
        except ReferenceNotFound:
            reference = None
    if reference is None:
        reference = cohort if cohort is not None else live_cohort_reference(session, weights, extra_ids=[candidate_id])
    view = _ranking_view(features, weights)
    scored = score_candidate(view, weights, reference)
    indices = []
    for name, table in weights.indices.items():
        total = sum(table.values())
        components = []
        for component, weight in table.items():
            found = scored["components"][component]
            points = scored["points"][name].get(component)
            components.append({
                "component": component, "weight": weight, "value": _json_value(found.value), "groups": found.groups,
                "percentile": None if found.percentile is None else round(found.percentile, 2),
                "points": None if points is None else round(points, 2), "note": found.note,
                "share_of_weight": round(weight / total, 4) if total else 0.0,
            })
        indices.append({"index": name, "score": scored[score_column(name)], "raw": scored[index_column(name)],
                        "coverage": scored[coverage_column(name)], "components": components,
                        "stored": {"score": getattr(stored, score_column(name)), "raw": getattr(stored, index_column(name)),
                                   "coverage": getattr(stored, coverage_column(name))}})
    composite = {"index": COMPOSITE, "score": scored[score_column(COMPOSITE)], "raw": scored[index_column(COMPOSITE)],
                 "coverage": scored[coverage_column(COMPOSITE)], "weights": dict(weights.composite),
                 "top_contributors": scored["top_contributors"][COMPOSITE],
                 "stored": {"score": stored.composite_score, "raw": stored.composite_index,
                            "coverage": stored.composite_coverage}}
    return {
        "candidate_id": candidate_id,
        "as_of": snapshot.as_of.isoformat(), "computed_at": snapshot.computed_at.isoformat(),
        "ranked_at": stored.ranked_at.isoformat() if stored.ranked_at else None,
        "schema_version": snapshot.schema_version,
        "reference": {"label": reference.label_for(weights), "frozen": reference.frozen, "size": reference.size,
                      "created_at": reference.created_at.isoformat() if reference.created_at else None,
                      "stored_label": stored.reference},
        "weights": weights.source,
        "prior": PRIOR,
        "tier": scored["tier"],
        "platform_tiers": scored["platform_tiers"],
        "followers": {p: features.get(f"followers_{p}") for p in scored["platform_tiers"]},
        "composite": composite,
        "indices": indices,
        "authenticity": {
            "growth_authenticity": features.get("growth_authenticity"),
            "growth_flags": list(features.get("growth_flags") or []),
            "suspicious": suspicious_flags(features.get("growth_flags")),
            "evidence": features.get("growth_evidence") or [],
            "accounts_checked": features.get("growth_accounts_checked"),
        },
    }


def _ranking_of(snapshot: FeatureSnapshot) -> FeatureRanking:
    """A feature row's ranking as stored, or an empty one (every value NULL, no contributors)
    for a row that has none: enrich writes every row with its ranking, but a row inserted by
    other means (by hand, by a script) may have none until the next ranking writes it."""
    return snapshot.ranking or FeatureRanking(snapshot_id=snapshot.id or 0)


def candidate_feature_document(session: Session, candidate_id: int) -> dict[str, Any] | None:
    """What ``GET /candidates/{id}/features`` answers: the candidate's newest feature row with
    every export column (``enrichment.schema.EXPORT_COLUMNS``: a NULL feature is ``null``, not
    missing; times ISO 8601; no NaN or infinity) under ``features``, and under ``explain`` what
    :func:`explain_candidate` says. None when the candidate was never enriched."""
    explanation = explain_candidate(session, candidate_id)
    if explanation is None:
        return None
    snapshot = latest_feature_snapshot(session, candidate_id)
    stored = snapshot.features or {}  # type: ignore[union-attr]
    ranking = _ranking_of(snapshot)  # type: ignore[arg-type]
    candidate = get_candidate(session, candidate_id)
    row: dict[str, Any] = {"schema_version": snapshot.schema_version, "candidate_id": candidate_id,  # type: ignore[union-attr]
                           "display_name": candidate.display_name if candidate else None,
                           "active": candidate.active if candidate else None,
                           "as_of": snapshot.as_of, "computed_at": snapshot.computed_at,  # type: ignore[union-attr]
                           "ranked_at": ranking.ranked_at}
    # A feature the row also keeps as a real column is read from the column when the JSON
    # leaves it out (rows leave NULLs out; a row written by hand may fill the column only).
    row.update({spec.name: stored.get(spec.name, getattr(snapshot, spec.name, None)) for spec in FEATURE_SPECS})
    row.update({spec.name: getattr(ranking, spec.name) for spec in INDEX_SPECS})
    plain = {name: value.isoformat() if isinstance(value, datetime) else _json_value(value) for name, value in row.items()}
    return {"features": plain, "explain": explanation}


#: The growth flag that is no verdict: too little history to judge.
INSUFFICIENT_HISTORY = "insufficient_history"


def suspicious_flags(flags: Any) -> list[str]:
    """The suspicious-growth flags among ``growth_flags`` (every flag but ``insufficient_history``)."""
    return [str(flag) for flag in (flags or []) if flag != INSUFFICIENT_HISTORY] if isinstance(flags, list) else []


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------- the export table


def iter_feature_table(session: Session, as_of: datetime | None = None) -> Iterator[dict[str, Any]]:
    """One row per candidate (``enrichment.schema.EXPORT_COLUMNS``): its newest feature snapshot
    whose ``as_of`` is at or before the given time (default: the newest; a time out of
    :func:`checked_as_of`'s range is :class:`AsOfOutOfRange`), a page of candidates at a time."""
    when = checked_as_of(as_of) if as_of is not None else None
    for snapshot, name, active in iter_latest_feature_snapshots(session, as_of=when):
        ranking = _ranking_of(snapshot)
        row: dict[str, Any] = {
            "schema_version": snapshot.schema_version, "candidate_id": snapshot.candidate_id, "display_name": name,
            "active": active, "as_of": snapshot.as_of, "computed_at": snapshot.computed_at, "ranked_at": ranking.ranked_at,
        }
        features = snapshot.features or {}
        for spec in FEATURE_SPECS:
            value = features.get(spec.name)
            if spec.type == "datetime" and isinstance(value, str):
                value = datetime.fromisoformat(value)
            row[spec.name] = value
        for spec in INDEX_SPECS:
            row[spec.name] = getattr(ranking, spec.name)
        yield row


def feature_table(session: Session, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """:func:`iter_feature_table` as a list."""
    return list(iter_feature_table(session, as_of))
