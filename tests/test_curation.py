"""Curating candidates (issue 18 item 5), in storage, the CLI and the API alike: edits, accounts
added and taken away, deactivation, deletion, merges and their undoing keep every snapshot,
mention and failure attached to the right candidate (SQLite and PostgreSQL); a name several
candidates have asks which one (CLI exit 2 listing them, API 409 with them); a lookup by handles
reuses the candidate that owns them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from crawler.cli import app
from crawler.service.app import create_app
from records import AccountRef, Failure, FailureItem, FailureKind, Profile, ProfileItem, Provenance
from storage.candidates import AmbiguousCandidate, add_candidate, find_candidate
from storage.curation import (
    FOLLOWING,
    CurationRefused,
    add_account,
    delete_candidate,
    edit_candidate,
    merge_candidates,
    remove_account,
    set_active,
    undo_merge,
)
from storage.db import session_scope
from storage.models import (
    Account,
    Candidate,
    CandidateMerge,
    FeatureRanking,
    FeatureSnapshot,
    FetchFailure,
    Lead,
    Outcome,
    PressMention,
    ProfileSnapshot,
    ShortlistEvent,
    ShortlistMember,
    utcnow,
)
from storage.runs import start_run
from storage.writer import write_items

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
runner = CliRunner()


def _profile(platform: str, user_id: str, followers: int) -> ProfileItem:
    return ProfileItem(
        account=AccountRef(platform=platform, platform_user_id=user_id),
        profile=Profile(platform=platform, platform_user_id=user_id, followers=followers),
        provenance=Provenance.of(f"https://example.invalid/{platform}/{user_id}", f"{platform}.test", "1",
                                 f"{user_id}:{followers}".encode(), 200),
    )


def _failure(platform: str, user_id: str) -> FailureItem:
    return FailureItem(account=AccountRef(platform=platform, platform_user_id=user_id),
                       failure=Failure(FailureKind.BLOCKED, "blocked by the test", 412),
                       url=f"https://example.invalid/{platform}/{user_id}/stat")


def _mention(candidate_id: int, url: str) -> PressMention:
    return PressMention(candidate_id=candidate_id, source="gdelt", url=url, canonical_url=url, status="confirmed",
                        country="JP", confidence=0.8, published_at=datetime(2026, 10, 1, tzinfo=timezone.utc))


def _world(database_url: str) -> dict[str, int]:
    """Two registrations of one person: "Mia Chen" (bilibili 2, weibo 10) and "陈米娅" (x 20,
    bilibili 3), each with snapshots, a failure, press mentions (one article both have), a press
    feed failure and an outcome (a period both have); and a bystander."""
    with session_scope(database_url) as session:
        mia = add_candidate(session, "Mia Chen", aliases=["Mia"],
                            accounts=[AccountRef("bilibili", platform_user_id="2"), AccountRef("weibo", platform_user_id="10")]).id
        chen = add_candidate(session, "陈米娅", aliases=["Chen Mia"],
                             accounts=[AccountRef("x", platform_user_id="20"), AccountRef("bilibili", platform_user_id="3")]).id
        other = add_candidate(session, "Bystander", accounts=[AccountRef("youtube", platform_user_id="UC" + "a" * 22)]).id
        run = start_run(session, "manual").id
        write_items(session, [_profile("bilibili", "2", 100), _profile("weibo", "10", 200), _profile("x", "20", 300),
                              _profile("bilibili", "3", 400), _failure("x", "20"), _failure("bilibili", "2")], run)
        session.add_all([_mention(mia, "https://news.example/a"), _mention(mia, "https://news.example/shared"),
                         _mention(chen, "https://news.example/b"), _mention(chen, "https://news.example/shared"),
                         _mention(other, "https://news.example/c")])
        session.add(FetchFailure(crawl_run_id=run, candidate_id=chen, platform="gdelt", kind="rate_limited",
                                 url="https://api.gdeltproject.org/x", detail="429"))
        session.add_all([Outcome(candidate_id=chen, period="2026-Q3", period_start=date(2026, 7, 1), period_end=date(2026, 9, 30), orders=5),
                         Outcome(candidate_id=chen, period="2026-10", period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), orders=2),
                         Outcome(candidate_id=mia, period="2026-Q3", period_start=date(2026, 7, 1), period_end=date(2026, 9, 30), orders=9)])
        session.add(FeatureSnapshot(candidate_id=mia, as_of=utcnow(), schema_version="2", max_snapshot_id=99, max_press_id=99))
    return {"mia": mia, "chen": chen, "other": other}


def _owners(database_url: str) -> dict[str, Any]:
    """Who holds what: snapshots and failures through their account, mentions, press failures and outcomes directly."""
    with session_scope(database_url) as session:
        snapshots = sorted((a.platform, a.platform_user_id, s.followers, a.candidate_id)
                           for s, a in session.exec(select(ProfileSnapshot, Account).join(Account)).all())
        failures = sorted((f.platform, f.kind, a.candidate_id if a is not None else f.candidate_id)
                          for f, a in session.exec(select(FetchFailure, Account).join(Account, isouter=True)).all())
        mentions = sorted((m.canonical_url, m.candidate_id) for m in session.exec(select(PressMention)).all())
        outcomes = sorted((o.period, o.orders, o.candidate_id) for o in session.exec(select(Outcome)).all())
        return {"snapshots": snapshots, "failures": failures, "mentions": mentions, "outcomes": outcomes}


def test_a_merge_moves_every_row_and_undoing_it_moves_exactly_those_back(database_url: str) -> None:
    ids = _world(database_url)
    mia, chen, other = ids["mia"], ids["chen"], ids["other"]
    before = _owners(database_url)
    with session_scope(database_url) as session:
        merge = merge_candidates(session, chen, mia, by="tester", note="one person")
        merge_id = merge.id
    after = _owners(database_url)
    # Every snapshot and account failure of chen's accounts now hangs on mia (through the accounts).
    assert after["snapshots"] == sorted((p, u, f, mia if owner == chen else owner) for p, u, f, owner in before["snapshots"])
    assert ("x", "blocked", mia) in after["failures"] and ("gdelt", "rate_limited", mia) in after["failures"]
    # Mentions follow, except the article mia has too, which stays with chen; the bystander's stay put.
    assert after["mentions"] == sorted([("https://news.example/a", mia), ("https://news.example/shared", mia),
                                        ("https://news.example/b", mia), ("https://news.example/shared", chen),
                                        ("https://news.example/c", other)])
    # Outcomes: the period mia has stays with chen, the other one moves.
    assert after["outcomes"] == sorted([("2026-Q3", 5, chen), ("2026-10", 2, mia), ("2026-Q3", 9, mia)])
    with session_scope(database_url) as session:
        source, target = session.get(Candidate, chen), session.get(Candidate, mia)
        assert (source.active, source.merged_into_id) == (False, mia)
        assert target.aliases == ["Mia", "陈米娅", "Chen Mia"]
        assert find_candidate(session, "陈米娅").id == mia  # the source's name finds the person
        assert find_candidate(session, str(chen)).id == mia  # so does its id
        assert session.exec(select(FeatureSnapshot)).first().max_snapshot_id is None  # recomputed by the next enrich
        record = session.get(CandidateMerge, merge_id)
        assert record.merged_by == "tester" and set(record.moved) == {"account", "pressmention", "fetchfailure", "outcome"}
        assert len(record.moved["account"]) == 2

    with session_scope(database_url) as session:
        undone = undo_merge(session, merge_id, by="tester")
        assert undone.left == {}
    assert _owners(database_url) == before
    with session_scope(database_url) as session:
        source, target = session.get(Candidate, chen), session.get(Candidate, mia)
        assert (source.active, source.merged_into_id) == (True, None)
        assert target.aliases == ["Mia"]
        assert find_candidate(session, "陈米娅").id == chen
        with pytest.raises(CurationRefused, match="undone"):
            undo_merge(session, merge_id)


def test_shortlist_history_follows_a_merge_and_comes_back_with_its_undoing(database_url: str) -> None:
    from storage.shortlists import create_shortlist, set_status

    ids = _world(database_url)
    with session_scope(database_url) as session:
        both = create_shortlist(session, "spring-beauty", "anna").id
        only_chen = create_shortlist(session, "japan", "anna").id
        set_status(session, both, ids["mia"], "contacted", actor="anna")
        set_status(session, both, ids["chen"], "approved", actor="anna", note="chen's own")
        set_status(session, only_chen, ids["chen"], "shortlisted", actor="ben")

    def lists() -> dict[str, list[tuple[int, int, str]]]:
        with session_scope(database_url) as session:
            return {
                "members": sorted((m.shortlist_id, m.candidate_id, m.status) for m in session.exec(select(ShortlistMember)).all()),
                "events": sorted((e.shortlist_id, e.candidate_id, e.status) for e in session.exec(select(ShortlistEvent)).all()),
            }

    before = lists()
    with session_scope(database_url) as session:
        merge_id = merge_candidates(session, ids["chen"], ids["mia"]).id
    after = lists()
    # Mia's own state on the list both are on stands; chen's membership elsewhere and every event follow.
    assert after["members"] == sorted([(both, ids["mia"], "contacted"), (both, ids["chen"], "approved"),
                                       (only_chen, ids["mia"], "shortlisted")])
    assert {candidate for _, candidate, _ in after["events"]} == {ids["mia"]}
    with session_scope(database_url) as session:
        undo_merge(session, merge_id)
    assert lists() == before


def test_rows_moved_on_after_a_merge_stay_where_a_person_put_them(database_url: str) -> None:
    ids = _world(database_url)
    with session_scope(database_url) as session:
        merge_id = merge_candidates(session, ids["chen"], ids["mia"]).id
        # After the merge a person gives chen's X account to the bystander, and merges mia into the bystander.
        remove_account(session, ids["mia"], AccountRef("x", platform_user_id="20"))
        add_account(session, ids["other"], AccountRef("x", platform_user_id="20"))
        later = merge_candidates(session, ids["mia"], ids["other"]).id
    with session_scope(database_url) as session:
        with pytest.raises(CurationRefused, match=f"merge {later}"):
            undo_merge(session, merge_id)  # mia is merged itself: that merge first
        undo_merge(session, later)
        undone = undo_merge(session, merge_id)
        (x_account,) = undone.left["account"]
    with session_scope(database_url) as session:
        assert session.get(Account, x_account).candidate_id == ids["other"]  # left with whom a person gave it
        owners = {a.platform_user_id: a.candidate_id for a in session.exec(select(Account)).all()}
        assert owners["3"] == ids["chen"] and owners["2"] == ids["mia"]


def test_edits_accounts_and_activation_keep_every_row_on_the_candidate(database_url: str) -> None:
    ids = _world(database_url)
    before = _owners(database_url)
    with session_scope(database_url) as session:
        edit_candidate(session, ids["mia"], display_name="Mia C.", add_aliases=["米娅"], remove_aliases=["MIA"], notes="beauty")
        set_active(session, ids["mia"], False)
        account, added = add_account(session, ids["mia"], AccountRef("weibo", platform_user_id="10"))
        assert not added  # she has it already
        removed = remove_account(session, ids["mia"], AccountRef("weibo", platform_user_id="10"))
        assert removed.candidate_id is None
    after = _owners(database_url)
    assert after["mentions"] == before["mentions"] and after["outcomes"] == before["outcomes"]
    # The removed account keeps its snapshot, unowned; adding it back brings it along.
    assert ("weibo", "10", 200, None) in after["snapshots"]
    with session_scope(database_url) as session:
        add_account(session, ids["mia"], AccountRef("weibo", platform_user_id="10"))
        candidate = session.get(Candidate, ids["mia"])
        assert (candidate.display_name, candidate.aliases, candidate.notes, candidate.active) == ("Mia C.", ["米娅"], "beauty", False)
        assert find_candidate(session, "mia c.").id == ids["mia"]
    assert _owners(database_url)["snapshots"] == before["snapshots"]


def test_an_account_another_candidate_has_is_refused_and_delete_keeps_the_accounts_snapshots(database_url: str) -> None:
    ids = _world(database_url)
    with session_scope(database_url) as session:
        with pytest.raises(ValueError, match="already belongs to candidate"):
            add_account(session, ids["other"], AccountRef("bilibili", platform_user_id="2"))
        with pytest.raises(CurationRefused, match="outcome"):
            delete_candidate(session, ids["chen"])  # business records: deactivate instead
        done = delete_candidate(session, ids["other"])
    assert done == {"account": 1, "pressmention": 1}
    with session_scope(database_url) as session:
        assert session.get(Candidate, ids["other"]) is None
        assert session.exec(select(Account).where(Account.platform == "youtube")).one().candidate_id is None


def test_every_table_that_names_a_candidate_is_listed_as_following_it() -> None:
    """A new table with a candidate column must say what merges and deletes do with its rows."""
    from sqlmodel import SQLModel

    from storage.db import import_models

    import_models()
    listed = {rows.name for rows in FOLLOWING}
    # Feature rows describe the candidate they were computed for and are recomputed; merges are the record itself.
    kept = {"featuresnapshot", "candidatemerge", "lease"}
    naming = {table.name for table in SQLModel.metadata.tables.values()
              if any(fk.column.table.name == "candidate" for column in table.columns for fk in column.foreign_keys)}
    assert naming - kept - KNOWN_GAPS <= listed, \
        f"tables naming a candidate that a merge would leave behind: {naming - kept - KNOWN_GAPS - listed}"


#: Tables with a candidate column that storage.curation.FOLLOWING does not list yet (each has an
#: xfail test below saying what goes wrong; remove the name when FOLLOWING gains its row).
KNOWN_GAPS: set[str] = set()


def test_a_promoted_lead_follows_its_candidate(database_url: str) -> None:
    """A merge moves the lead to the person it became and its undoing moves it back; deleting
    the person keeps the lead, naming no one (PostgreSQL refused the delete before: the lead's
    foreign key)."""
    def promoted(session: Any, user_id: str, candidate_id: int) -> int:
        lead = Lead(platform="bilibili", platform_user_id=user_id, seed_kind="query", seed="test", source="test",
                    status="promoted", candidate_id=candidate_id)
        session.add(lead)
        session.flush()
        return int(lead.id)

    with session_scope(database_url) as session:
        source, target, deleted = (add_candidate(session, name).id for name in ("Lead Source", "Lead Target", "Lead Deleted"))
        moving, staying = promoted(session, "77", source), promoted(session, "78", deleted)
    with session_scope(database_url) as session:
        merge_id = merge_candidates(session, source, target, by="tester").id
    with session_scope(database_url) as session:
        assert session.get(Lead, moving).candidate_id == target
        assert session.get(CandidateMerge, merge_id).moved["lead"] == [moving]
        undo_merge(session, merge_id, by="tester")
    with session_scope(database_url) as session:
        assert session.get(Lead, moving).candidate_id == source
        assert delete_candidate(session, deleted) == {"lead": 1}
    with session_scope(database_url) as session:
        assert session.get(Candidate, deleted) is None
        kept = session.get(Lead, staying)
        assert (kept.status, kept.candidate_id) == ("promoted", None)


# --------------------------------------------------------------------------- a name several candidates have


def _namesakes(database_url: str) -> tuple[int, int]:
    with session_scope(database_url) as session:
        first = add_candidate(session, "Mia", accounts=[AccountRef("bilibili", platform_user_id="2")]).id
        second = add_candidate(session, "mia", aliases=["Tokyo Mia"]).id
    return first, second  # type: ignore[return-value]


def test_a_name_several_candidates_have_asks_which_one(database_url: str) -> None:
    first, second = _namesakes(database_url)
    with session_scope(database_url) as session:
        with pytest.raises(AmbiguousCandidate) as raised:
            find_candidate(session, "MIA")
        assert [c.id for c in raised.value.candidates] == [first, second]
    for args in (["lookup", "Mia"], ["candidates", "show", "Mia"], ["candidates", "deactivate", "mia"]):
        result = runner.invoke(app, args, env={"DATABASE_URL": database_url}, catch_exceptions=False)
        assert result.exit_code == 2, result.output
        assert f"{first} Mia" in result.output and f"{second} mia (aliases: Tokyo Mia)" in result.output
        assert "give the id" in result.output


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(database_url, token=TOKEN, workers=1)) as test_client:
        yield test_client


def test_the_api_answers_409_with_the_candidates_for_a_shared_name(client: TestClient, database_url: str) -> None:
    first, second = _namesakes(database_url)
    answer = client.post("/lookups", json={"name": "MIA", "handles": {"bilibili": "3"}}, headers=AUTH)
    assert answer.status_code == 409, answer.text
    assert [c["id"] for c in answer.json()["detail"]["candidates"]] == [first, second]
    assert len(client.get("/candidates", headers=AUTH).json()) == 2  # nobody registered
    named = client.get("/candidates", params={"name": "mia"}, headers=AUTH).json()
    assert [c["id"] for c in named] == [first, second]
    # Saying which one adds the handle to that candidate; saying "another person" registers one.
    chosen = client.post("/lookups", json={"candidate_id": second, "handles": {"bilibili": "3"}}, headers=AUTH)
    assert chosen.status_code == 202 and chosen.json()["candidate_id"] == second
    assert [a["platform_user_id"] for a in client.get(f"/candidates/{second}", headers=AUTH).json()["accounts"]] == ["3"]
    new = client.post("/lookups", json={"name": "Mia", "handles": {"weibo": "5876543210"}, "new_candidate": True}, headers=AUTH)
    assert new.status_code == 202 and new.json()["candidate_id"] not in {first, second}


def test_a_lookup_by_a_handle_already_owned_reuses_that_candidate(client: TestClient, database_url: str) -> None:
    first, _ = _namesakes(database_url)
    for name in ("Someone Else", "Mia"):
        answer = client.post("/lookups", json={"name": name, "handles": {"bilibili": "https://space.bilibili.com/2"}},
                             headers=AUTH)
        assert answer.status_code == 202, answer.text
        assert answer.json()["candidate_id"] == first
    assert len(client.get("/candidates", headers=AUTH).json()) == 2


def test_curation_over_the_api(client: TestClient, database_url: str) -> None:
    ids = _world(database_url)
    before = _owners(database_url)
    created = client.post("/candidates", json={"name": "Mia Chen", "handles": {"x": "someone"}}, headers=AUTH)
    assert created.status_code == 409 and created.json()["detail"]["candidates"][0]["id"] == ids["mia"]
    created = client.post("/candidates", json={"name": "Lena", "aliases": ["Lena NY"], "handles": {"x": ["lena_ny"]}},
                          headers=AUTH)
    assert created.status_code == 201, created.text
    lena = created.json()
    assert created.headers["Location"] == f"/candidates/{lena['id']}"
    edited = client.patch(f"/candidates/{lena['id']}", json={"add_aliases": ["莉娜"], "notes": "NY", "active": False},
                          headers=AUTH).json()
    assert (edited["aliases"], edited["notes"], edited["active"]) == (["Lena NY", "莉娜"], "NY", False)
    assert client.patch(f"/candidates/{lena['id']}", json={"display_name": "\u202eanel"}, headers=AUTH).status_code == 422
    account = client.post(f"/candidates/{lena['id']}/accounts", json={"platform": "weibo", "handle": "https://weibo.com/u/5876543210"},
                          headers=AUTH)
    assert account.status_code == 201
    again = client.post(f"/candidates/{lena['id']}/accounts", json={"platform": "weibo", "handle": "5876543210"}, headers=AUTH)
    assert again.status_code == 200
    taken = client.post(f"/candidates/{lena['id']}/accounts", json={"platform": "bilibili", "handle": "2"}, headers=AUTH)
    assert taken.status_code == 409 and "already belongs" in taken.json()["detail"]
    removed = client.delete(f"/candidates/{lena['id']}/accounts/{account.json()['id']}", headers=AUTH)
    assert removed.status_code == 200
    assert client.delete(f"/candidates/{lena['id']}", headers=AUTH).json()["deleted"] == lena["id"]

    merged = client.post("/merges", json={"source_id": ids["chen"], "target_id": ids["mia"], "by": "desk:anna"}, headers=AUTH)
    assert merged.status_code == 201, merged.text
    assert merged.json()["moved"]["account"] == 2 and merged.json()["merged_by"] == "desk:anna"
    assert client.patch(f"/candidates/{ids['chen']}", json={"active": True}, headers=AUTH).status_code == 409
    assert client.post("/merges", json={"source_id": ids["chen"], "target_id": ids["other"]}, headers=AUTH).status_code == 409
    assert [m["id"] for m in client.get("/merges", params={"candidate_id": ids["mia"]}, headers=AUTH).json()] == [merged.json()["id"]]
    assert client.get(f"/candidates/{ids['chen']}", headers=AUTH).json()["merged_into"] == ids["mia"]
    undone = client.post(f"/merges/{merged.json()['id']}/undo", json={"by": "desk:anna"}, headers=AUTH)
    assert undone.status_code == 200 and undone.json()["undone_by"] == "desk:anna"
    assert client.post(f"/merges/{merged.json()['id']}/undo", headers=AUTH).status_code == 409
    assert client.get("/merges/999", headers=AUTH).status_code == 404
    assert client.patch("/candidates/999", json={"notes": "x"}, headers=AUTH).status_code == 404
    assert _owners(database_url)["mentions"] == before["mentions"]
    assert _owners(database_url)["snapshots"] == before["snapshots"]


def test_the_cli_merges_and_unmerges(database_url: str) -> None:
    ids = _world(database_url)
    before = _owners(database_url)
    env = {"DATABASE_URL": database_url}
    merged = runner.invoke(app, ["candidates", "merge", "陈米娅", "Mia Chen", "--by", "anna"], env=env, catch_exceptions=False)
    assert merged.exit_code == 0, merged.output
    assert "account: 2" in merged.output and "wangzi candidates unmerge 1" in merged.output
    shown = runner.invoke(app, ["candidates", "show", str(ids["chen"])], env=env, catch_exceptions=False)
    assert f"merged into {ids['mia']}" in shown.output
    refused = runner.invoke(app, ["candidates", "edit", str(ids["chen"]), "--notes", "x"], env=env, catch_exceptions=False)
    assert refused.exit_code == 2 and "undo the merge" in refused.output
    listed = runner.invoke(app, ["candidates", "merges", "--json"], env=env, catch_exceptions=False)
    assert '"merged_by": "anna"' in listed.output
    undone = runner.invoke(app, ["candidates", "unmerge", "1"], env=env, catch_exceptions=False)
    assert undone.exit_code == 0, undone.output
    assert _owners(database_url) == before
    assert runner.invoke(app, ["candidates", "unmerge", "7"], env=env).exit_code == 2


def test_curation_commands_print_hostile_names_as_they_are(database_url: str) -> None:
    """Names, aliases and notes are text on the terminal, never rich markup (tests/test_cli_hostile.py's rule)."""
    hostile = "Eve[/] [link=https://evil.example/]click me[/link] [bold]x"
    alias = "[/link][red]alias"
    with session_scope(database_url) as session:
        first = add_candidate(session, hostile, aliases=[alias], notes="[blink]notes[/]",
                              accounts=[AccountRef("bilibili", platform_user_id="2")]).id
        second = add_candidate(session, hostile.lower(), allow_same_name=True).id
    env = {"DATABASE_URL": database_url, "COLUMNS": "300"}
    asked = runner.invoke(app, ["candidates", "show", hostile], env=env, catch_exceptions=False)
    assert asked.exit_code == 2 and f"{first} {hostile}" in asked.output and alias in asked.output
    shown = runner.invoke(app, ["candidates", "show", str(first)], env=env, catch_exceptions=False)
    assert shown.exit_code == 0 and hostile in shown.output and alias in shown.output and "[blink]notes[/]" in shown.output
    edited = runner.invoke(app, ["candidates", "edit", str(first), "--add-alias", "[i]more"], env=env, catch_exceptions=False)
    assert edited.exit_code == 0 and "[i]more" in edited.output and hostile in edited.output
    merged = runner.invoke(app, ["candidates", "merge", str(second), str(first), "--by", "[red]anna"], env=env,
                           catch_exceptions=False)
    assert merged.exit_code == 0, merged.output
    listed = runner.invoke(app, ["candidates", "merges"], env=env, catch_exceptions=False)
    assert "[red]anna" in listed.output


# --------------------------------------------------------------------------- GET /ranking


def test_the_ranking_api_pages_filters_and_says_which_rows_read_synthetic_history(client: TestClient, database_url: str) -> None:
    """Active candidates' newest rows, best composite score first, NULL scores last; a page and
    where the next starts; tiers and coverage filter in SQL, suspicious and synthetic rows can be
    left out, and ranks count only the rows shown."""
    rows = [  # name, composite score, coverage, tier, features
        ("A", 90.0, 0.9, "mega", {"synthetic_history": True}),
        ("B", 80.0, 0.2, "micro", {"growth_flags": ["spike"]}),
        ("C", 70.0, 0.8, "mega", {"growth_flags": ["insufficient_history"]}),
        ("D", None, None, "mega", {}),
        ("E <script>alert(1)</script>", 60.0, 0.7, "mid", {}),
    ]
    ids = {}
    with session_scope(database_url) as session:
        for name, score, coverage, tier, features in rows:
            candidate = add_candidate(session, name)
            ids[name] = candidate.id
            session.add(FeatureSnapshot(candidate_id=candidate.id, as_of=utcnow(), schema_version="2", features=features,
                                        ranking=FeatureRanking(composite_score=score, composite_coverage=coverage, tier=tier)))
        gone = add_candidate(session, "Inactive")
        gone.active = False
        session.add(FeatureSnapshot(candidate_id=gone.id, as_of=utcnow(), schema_version="2",
                                    ranking=FeatureRanking(composite_score=99.0)))

    def names(answer: Any) -> list[str]:
        assert answer.status_code == 200, answer.text
        return [item["display_name"] for item in answer.json()["items"]]

    first = client.get("/ranking", params={"limit": 2}, headers=AUTH)
    assert names(first) == ["A", "B"] and first.json()["next_offset"] == 2
    assert [item["rank"] for item in first.json()["items"]] == [1, 2]
    assert first.json()["items"][0]["synthetic_history"] is True and first.json()["items"][1]["suspicious"] is True
    rest = client.get("/ranking", params={"limit": 2, "offset": 2}, headers=AUTH)
    assert names(rest) == ["C", "E <script>alert(1)</script>"] and rest.json()["next_offset"] == 4
    assert [item["rank"] for item in rest.json()["items"]] == [3, 4]
    last = client.get("/ranking", params={"limit": 2, "offset": 4}, headers=AUTH)
    assert names(last) == ["D"] and last.json()["next_offset"] is None and last.json()["items"][0]["score"] is None
    assert names(client.get("/ranking", params=[("tier", "mega"), ("min_coverage", "0.5")], headers=AUTH)) == ["A", "C"]
    clean = client.get("/ranking", params={"exclude_suspicious": "true", "exclude_synthetic": "true", "limit": 1}, headers=AUTH)
    assert names(clean) == ["C"] and clean.json()["items"][0]["rank"] == 1 and clean.json()["next_offset"] == 1
    assert names(client.get("/ranking", params={"exclude_synthetic": "true", "offset": 1}, headers=AUTH)) == \
        ["C", "E <script>alert(1)</script>", "D"]
    assert client.get("/ranking", params={"by": "nonsense"}, headers=AUTH).status_code == 422
    assert client.get("/ranking").status_code == 401
