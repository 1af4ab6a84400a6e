"""Each account's daily follower series, kept up to date from the append-only profile snapshots.

The suspicious-growth detector (``enrichment.features.authenticity``) judges an account on its
last exact follower count of every UTC day over 180 days. Read from the snapshots that is one
row per count: 2.9 million rows for 16,000 daily-crawled accounts, each costing SQLite an index
entry, a table lookup and a Python tuple - a third of a full enrich. Snapshots are never changed
or deleted, so enrich keeps the series instead: one ``followerseries`` row per account holds, per
day, the last exact count with its capture time and snapshot id, and says what has been folded
into it (every snapshot of the account with an id up to ``through_id`` captured after
``complete_after_us``). A run folds in only the snapshots added since and reads one row per
account.

What :func:`daily_follower_series` returns is what
``authenticity.daily_series(follower_count_columns(...))`` makes of the snapshots themselves
(tests compare the two). Where the kept series cannot say, the account's window is read from the
snapshots as before: the window starts before what is kept (a run backdated further than
:data:`KEEP_DAYS`), or it ends inside a day whose kept count came after its end (a backdated
run: the day's last count at or before the end is not kept).

Late commits: on PostgreSQL, ids come from a sequence, so a snapshot can commit after one with
a higher id was read and folded. Each refresh there also re-reads the snapshots each account
captured in the :data:`LATE_COMMIT` before its newest folded one (folding is idempotent); a
snapshot committed later than that, with an older capture time, is not seen until the rows are
rebuilt (``DELETE FROM followerseries``). SQLite has one writer at a time: ids commit in order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlmodel import Session

from storage.db import among_ids, upsert
from storage.feature_inputs import (
    StampedCounts,
    day_of_stamp,
    day_start_stamp,
    follower_count_columns,
    follower_count_stamps,
    instant_of,
    newest_snapshot_id,
    stamp_of,
)
from storage.models import Account, FollowerSeries, utcnow

#: Days kept before an account's newest: the detector's 180 and a week for backdated runs.
KEEP_DAYS = 187
#: On PostgreSQL, how far before its newest folded capture an account's snapshots are re-read.
LATE_COMMIT = timedelta(days=1)
_LATE_COMMIT_US = LATE_COMMIT // timedelta(microseconds=1)
_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class Kept:
    """One account's kept series (ascending by day; one entry per day) and what it holds."""

    days: np.ndarray
    followers: np.ndarray
    stamps: np.ndarray  # the count's capture time, microseconds since 1970 UTC
    ids: np.ndarray  # the count's snapshot id
    through_id: int
    complete_after: int  # microseconds: every count captured after this is folded in
    newest: int | None  # microseconds: the newest capture folded in

    @classmethod
    def decode(cls, row: Any) -> Kept:
        # Read-only views of the stored bytes (folding makes new arrays; nothing writes into them).
        table = np.frombuffer(row.series, dtype="<i8").reshape(4, -1)
        return cls(table[0], table[1], table[2], table[3], row.through_id, row.complete_after_us, row.newest_us)

    def encode(self) -> bytes:
        return np.stack([self.days, self.followers, self.stamps, self.ids]).astype("<i8").tobytes()


def daily_follower_series(session: Session, account_ids: Collection[int], start: datetime,
                          end: datetime) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per account with an exact count captured in ``(start, end]``: its days
    (``date.toordinal()``) and each day's last exact count, as int64 arrays - after folding the
    accounts' new snapshots into their kept series (written in the session's transaction)."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    start_us, end_us = stamp_of(start), stamp_of(end)
    kept = refresh(session, ids, start_us)
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    end_day = int(day_of_stamp(end_us))
    unsure: list[int] = []
    for account_id in ids:
        series = kept.get(account_id)
        if series is None:
            continue  # no snapshot at all (refresh builds a series for every account with one)
        if series.complete_after > start_us:
            unsure.append(account_id)
            continue
        lo = int(np.searchsorted(series.stamps, start_us, side="right"))
        hi = int(np.searchsorted(series.stamps, end_us, side="right"))
        if hi < len(series.days) and series.days[hi] == end_day:
            unsure.append(account_id)  # the end day's last count came after the end
            continue
        if hi > lo:
            out[account_id] = (series.days[lo:hi], series.followers[lo:hi])
    if unsure:
        out.update(_read_window(session, unsure, start, end))
    return out


