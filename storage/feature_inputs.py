"""What features are computed from: the profile snapshots each feature reads, posts with their
newest counts, press mentions and whether a press search ran, and the newest row ids
(watermarks) that tell an incremental enrich which candidates have new data.

Whole snapshot histories are never loaded (a year of daily snapshots for thousands of
accounts): :func:`snapshot_points` fetches, per account, only the few rows the features
read, each found by an index seek on ``(account_id, captured_at)``. The enrichment stage
(``enrichment/stage.py``) turns these rows into its own plain rows; nothing here knows a
feature, only the time bounds it is given.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Integer, String, and_, case, cast, func, select, type_coerce
from sqlmodel import Session

from storage.db import among_ids
from storage.models import Account, Lease, Post, PostSnapshot, PressMention
from storage.models import ProfileSnapshot as PS


@dataclass(frozen=True)
class Watermark:
    """The newest profile snapshot, post snapshot and press mention ids (a FeatureSnapshot
    stores the ones its features saw as ``max_snapshot_id``, ``max_post_snapshot_id``,
    ``max_press_id``)."""

    snapshot: int | None = None
    post_snapshot: int | None = None
    press: int | None = None


class SnapshotPoint(NamedTuple):
    """One profile snapshot, with the fields features read."""

    id: int
    account_id: int
    captured_at: datetime
    followers: int | None
    approximate: tuple[str, ...]
    lower_bound: tuple[str, ...]
    ip_location: str | None
    location: str | None
    country: str | None


class PostPoint(NamedTuple):
    """A post with the counts of its newest snapshot at or before a time (None without one)."""

    account_id: int
    platform: str
    post_id: str
    url: str | None
    published_at: datetime | None
    first_seen_at: datetime | None
    title: str | None
    text: str | None
    likes: int | None
    comments: int | None
    shares: int | None
    views: int | None
    id: int | None = None  # the post's row id


def _chunks(values: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    """Slices short enough for an IN list on every database (older SQLite allows 999 variables)."""
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _every_candidate_account(session: Session, account_ids: Collection[int]) -> bool:
    """Whether these accounts of candidates are all the accounts any candidate has (a full
    enrich): then one unfiltered query beats sending every id in IN lists, which would
    repeat a query's aggregate once per slice."""
    owned = session.execute(select(func.count()).select_from(Account).where(Account.candidate_id.is_not(None))).scalar()
    return len(set(account_ids)) == owned


def _flags(raw: Any) -> tuple[str, ...]:
    """A JSON list column read as text (SQLite) or already decoded (PostgreSQL's driver)."""
    if raw is None or raw == "[]":
        return ()
    if isinstance(raw, str):
        raw = json.loads(raw)
    return tuple(raw)


def _time_text(column: Any, sqlite: bool) -> Any:
    """A time column read as SQLite's stored text, for :func:`_read_time` (SQLAlchemy's own
    processing of a time - a regular expression, a datetime, then its zone - cost ~4 µs a
    value: ~0.5 s of the 100,000 snapshots and posts a full enrich reads per 1,000
    candidates); on PostgreSQL the column as it is."""
    return type_coerce(column, String) if sqlite else column


