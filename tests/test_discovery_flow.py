"""Discovery end to end, replayed: seeds -> discover -> leads list -> promote (a lookup stores
the promoted lead's snapshot) and reject (a rejected lead does not come back on the next
discover); registered accounts are never leads; a seed creator's stored profile is expanded;
a lead whose name a candidate may not have is refused with a clear message; platform names
are printed as text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import select
from typer.testing import CliRunner

from crawler.cli import app
from crawler.pipelines.leads import write_lead_items
from records import AccountRef, Post, PostsItem, Profile, ProfileItem, Provenance
from records.leads import Hit, LeadItem
from spiders.pages.weibo import INFO_URL, POSTS_URL, USER_INDEX_URL
from spiders.pages.weibo_search import search_url
from storage.candidates import add_candidate
from storage.db import session_scope
from storage.leads import get_leads, record_lead
from storage.models import Account, Lead, LeadSighting
from storage.writer import write_items
from tests.helpers import Exchange, fixture_exchange, json_output, run_wangzi, snapshots, write_har

JSON = {"Content-Type": "application/json; charset=utf-8"}
runner = CliRunner()
UID = "1669879400"


def invoke(*args: str, database_url: str) -> Any:
    return runner.invoke(app, list(args), env={"DATABASE_URL": database_url, "COLUMNS": "300"}, catch_exceptions=False)


def _search_recording() -> list[Exchange]:
    return [
        fixture_exchange("weibo_search", "user_search_synthetic", headers=JSON, url=search_url("users", "迪丽热巴", 1)),
        fixture_exchange("weibo_search", "post_search_synthetic", headers=JSON, url=search_url("posts", "迪丽热巴", 1)),
    ]


def _discover(tmp_path: Path, database_url: str) -> dict[str, Any]:
    har = write_har(tmp_path / "search.har", _search_recording())
    process = run_wangzi("discover", "--seed", "迪丽热巴", "-p", "weibo", "--pages", "1", "--hops", "0",
                         "--replay", str(har), "--json", database_url=database_url)
    assert process.returncode == 0, process.stderr
    return json_output(process)


def _listed(database_url: str, *args: str) -> list[dict[str, Any]]:
    result = invoke("leads", "list", "--json", *args, database_url=database_url)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_seeds_to_leads_to_a_promoted_candidate_with_a_snapshot_and_a_rejected_lead_never_back(
        tmp_path: Path, sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:  # an account a candidate owns already is no lead
        add_candidate(session, "Fan station", accounts=[AccountRef(platform="weibo", platform_user_id="7000000002")])

    first = _discover(tmp_path, sqlite_url)
    assert first["new_leads"] == 4
    leads = {lead["platform_user_id"]: lead for lead in _listed(sqlite_url)}
    assert set(leads) == {UID, "7000000001", "7000000003", "7000000004"}
    dilraba = leads[UID]
    assert (dilraba["followers"], dilraba["found"]["seed"], dilraba["found"]["source"]) == (63357736, "迪丽热巴", "weibo_search.users")
    assert [s["source"] for s in dilraba["seen_by"]] == ["weibo_search.users"]
    assert [lead["platform_user_id"] for lead in _listed(sqlite_url, "--min-followers", "100000")] == \
        [lead["platform_user_id"] for lead in _listed(sqlite_url) if (lead["followers"] or 0) >= 100000]
    assert [lead["display_name"] for lead in _listed(sqlite_url, "--country", "JP")] == ["Mika在东京"]

    rejected = invoke("leads", "reject", str(leads["7000000004"]["id"]), "--reason", "a shop, not a creator",
                      "--by", "talent-team", database_url=sqlite_url)
    assert rejected.exit_code == 0, rejected.output

    lookup = write_har(tmp_path / "lookup.har", [
        fixture_exchange("weibo", "user_index_1669879400", url=USER_INDEX_URL.format(uid=UID), headers=JSON),
        fixture_exchange("weibo", "info_container_ip_us_synthetic", url=INFO_URL.format(uid=UID), headers=JSON),
        fixture_exchange("weibo", "posts_1076031669879400", url=POSTS_URL.format(uid=UID, page=1), headers=JSON),
        fixture_exchange("weibo", "posts_absolute_time_synthetic", url=POSTS_URL.format(uid=UID, page=2), headers=JSON),
    ])
    promoted = run_wangzi("leads", "promote", str(dilraba["id"]), "--by", "talent-team", "--replay", str(lookup),
                          database_url=sqlite_url)
    assert promoted.returncode == 0, promoted.stderr
    (account, snapshot), = snapshots(sqlite_url)
    assert (account.platform, account.platform_user_id, snapshot.followers) == ("weibo", UID, 63357736)
    with session_scope(sqlite_url) as session:
        lead = get_leads(session, [dilraba["id"]])[dilraba["id"]]
        assert (lead.status, lead.status_by, lead.candidate_id) == ("promoted", "talent-team", account.candidate_id)
        assert session.get(Account, account.id).candidate_id is not None

    second = _discover(tmp_path, sqlite_url)
    assert second["new_leads"] == 0
    assert sorted(lead["platform_user_id"] for lead in _listed(sqlite_url)) == ["7000000001", "7000000003"]
    (shop,) = _listed(sqlite_url, "--status", "rejected")
    assert (shop["platform_user_id"], shop["reason"], shop["status_by"]) == ("7000000004", "a shop, not a creator", "talent-team")
    assert shop["sightings"] == 2  # seen again, never proposed again
    with session_scope(sqlite_url) as session:
        assert session.exec(select(Lead).where(Lead.platform_user_id == "7000000002")).first() is None


def test_a_seed_creators_profile_links_and_mentions_become_leads_without_a_request(tmp_path: Path, sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:
        candidate = add_candidate(session, "Mia Chen", accounts=[AccountRef(platform="youtube", platform_user_id="UC" + "m" * 22,
                                                                          handle="miachen")])
        account = session.exec(select(Account)).one()
        ref = AccountRef(platform="youtube", platform_user_id=account.platform_user_id, handle="miachen", account_id=account.id)
        provenance = Provenance.of("https://www.youtube.com/channel/UC" + "m" * 22, "youtube.channel_page", "2", b"x")
        write_items(session, [
            ProfileItem(account=ref, profile=Profile(platform="youtube", platform_user_id=account.platform_user_id,
                                                     display_name="Mia Chen", bio="Tokyo hauls. Also on instagram.com/miachen.tokyo",
                                                     links=("https://x.com/miachen_tokyo", "https://www.youtube.com/@miachen")),
                        provenance=provenance),
            PostsItem(account=ref, posts=(Post(platform="youtube", post_id="v1", url="https://www.youtube.com/watch?v=v1",
                                               title="Duty free haul with @sakura.beauty and @miachen"),), provenance=provenance),
        ], None)
        candidate_id = candidate.id
    process = run_wangzi("discover", "--seed", f"creator:{candidate_id}", "--json", database_url=sqlite_url)
    assert process.returncode == 0, process.stderr
    summary = json_output(process)
    assert summary["requests"] == {}  # nothing to search: the leads came from what is stored
    leads = {(lead["platform"], lead["handle"]): lead for lead in _listed(sqlite_url)}
    assert set(leads) == {("instagram", "miachen.tokyo"), ("x", "miachen_tokyo"), ("youtube", "sakura.beauty")}
    mention = leads[("youtube", "sakura.beauty")]["found"]
    assert (mention["source"], mention["hop"], mention["seed_kind"], mention["seed"]) == ("graph.mention", 1, "creator", "Mia Chen")
    assert mention["post_url"] == "https://www.youtube.com/watch?v=v1"
    assert leads[("x", "miachen_tokyo")]["found"]["via_account"] == f"youtube:UC{'m' * 22}"


def _lead(database_url: str, name: str, uid: str) -> int:
    with session_scope(database_url) as session:
        _, lead = record_lead(session, LeadItem(hit=Hit(platform="weibo", platform_user_id=uid, display_name=name),
                                                seed_kind="keyword", seed="海淘", source="weibo_search.users", query="海淘"))
        return lead.id  # type: ignore[union-attr,return-value]


def test_a_lead_whose_name_cannot_be_a_candidates_is_refused_with_a_clear_message(sqlite_url: str) -> None:
    formula = _lead(sqlite_url, "=HYPERLINK(\"http://evil.example\")", "7100000001")
    refused = run_wangzi("leads", "promote", str(formula), "--no-lookup", database_url=sqlite_url)
    assert refused.returncode == 1
    assert f"lead {formula}: its name" in refused.stderr and "--name" in refused.stderr and "Traceback" not in refused.stderr
    renamed = run_wangzi("leads", "promote", str(formula), "--no-lookup", "--name", "Evelyn", database_url=sqlite_url)
    assert renamed.returncode == 0, renamed.stderr
    assert "candidate" in renamed.stdout and "Evelyn" in renamed.stdout


def test_hostile_names_are_printed_as_text_and_reasons_with_control_characters_refused(sqlite_url: str) -> None:
    hostile = "Eve[/] [link=https://evil.example/]click me[/link] [bold]x"
    lead_id = _lead(sqlite_url, hostile, "7100000002")
    listed = invoke("leads", "list", database_url=sqlite_url)
    assert listed.exit_code == 0 and hostile in listed.output.replace("\n", "")
    refused = invoke("leads", "reject", str(lead_id), "--reason", "spam\x1b[2J", database_url=sqlite_url)
    assert refused.exit_code == 2 and "control character" in refused.output


def test_leads_are_one_per_account_across_sources_and_ids_or_handles(database_url: str) -> None:
    """Storage, on SQLite and PostgreSQL: the same account found by two sources (once by id,
    once by handle too) is one lead with two sightings and the union of what they showed."""
    with session_scope(database_url) as session:
        first = LeadItem(hit=Hit(platform="youtube", platform_user_id="UC" + "a" * 22, display_name="A", followers=100,
                                 text="SK-II haul"), seed_kind="keyword", seed="haul", source="youtube_search.users", query="haul")
        second = LeadItem(hit=Hit(platform="youtube", platform_user_id="UC" + "a" * 22, handle="AyaHaul", followers=120,
                                  text="Tokyo unboxing"), seed_kind="brand", seed="SK-II", source="youtube_search.posts", query="SK-II")
        counts = write_lead_items(session, [first, second], None)
        assert counts == {"new": 1, "seen": 1}
        lead = session.exec(select(Lead)).one()
        assert (lead.handle, lead.followers, lead.sightings, lead.brands) == ("AyaHaul", 120, 2, ["SK-II"])
        assert lead.texts == "Tokyo unboxing\nSK-II haul" and lead.score > 0
        assert [s.source for s in session.exec(select(LeadSighting).order_by(LeadSighting.id))] == [
            "youtube_search.users", "youtube_search.posts"]
        by_handle = LeadItem(hit=Hit(platform="youtube", handle="ayahaul"), seed_kind="creator", seed="Mia",
                             source="graph.mention", hop=1)
        assert write_lead_items(session, [by_handle], None) == {"seen": 1}