def _read_window(session: Session, account_ids: list[int], start: datetime,
                 end: datetime) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The window read from the snapshots themselves (what the kept series must equal)."""
    counts = follower_count_columns(session, account_ids, start, end)
    exact = ~counts.rounded
    keys, days, followers = counts.account_id[exact], counts.day[exact], counts.followers[exact]
    last = _last_mask(keys, days)
    keys, days, followers = keys[last], days[last], followers[last]
    return {account_id: (days[a:b], followers[a:b]) for account_id, a, b in _runs(keys)}


def _last_mask(keys: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Of rows ordered by account, then capture time (then id): the last of each account's day."""
    last = np.ones(len(keys), dtype=bool)
    if len(keys):
        last[:-1] = (keys[1:] != keys[:-1]) | (days[1:] != days[:-1])
    return last


def _runs(keys: np.ndarray) -> Iterable[tuple[int, int, int]]:
    """(key, start, end) of each run of equal keys in an ordered array."""
    if not len(keys):
        return []
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    ends = np.append(starts[1:], len(keys))
    return zip(keys[starts].tolist(), starts.tolist(), ends.tolist())


def refresh(session: Session, account_ids: list[int], start_us: int) -> dict[int, Kept]:
    """The accounts' kept series with every count added since folded in (changed ones written
    back); an account with snapshots and none kept gets one built from its counts captured after
    ``start_us``. Accounts without any snapshot are left out."""
    kept = _load(session, account_ids)
    changed: dict[int, Kept] = {}
    missing = [a for a in account_ids if a not in kept]
    tops = _newest_ids(session, missing) if missing else {}
    build = [a for a in missing if a in tops]
    if build:
        built = _build(follower_count_stamps(session, build, instant_of(start_us)), start_us)
        for account_id in build:
            series = built.get(account_id) or Kept(_EMPTY, _EMPTY, _EMPTY, _EMPTY, 0, start_us, None)
            series.through_id = tops[account_id]
            kept[account_id] = changed[account_id] = series
    stale = [a for a in account_ids if a in kept and a not in changed]
    if stale:
        late = session.get_bind().dialect.name != "sqlite"
        for account_id, new in _group(_new_counts(session, kept, stale, late)):
            old = kept[account_id]
            if not _news(old, new):
                continue  # what PostgreSQL's re-read of the last captures found is folded in already
            series = _fold(old, new)
            if (series.through_id, series.newest, series.complete_after) != (old.through_id, old.newest, old.complete_after) \
                    or not _same(series, old):
                kept[account_id] = changed[account_id] = series
    _store(session, changed)
    return kept


def _news(old: Kept, new: StampedCounts) -> bool:
    """Whether folding ``new`` into ``old`` can change it: a count above ``through_id``, or an
    exact one captured after ``complete_after`` that beats its day's kept count (by time, then
    id) or falls on a day with none."""
    if int(new.id.max()) > old.through_id:
        return True
    use = ~new.rounded & (new.stamp > old.complete_after)
    if not use.any():
        return False
    stamps, ids = new.stamp[use], new.id[use]
    days = day_of_stamp(stamps)
    at = np.searchsorted(old.days, days)
    if (at >= len(old.days)).any():
        return True
    if (old.days[at] != days).any():
        return True
    kept_stamps, kept_ids = old.stamps[at], old.ids[at]
    return bool(((stamps > kept_stamps) | ((stamps == kept_stamps) & (ids > kept_ids))).any())


def _same(a: Kept, b: Kept) -> bool:
    return (len(a.days) == len(b.days) and np.array_equal(a.ids, b.ids) and np.array_equal(a.stamps, b.stamps)
            and np.array_equal(a.followers, b.followers))


def _group(counts: StampedCounts) -> Iterable[tuple[int, StampedCounts]]:
    """Counts (ordered by account) split per account."""
    for account_id, a, b in _runs(counts.account_id):
        yield account_id, StampedCounts(*(column[a:b] for column in counts))


def _new_counts(session: Session, kept: Mapping[int, Kept], account_ids: list[int], late: bool) -> StampedCounts:
    """The counts of these accounts with an id above their kept ``through_id`` (and, with
    ``late``, those captured within :data:`LATE_COMMIT` of their newest folded capture), ordered
    by account, capture time and id. A count read twice, or already folded in, folds to the
    same series."""
    parts = [follower_count_stamps(session, (), None, after_ids={a: kept[a].through_id for a in account_ids})]
    if late:
        for i in range(0, len(account_ids), 900):
            chunk = account_ids[i:i + 900]
            horizon = min((kept[a].newest if kept[a].newest is not None else kept[a].complete_after) for a in chunk)
            parts.append(follower_count_stamps(session, chunk, instant_of(horizon - _LATE_COMMIT_US)))
    counts = StampedCounts(*(np.concatenate([getattr(p, f) for p in parts]) for f in StampedCounts._fields))
    order = np.lexsort((counts.id, counts.stamp, counts.account_id))
    return StampedCounts(*(column[order] for column in counts))