def _read_time(value: Any) -> datetime | None:
    """What :func:`_time_text` read, as an aware UTC time (SQLite keeps UTC without an offset)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


def newest_snapshot_id() -> Any:
    """The newest profile snapshot id of each ``Account`` row selected (a correlated subquery:
    one seek of the ``account_id`` index per account; NULL for one without snapshots)."""
    return select(func.max(PS.id)).where(PS.account_id == Account.id).correlate(Account).scalar_subquery()


def snapshot_points(
    session: Session,
    account_ids: Collection[int],
    as_of: datetime,
    *,
    windows: Sequence[int],
    lookback_days: int,
) -> tuple[dict[int, int], list[SnapshotPoint]]:
    """The newest snapshot id of each of these accounts (of candidates), and the snapshots
    features read, each the newest at or before a time bound:

    * the newest at or before ``as_of``, and the newest with a follower count;
    * per window of N days (``windows``): the newest with a follower count at or before
      ``as_of - N``, and not older than ``as_of - 2N``;
    * within ``lookback_days`` before ``as_of``: the newest showing an IP location, and the
      newest showing a declared location or country.
    """
    def newest(*conditions: Any) -> Any:
        return (select(PS.id).where(PS.account_id == Account.id, *conditions)
                .order_by(PS.captured_at.desc(), PS.id.desc()).limit(1).correlate(Account).scalar_subquery())

    lookback = as_of - timedelta(days=lookback_days)
    point_columns = [
        newest(PS.captured_at <= as_of),
        newest(PS.captured_at <= as_of, PS.followers.is_not(None)),
        *[newest(PS.captured_at <= as_of - timedelta(days=d), PS.captured_at >= as_of - timedelta(days=2 * d),
                 PS.followers.is_not(None)) for d in windows],
        newest(PS.captured_at <= as_of, PS.captured_at > lookback, PS.ip_location.is_not(None)),
        newest(PS.captured_at <= as_of, PS.captured_at > lookback, (PS.location.is_not(None)) | (PS.country.is_not(None))),
    ]
    points = select(Account.id, newest_snapshot_id(), *point_columns)
    found = []
    if _every_candidate_account(session, account_ids):
        found = session.execute(points.where(Account.candidate_id.is_not(None))).all()
    else:
        for chunk in _chunks(list(account_ids)):
            found.extend(session.execute(points.where(Account.id.in_(chunk))).all())
    newest_ids: dict[int, int] = {}
    snapshot_ids: set[int] = set()
    for account_id, max_id, *ids in found:
        if max_id is not None:
            newest_ids[account_id] = max_id
        snapshot_ids.update(i for i in ids if i is not None)
    rows: list[SnapshotPoint] = []
    sqlite = session.get_bind().dialect.name == "sqlite"
    if snapshot_ids:
        # The JSON flag lists come as text ("[]" almost always): decoded only when not empty.
        fetched = session.execute(
            select(PS.id, PS.account_id, _time_text(PS.captured_at, sqlite), PS.followers,
                   type_coerce(PS.approximate, String), type_coerce(PS.lower_bound, String), PS.ip_location,
                   PS.location, PS.country).where(among_ids(session, PS.id, sorted(snapshot_ids)))
        ).all()
        for sid, account_id, captured_at, followers, approximate, lower, ip, location, country in fetched:
            rows.append(SnapshotPoint(sid, account_id, _read_time(captured_at), followers, _flags(approximate),  # type: ignore[arg-type]
                                      _flags(lower), ip, location, country))
    return newest_ids, rows


def posts_with_counts(
    session: Session, account_ids: Collection[int], as_of: datetime
) -> tuple[dict[int, int], list[PostPoint]]:
    """The newest post-snapshot id of each of these accounts (of candidates), and every post
    of them with the counts of its newest snapshot at or before ``as_of``."""
    def queries(accounts: Sequence[int] | None) -> tuple[Any, Any]:
        # The newest snapshot of each post, grouped over these accounts' posts only (grouped over
        # every post, the subquery cost each slice of accounts as much as the whole table).
        newest = select(PostSnapshot.post_id, func.max(PostSnapshot.id).label("id")).where(PostSnapshot.captured_at <= as_of)
        if accounts is not None:
            newest = newest.join(Post, Post.id == PostSnapshot.post_id).where(Post.account_id.in_(accounts))
        newest = newest.group_by(PostSnapshot.post_id).subquery()
        post_query = (
            select(Post.account_id, Post.platform, Post.post_id, Post.url, _time_text(Post.published_at, sqlite),
                   _time_text(Post.first_seen_at, sqlite),
                   Post.title, Post.text, PostSnapshot.likes, PostSnapshot.comments, PostSnapshot.shares,
                   PostSnapshot.views, Post.id)
            .outerjoin(newest, newest.c.post_id == Post.id)
            .outerjoin(PostSnapshot, PostSnapshot.id == newest.c.id)
        )
        mark_query = select(Post.account_id, func.max(PostSnapshot.id)).join(PostSnapshot, PostSnapshot.post_id == Post.id) \
            .group_by(Post.account_id)
        if accounts is not None:
            post_query = post_query.where(Post.account_id.in_(accounts))
            mark_query = mark_query.where(Post.account_id.in_(accounts))
        return post_query, mark_query

    post_rows, mark_rows = [], []
    sqlite = session.get_bind().dialect.name == "sqlite"
    if _every_candidate_account(session, account_ids):
        post_query, mark_query = queries(None)
        post_rows = session.execute(post_query).all()
        mark_rows = session.execute(mark_query).all()
    else:
        for chunk in _chunks(list(account_ids)):
            post_query, mark_query = queries(chunk)
            post_rows.extend(session.execute(post_query).all())
            mark_rows.extend(session.execute(mark_query).all())
    wanted = set(account_ids)  # the unfiltered queries also read accounts nobody owns
    newest_ids = {account_id: max_id for account_id, max_id in mark_rows if max_id is not None and account_id in wanted}
    return newest_ids, [PostPoint(account_id, platform, post_id, url, _read_time(published), _read_time(first_seen), *rest)
                        for account_id, platform, post_id, url, published, first_seen, *rest in post_rows
                        if account_id in wanted]


def press_mentions(session: Session, candidate_ids: Sequence[int]) -> list[PressMention]:
    """Every stored mention (confirmed or not) of these candidates, in the order stored."""
    mentions: list[PressMention] = []
    for chunk in _chunks(list(candidate_ids)):
        mentions.extend(session.execute(
            select(PressMention).where(PressMention.candidate_id.in_(chunk)).order_by(PressMention.id)
        ).scalars())
    return mentions


def press_searched(session: Session, candidate_ids: Sequence[int]) -> set[int]:
    """The candidates whose press search ever ran (their ``press`` lease records a refresh),
    whether or not it found anything."""
    searched: set[int] = set()
    for chunk in _chunks(list(candidate_ids)):
        for lease in session.execute(select(Lease).where(Lease.platform == "press", Lease.subject_id.in_(chunk))).scalars():
            if (lease.refreshed or {}).get("press"):
                searched.add(lease.subject_id)
    return searched


def newest_input_ids(session: Session, after: Watermark) -> dict[int, Watermark]:
    """Per candidate, the newest profile snapshot, post snapshot and press mention whose id is
    above ``after``'s (None where there is none). Primary-key range scans: only rows newer
    than ``after`` are read."""
    found: dict[int, dict[str, int]] = {}

    def collect(kind: str, rows: Iterable[Any]) -> None:
        for candidate_id, max_id in rows:
            if candidate_id is not None and max_id is not None:
                found.setdefault(candidate_id, {})[kind] = max_id

    after_snapshot = after.snapshot or 0
    owner = Account.id == PS.account_id
    if session.get_bind().dialect.name == "sqlite" and _few_rows_after(session, after_snapshot):
        # SQLite plans this join as a seek per account into (account_id, id) - 16,000 seeks,
        # ~60 ms, however few rows are new. With "+ 0" that index cannot serve the join, so
        # the new rows are read by primary-key range and their accounts looked up: ~1 µs a row.
        owner = Account.id == PS.account_id + 0
    collect("snapshot", session.execute(
        select(Account.candidate_id, func.max(PS.id)).join(Account, owner)
        .where(PS.id > after_snapshot).group_by(Account.candidate_id)
    ).all())
    collect("post_snapshot", session.execute(
        select(Account.candidate_id, func.max(PostSnapshot.id)).join(Post, Post.id == PostSnapshot.post_id)
        .join(Account, Account.id == Post.account_id).where(PostSnapshot.id > (after.post_snapshot or 0))
        .group_by(Account.candidate_id)
    ).all())
    collect("press", session.execute(
        select(PressMention.candidate_id, func.max(PressMention.id)).where(PressMention.id > (after.press or 0))
        .group_by(PressMention.candidate_id)
    ).all())
    return {candidate_id: Watermark(**ids) for candidate_id, ids in found.items()}


def _few_rows_after(session: Session, after: int) -> bool:
    """Whether the profile snapshots above id ``after`` are fewer than four per account (read
    by primary-key range, they cost less than a seek per account)."""
    top = session.execute(select(func.max(PS.id))).scalar() or 0
    if top - after <= 0:
        return True
    accounts = session.execute(select(func.count()).select_from(Account)).scalar() or 0
    return top - after < 4 * accounts


class FollowerCountPoint(NamedTuple):
    """One follower count of an account, and whether it was rounded display text or a lower bound."""

    account_id: int
    captured_at: datetime
    followers: int
    rounded: bool


def follower_counts(session: Session, account_ids: Collection[int], start: datetime, end: datetime) -> list[FollowerCountPoint]:
    """Every follower count of these accounts captured after ``start`` and at or before ``end``,
    oldest first per account (the suspicious-growth detector reads whole daily series: one
    range scan of the ``(account_id, captured_at)`` index per slice of accounts)."""
    rows: list[FollowerCountPoint] = []
    query = (select(PS.account_id, PS.captured_at, PS.followers, type_coerce(PS.approximate, String),
                    type_coerce(PS.lower_bound, String))
             .where(PS.captured_at > start, PS.captured_at <= end, PS.followers.is_not(None))
             .order_by(PS.account_id, PS.captured_at, PS.id))
    for chunk in _chunks(sorted(set(account_ids))):
        for account_id, captured_at, followers, approximate, lower in session.execute(query.where(PS.account_id.in_(chunk))):
            rounded = "followers" in _flags(approximate) or "followers" in _flags(lower)
            rows.append(FollowerCountPoint(account_id, captured_at, followers, rounded))
    return rows


class FollowerCountColumns(NamedTuple):
    """Follower counts as columns (numpy arrays, one entry per profile snapshot with a count),
    ordered by account, then capture time, then id."""

    account_id: Any  # int64
    day: Any  # int64: the UTC day of captured_at as date.toordinal()
    followers: Any  # int64
    rounded: Any  # bool: rounded display text (1.2万) or a lower bound (10万+)


class StampedCounts(NamedTuple):
    """:class:`FollowerCountColumns` with each count's capture time and snapshot id instead of
    its day (what ``storage.follower_series`` keeps)."""

    account_id: Any  # int64
    stamp: Any  # int64: captured_at in microseconds since 1970-01-01 UTC
    followers: Any  # int64
    rounded: Any  # bool
    id: Any  # int64: the profile snapshot's id


#: date(1970, 1, 1).toordinal(): a Unix day number plus this is a date.toordinal().
_UNIX_ORDINAL = 719_163
_DAY_US = 86_400_000_000
#: The Julian day number of 1970-01-01 00:00 UTC (SQLite before 3.38 has julianday(), not unixepoch()).
_JULIAN_UNIX = 2440587.5
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def day_of_stamp(stamp: Any) -> Any:
    """The UTC day (``date.toordinal()``) of capture times in microseconds since 1970 (numpy
    floor division: right before 1970 too)."""
    return np.asarray(stamp, dtype=np.int64) // _DAY_US + _UNIX_ORDINAL


def day_start_stamp(day: int) -> int:
    """The first microsecond of a day (``date.toordinal()``) since 1970: :func:`day_of_stamp`'s inverse."""
    return (day - _UNIX_ORDINAL) * _DAY_US


