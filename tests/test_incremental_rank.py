"""An incremental enrich ranked against the live cohort leaves every row as a full re-rank of the
cohort would: when the changed candidate's new values move other candidates' percentiles (their
rows change), and when they move nobody's (the other rows keep their ranking and are not
rewritten, not even their ``ranked_at``: it says since when a ranking has stood)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import select

from enrichment.schema import COVERAGE_COLUMNS, INDEX_COLUMNS, SCORE_COLUMNS
from enrichment.stage import EARLINESS, enrich, rank_cohort
from storage.db import session_scope
from storage.models import Account, Candidate, FeatureRanking, FeatureSnapshot
from tests.test_export import _snapshot

#: (followers 40 days ago, gain a day) of each candidate's douyin account: spread over tiers,
#: the first far ahead of everyone on followers and growth.
COHORT = [(5_000_000, 20_000), (40_000, 30), (60_000, 200), (90_000, 50), (150_000, 400), (300_000, 100),
          (700_000, 1_000), (20_000, 10)]


def _creator(database_url: str, handle: str, start: int, gain: int) -> int:
    """A candidate with a douyin account followed daily for 40 days: ``start`` followers, ``gain`` a day."""
    with session_scope(database_url) as session:
        candidate = Candidate(display_name=f"creator {handle}")
        session.add(candidate)
        session.flush()
        account = Account(candidate_id=candidate.id, platform="douyin", handle=handle)
        session.add(account)
        session.flush()
        for days_ago in range(40, 0, -1):
            session.add(_snapshot(account, days_ago, start + gain * (40 - days_ago)))
        return candidate.id  # type: ignore[return-value]


def _populate(database_url: str) -> list[int]:
    return [_creator(database_url, f"c{n}", start, gain) for n, (start, gain) in enumerate(COHORT)]


def _add(database_url: str, index: int, followers: int) -> None:
    with session_scope(database_url) as session:
        account = session.exec(select(Account).where(Account.handle == f"c{index}")).one()
        session.add(_snapshot(account, 0.5, followers))


def _state(database_url: str) -> dict[int, tuple[Any, ...]]:
    """Each candidate's newest row: its id, when it was ranked, and everything ranking writes."""
    columns = [*INDEX_COLUMNS, *COVERAGE_COLUMNS, *SCORE_COLUMNS]
    with session_scope(database_url) as session:
        rows = session.exec(select(FeatureSnapshot).order_by(FeatureSnapshot.id)).all()
        newest = {row.candidate_id: row for row in rows}
        return {cid: (row.id, row.ranking.ranked_at, row.ranking.reference, row.ranking.tier,  # type: ignore[union-attr]
                      row.ranking.top_contributors, tuple(getattr(row.ranking, c) for c in columns),  # type: ignore[union-attr]
                      tuple((row.features or {}).get(e) for e in EARLINESS))
                for cid, row in newest.items()}


def _ranking(state: dict[int, tuple[Any, ...]]) -> dict[int, tuple[Any, ...]]:
    return {cid: values[2:] for cid, values in state.items()}


def _full_rerank(database_url: str) -> dict[int, tuple[Any, ...]]:
    """The cohort ranked again from nothing: every row's ranking forgotten, every row written."""
    with session_scope(database_url) as session:
        session.execute(update(FeatureRanking).values(reference=None, tier=None, top_contributors={}))
    with session_scope(database_url) as session:
        rank_cohort(session, active_only=True)
    return _ranking(_state(database_url))


def test_an_incremental_enrich_leaves_the_cohort_as_a_full_rerank_whether_or_not_others_move(database_url: str) -> None:
    ids = _populate(database_url)
    with session_scope(database_url) as session:
        assert enrich(session, reference="cohort").computed == len(COHORT)
    first = _state(database_url)

    # Creator 2 jumps past four others: their percentiles on followers and growth move.
    _add(database_url, 2, 800_000)
    with session_scope(database_url) as session:
        result = enrich(session, reference="cohort")
        assert result.computed == 1 and result.ranked == len(COHORT)
    moved = _state(database_url)
    assert moved[ids[2]][0] != first[ids[2]][0]  # a new row for creator 2
    others = [cid for cid in ids if cid != ids[2]]
    changed = [cid for cid in others if _ranking(moved)[cid] != _ranking(first)[cid]]
    assert changed  # the others' percentiles moved ...
    assert _full_rerank(database_url) == _ranking(moved)  # ... as a full re-rank moves them

    # Creator 0, already ahead of everyone on every component, moves further ahead: nobody else's
    # percentile moves, so no other row's ranking changes (their rows are not written at all).
    before = _state(database_url)
    _add(database_url, 0, 6_000_000)
    with session_scope(database_url) as session:
        assert enrich(session, reference="cohort").computed == 1
    after = _state(database_url)
    others = [cid for cid in ids if cid != ids[0]]
    assert {cid: _ranking(after)[cid] for cid in others} == {cid: _ranking(before)[cid] for cid in others}
    assert all(after[cid][:2] == before[cid][:2] for cid in others)  # same row, same ranked_at
    assert _full_rerank(database_url) == _ranking(after)


def test_a_row_with_values_but_no_percentile_is_not_taken_for_one_with_nothing_to_rank(database_url: str) -> None:
    """Alone, a candidate's values have no spread to rank against (every percentile absent), as
    a row with nothing at all; but its values are the cohort's, and the next candidate is
    ranked against them. Ranking leaves out only rows stored as having nothing to rank."""
    first = _creator(database_url, "first", 50_000, 100)
    with session_scope(database_url) as session:
        enrich(session, reference="cohort")
    alone = _state(database_url)
    assert all(value is None for value in alone[first][5][:4])  # no index: nothing to compare with
    assert alone[first][3] == "micro"
    second = _creator(database_url, "second", 20_000, 10)
    with session_scope(database_url) as session:
        assert enrich(session, reference="cohort").computed == 1
    after = _state(database_url)
    assert after[second][5][2] is not None  # influence: ranked against the first's followers
    assert _ranking(after) == _full_rerank(database_url)