def _build(counts: StampedCounts, complete_after: int) -> dict[int, Kept]:
    """What :func:`_fold` makes of counts of many accounts with nothing kept (ordered by
    account, time and id; all captured after ``complete_after``), at once: what a first enrich
    does for every account (``through_id`` 0, for the caller to set)."""
    newest = {account_id: int(counts.stamp[b - 1]) for account_id, _, b in _runs(counts.account_id)}
    exact = ~counts.rounded
    keys, stamps, followers, ids = counts.account_id[exact], counts.stamp[exact], counts.followers[exact], counts.id[exact]
    days = day_of_stamp(stamps)
    last = _last_mask(keys, days)
    keys, days, stamps, followers, ids = keys[last], days[last], stamps[last], followers[last], ids[last]
    out = {account_id: Kept(_EMPTY, _EMPTY, _EMPTY, _EMPTY, 0, complete_after, stamp)
           for account_id, stamp in newest.items()}
    for account_id, a, b in _runs(keys):
        series = out[account_id]
        series.days, series.followers, series.stamps, series.ids = days[a:b], followers[a:b], stamps[a:b], ids[a:b]
        _keep_recent(series)
    return out


def _keep_recent(series: Kept) -> None:
    """Drop the days older than :data:`KEEP_DAYS` before the newest; ``complete_after`` then
    moves up to the last microsecond before the first day kept."""
    if not len(series.days):
        return
    first = int(series.days[-1]) - KEEP_DAYS
    lo = int(np.searchsorted(series.days, first))
    if lo:
        series.days, series.followers, series.stamps, series.ids = (
            series.days[lo:], series.followers[lo:], series.stamps[lo:], series.ids[lo:])
        series.complete_after = max(series.complete_after, day_start_stamp(first) - 1)


def _fold(old: Kept, new: StampedCounts) -> Kept:
    """``old`` with one account's counts ``new`` folded in: per day the last exact count by
    (capture time, id), counts captured at or before ``complete_after`` left out, then
    :func:`_keep_recent`; ``through_id`` moves up to the highest id read."""
    use = ~new.rounded & (new.stamp > old.complete_after)
    days = np.concatenate([old.days, day_of_stamp(new.stamp[use])])
    followers = np.concatenate([old.followers, new.followers[use]])
    stamps = np.concatenate([old.stamps, new.stamp[use]])
    ids = np.concatenate([old.ids, new.id[use]])
    order = np.lexsort((ids, stamps, days))
    days, followers, stamps, ids = days[order], followers[order], stamps[order], ids[order]
    # Ordered by day, then time and id: the last of each day (a snapshot read twice is the same entry).
    last = np.ones(len(days), dtype=bool)
    last[:-1] = days[1:] != days[:-1]
    newest = int(new.stamp.max()) if old.newest is None else max(old.newest, int(new.stamp.max()))
    series = Kept(days[last], followers[last], stamps[last], ids[last], max(old.through_id, int(new.id.max())),
                  old.complete_after, newest)
    _keep_recent(series)
    return series


def _load(session: Session, account_ids: list[int]) -> dict[int, Kept]:
    return {row.account_id: Kept.decode(row) for row in session.execute(
        select(FollowerSeries.account_id, FollowerSeries.through_id, FollowerSeries.complete_after_us,
               FollowerSeries.newest_us, FollowerSeries.series)
        .where(among_ids(session, FollowerSeries.account_id, account_ids)))}


def _newest_ids(session: Session, account_ids: list[int]) -> dict[int, int]:
    """Each account's newest snapshot id (one index seek each), read before its counts: a
    snapshot with a higher id is folded by the next refresh."""
    return {account_id: max_id for account_id, max_id in session.execute(
        select(Account.id, newest_snapshot_id()).where(among_ids(session, Account.id, account_ids)))
        if max_id is not None}


def _store(session: Session, changed: Mapping[int, Kept]) -> None:
    now = utcnow()
    upsert(session, FollowerSeries, [
        {"account_id": account_id, "through_id": series.through_id, "complete_after_us": series.complete_after,
         "newest_us": series.newest, "series": series.encode(), "updated_at": now}
        for account_id, series in changed.items()], key="account_id")