def stamp_of(when: datetime) -> int:
    """An aware time in microseconds since 1970-01-01 UTC (exact: no float on the way)."""
    return (when - _EPOCH) // timedelta(microseconds=1)


def instant_of(stamp: int) -> datetime:
    """:func:`stamp_of` undone: the aware UTC time."""
    return _EPOCH + timedelta(microseconds=int(stamp))



def _sqlite_stamp(column: Any) -> Any:
    """A time SQLite stores ('YYYY-MM-DD HH:MM:SS.ffffff', UTC) in microseconds since 1970:
    whole seconds by unixepoch() (julianday() before SQLite 3.38, rounded to the second: exact
    at that scale), plus the six digits after the point (none: 0)."""
    text = type_coerce(column, String)
    seconds_text = func.substr(text, 1, 19)
    if sqlite3.sqlite_version_info >= (3, 38):
        seconds = func.unixepoch(seconds_text, type_=Integer)
    else:
        seconds = cast(func.round((func.julianday(seconds_text) - _JULIAN_UNIX) * 86_400), Integer)
    return seconds * 1_000_000 + cast(func.substr(text, 21, 6), Integer)


def follower_count_stamps(session: Session, account_ids: Collection[int], start: datetime | None,
                          end: datetime | None = None, *, after_ids: Mapping[int, int] | None = None) -> StampedCounts:
    """Every follower count of these accounts captured after ``start`` (and at or before
    ``end``, if given) as columns, ordered by account, capture time and id: millions of rows
    for a cohort, so no row object and no datetime per row. The rows whose flag lists are not
    empty (rare) are looked up again by id to tell whether their count was rounded.

    With ``after_ids`` (account -> snapshot id) instead of ``start`` and ``account_ids``: each
    account's counts with a higher snapshot id, in no order (one seek of ``account_id``'s index
    per account, whose entries are ordered by id within an account; ordered by time, the
    planner could walk each account's whole ``(account_id, captured_at)`` range instead)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    plain = and_(func.coalesce(cast(PS.approximate, String), "[]") == "[]",
                 func.coalesce(cast(PS.lower_bound, String), "[]") == "[]")
    flagged = case((plain, 0), else_=PS.id)  # 0, or the id of a row whose flags are to be read
    stamp = _sqlite_stamp(PS.captured_at) if sqlite else PS.captured_at
    query = select(PS.account_id, stamp, PS.followers, flagged, PS.id).where(PS.followers.is_not(None))
    if start is not None:
        query = query.where(PS.captured_at > start).order_by(PS.account_id, PS.captured_at, PS.id)
    if end is not None:
        query = query.where(PS.captured_at <= end)
    connection = session.connection()
    if after_ids is not None:
        # "(account_id = ? AND id > ?) OR ..." in the driver's own placeholders: built as
        # SQLAlchemy expressions or bound text, 400 pairs cost ~40 ms to make.
        base = query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        mark = "?" if sqlite else "%s"
        pair = f"(profilesnapshot.account_id = {mark} AND profilesnapshot.id > {mark})"
        results: Iterable[Any] = (
            connection.exec_driver_sql(f"{base} AND ({' OR '.join([pair] * len(chunk))})",
                                       tuple(int(v) for v in itertools.chain.from_iterable(chunk)))
            for chunk in _chunks(sorted(after_ids.items()), 400))
    else:
        results = (connection.execute(query.where(PS.account_id.in_(chunk))) for chunk in _chunks(sorted(set(account_ids))))
    parts = []
    for result in results:
        if sqlite:  # five integers a row, nothing to convert: the driver's own tuples
            rows = result.cursor.fetchall()
            result.close()
        else:  # the times, as aware UTC datetimes
            rows = [(account_id, stamp_of(captured_at), followers, flag, sid)
                    for account_id, captured_at, followers, flag, sid in result]
        parts.append(np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=5 * len(rows)))
    table = np.concatenate(parts).reshape(-1, 5) if parts else np.zeros((0, 5), dtype=np.int64)
    flag_ids = table[:, 3]
    rounded = np.zeros(len(table), dtype=bool)
    check = np.flatnonzero(flag_ids)
    if len(check):
        found: set[int] = set()
        for chunk in _chunks(flag_ids[check].tolist()):
            for sid, approximate, lower in session.execute(
                select(PS.id, type_coerce(PS.approximate, String), type_coerce(PS.lower_bound, String)).where(PS.id.in_(chunk))
            ):
                if "followers" in _flags(approximate) or "followers" in _flags(lower):
                    found.add(sid)
        rounded[check] = [int(sid) in found for sid in flag_ids[check].tolist()]
    return StampedCounts(table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy(), rounded, table[:, 4].copy())


def follower_count_columns(session: Session, account_ids: Collection[int], start: datetime,
                           end: datetime) -> FollowerCountColumns:
    """:func:`follower_counts` as columns, with the UTC day of each count instead of its time
    (:func:`follower_count_stamps` read over ``(start, end]``): what the suspicious-growth
    detector makes its daily series of, and what ``storage.follower_series`` keeps them from."""
    counts = follower_count_stamps(session, account_ids, start, end)
    return FollowerCountColumns(counts.account_id, day_of_stamp(counts.stamp), counts.followers, counts.rounded)
