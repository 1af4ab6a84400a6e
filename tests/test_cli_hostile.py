"""Names from users and platforms on the terminal: every command prints them as text, never
as rich markup. A ``[/]`` in a candidate's name, an alias or a creator's own nickname must not
crash a command (``rich.errors.MarkupError``), and ``[link=...]`` must not become a hidden
terminal hyperlink: the brackets are printed as they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawler.cli import app
from records import AccountRef, Profile, ProfileItem, Provenance
from storage.candidates import add_candidate
from storage.db import session_scope
from storage.models import FeatureRanking, FeatureSnapshot, utcnow
from storage.writer import write_items
from tests.helpers import fixture_exchange, run_wangzi, write_har

runner = CliRunner()

#: Closes a tag nobody opened, hides a link behind "click me", and opens a style never closed.
HOSTILE = "Eve[/] [link=https://evil.example/]click me[/link] [bold]x"
HOSTILE_ALIAS = "[/link][red]alias"


def invoke(*args: str, database_url: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env={"DATABASE_URL": database_url, "COLUMNS": "300"}, catch_exceptions=False)


def test_candidates_add_and_list_print_a_hostile_name_as_it_is(database_url: str) -> None:
    added = invoke("candidates", "add", HOSTILE, "--alias", HOSTILE_ALIAS, database_url=database_url)
    assert added.exit_code == 0, added.output
    assert HOSTILE in added.output
    listed = invoke("candidates", "list", database_url=database_url)
    assert listed.exit_code == 0, listed.output
    assert HOSTILE in listed.output


def test_import_prints_hostile_names_and_errors_as_they_are(database_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "hostile.csv"
    csv.write_text(f"name,aliases,bilibili\n\"{HOSTILE}\",{HOSTILE_ALIAS},\nBad Handle,,[/]nope\n", encoding="utf-8")
    result = invoke("candidates", "import", str(csv), database_url=database_url)
    assert result.exit_code == 1, result.output  # row 3 is refused
    assert f"row 2: added 1 {HOSTILE}" in result.output
    assert "'[/]nope'" in result.output
    listed = json.loads(invoke("candidates", "list", "--json", database_url=database_url).output)
    assert [c["display_name"] for c in listed] == [HOSTILE]


def test_errors_that_quote_the_input_print_it_as_it_is(database_url: str) -> None:
    result = invoke("lookup", "[/]nobody[link=https://evil.example/]", database_url=database_url)
    assert result.exit_code == 2
    assert "'[/]nobody[link=https://evil.example/]'" in result.output
    crawled = invoke("crawl", "--candidate", "[/]x", database_url=database_url)
    assert crawled.exit_code == 2 and "'[/]x'" in crawled.output


def test_candidates_suggest_prints_hostile_names_and_links_as_they_are(database_url: str) -> None:
    link = "https://x.com/evil_twin?[/]=[link=https://evil.example/]"
    with session_scope(database_url) as session:
        candidate = add_candidate(session, HOSTILE, accounts=[AccountRef("bilibili", platform_user_id="2")])
        lonely = add_candidate(session, f"{HOSTILE} alone")
        profile = Profile(platform="bilibili", platform_user_id="2", display_name=HOSTILE, followers=1, links=(link,))
        write_items(session, [ProfileItem(account=AccountRef("bilibili", platform_user_id="2"), profile=profile,
                                          provenance=Provenance.of("https://api.bilibili.com/x/web-interface/card?mid=2",
                                                                   "bilibili.card", "1", b"{}", 200))], None)
        ids = candidate.id, lonely.id
    shown = invoke("candidates", "suggest", str(ids[0]), database_url=database_url)
    assert shown.exit_code == 0, shown.output
    assert HOSTILE in shown.output and "x:evil_twin" in shown.output
    assert "[/]=[link=https://evil.example/]" in shown.output
    none = invoke("candidates", "suggest", str(ids[1]), database_url=database_url)
    assert none.exit_code == 0, none.output
    assert f"{HOSTILE} alone" in none.output


def test_lookup_prints_a_platform_nickname_and_failure_detail_as_they_are(sqlite_url: str, tmp_path: Path) -> None:
    # The card is asked first (one request per account when it answers): here it answers the
    # real -412 "request blocked" payload with a hostile detail, so its fallbacks run and the
    # signed acc/info names the account with a hostile nickname.
    blocked = fixture_exchange("bilibili", "error_-412_request_blocked_python_ua",
                               url="https://api.bilibili.com/x/web-interface/card?mid=2", status=412)
    blocked.body = blocked.body.replace("请求被拦截".encode(), "[/][link=https://evil.example/]blocked[/link]".encode())
    relation = fixture_exchange("bilibili", "relation_stat_vmid332704117", url="https://api.bilibili.com/x/relation/stat?vmid=2")
    relation.body = relation.body.replace(b"332704117", b"2")
    info = fixture_exchange("bilibili", "acc_info_wbi_mid2_2024_no_follower_field", url="https://api.bilibili.com/x/space/wbi/acc/info?mid=2")
    info.body = info.body.replace("碧诗".encode(), HOSTILE.encode())
    har = write_har(tmp_path / "hostile.har", [fixture_exchange("bilibili", "nav_not_logged_in_code_-101"), blocked, relation, info])
    assert run_wangzi("candidates", "add", "Someone", "--bilibili", "2", database_url=sqlite_url).returncode == 0
    looked = run_wangzi("lookup", "Someone", "-p", "bilibili", "--replay", str(har), database_url=sqlite_url,
                        env={"COLUMNS": "400"})
    assert looked.returncode == 0, looked.stderr
    assert "Traceback" not in looked.stderr
    assert HOSTILE in looked.stdout
    assert "[/][link=https://evil.example/]blocked[/link]" in looked.stdout


def test_rank_prints_a_hostile_name_as_it_is(database_url: str) -> None:
    with session_scope(database_url) as session:
        candidate_id = add_candidate(session, HOSTILE).id
        session.add(FeatureSnapshot(candidate_id=candidate_id, as_of=utcnow(), schema_version="1",
                                    ranking=FeatureRanking(composite_index=50.0, leadership_index=50.0,
                                                           sales_driving_index=50.0, influence_index=50.0,
                                                           composite_coverage=1.0)))
    ranked = invoke("rank", database_url=database_url)
    assert ranked.exit_code == 0, ranked.output
    assert HOSTILE in ranked.output
