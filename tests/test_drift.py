"""Drift capture into fixtures (issue 16 item 5): an unrecognized answer in a crawl is kept with
its URL, platform, parser, version and shape; `wangzi drift list` groups such answers by platform
and shape; `wangzi fixtures add` writes a fixture folder that tests/test_fixtures.py passes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crawler.cli import app
from spiders.pages.fingerprint import shape
from tests.helpers import FIXTURES, Exchange, run_wangzi, write_har
from tests import test_fixtures as fixture_walk

CARD = "https://api.bilibili.com/x/web-interface/card?mid={mid}"


def _moved(mid: str, followers: int) -> bytes:
    """A card answer whose data moved under "result" (today's parser: unrecognized)."""
    document = json.loads((FIXTURES / "bilibili" / "card_mid2" / "response.json").read_bytes())
    document["data"]["card"]["mid"], document["data"]["card"]["fans"] = mid, followers
    document["result"] = document.pop("data")
    return json.dumps(document, ensure_ascii=False).encode()


def test_the_shape_of_an_answer_is_its_key_structure_or_its_page_markers_not_its_values() -> None:
    card = (FIXTURES / "bilibili" / "card_mid2" / "response.json").read_bytes()
    other = json.loads(card)
    other["data"]["card"].update(mid="3", name="someone else", fans=None, description="x" * 500)
    assert shape(card).key == shape(json.dumps(other).encode()).key  # same fields, other values
    assert shape(card).key != shape(_moved("2", 1)).key  # data moved: another shape
    assert shape(_moved("2", 1)).key == shape(_moved("3", 99)).key
    assert shape(card).summary == "json {code,data{…},message,ttl}"
    keyed_by_id = shape(b'{"users": {"123456": {"a": 1}}}').key
    assert keyed_by_id == shape(b'{"users": {"987": {"a": 2}}}').key  # ids as keys are data
    page = b'<!DOCTYPE html><html><head><title>Alice</title><script id="RENDER_DATA">{}</script>' \
           b'<script>window.__INITIAL_STATE__={"a":1}</script></head></html>'
    found = shape(page)
    assert found.key.startswith("html:") and "#RENDER_DATA" in found.summary and "__INITIAL_STATE__" in found.summary
    assert shape(page.replace(b"Alice", b"Bob")).key == found.key
    assert shape(page.replace(b"RENDER_DATA", b"SIGI_STATE")).key != found.key
    assert shape(b"").key == "empty" and shape(b'{"a": ').key == "json-invalid"
    assert shape(b"Forbidden 403").key.startswith("text:")


def test_drift_list_then_fixtures_add_gives_a_passing_fixture_test(tmp_path: Path, sqlite_url: str) -> None:
    exchanges = [Exchange(url=CARD.format(mid=mid), body=_moved(mid, n)) for mid, n in (("2", 969999), ("3", 1234))]
    har = write_har(tmp_path / "drift.har", exchanges)
    for mid in ("2", "3"):
        assert run_wangzi("candidates", "add", f"Person {mid}", "--bilibili", mid, database_url=sqlite_url).returncode == 0
    crawled = run_wangzi("crawl", "--platform", "bilibili", "--replay", str(har), database_url=sqlite_url)
    assert crawled.returncode in (0, 1), crawled.stderr

    env = {"DATABASE_URL": sqlite_url, "COLUMNS": "250"}
    listed = CliRunner().invoke(app, ["drift", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    (group,) = json.loads(listed.output)  # two accounts, one platform, one shape
    assert group["platform"] == "bilibili" and group["parser"] == "bilibili.card" and group["captures"] == 2
    assert group["shape"] == shape(_moved("2", 1)).key and group["shape_summary"].startswith("json {code,message,result")
    text = CliRunner().invoke(app, ["drift", "list"], env=env)
    assert "bilibili.card v" in text.output and group["shape"] in text.output

    shown = CliRunner().invoke(app, ["drift", "show", str(group["newest_id"]), "--json"], env=env)
    capture = json.loads(shown.output)
    assert capture["url"].startswith("https://api.bilibili.com/x/web-interface/card?mid=")
    assert capture["parser_version"] and capture["truncated"] is False and '"result"' in capture["payload"]

    fixtures = tmp_path / "fixtures"
    added = CliRunner().invoke(app, ["fixtures", "add", str(group["newest_id"]), "--case", "card_data_moved",
                                     "--fixtures-dir", str(fixtures)], env=env)
    assert added.exit_code == 0, added.output
    assert "pins that failure" in added.output  # an unrecognized answer's expected.json pins a failure
    case = fixtures / "bilibili" / "card_data_moved"
    assert sorted(p.name for p in case.iterdir()) == ["expected.json", "meta.json", "response.json"]
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is False and meta["url"] == capture["url"] and "drift capture" in meta["provenance"]
    assert json.loads((case / "expected.json").read_text(encoding="utf-8")) == {"error": "unrecognized"}
    fixture_walk.test_fixture_parses_to_expected(case)  # the walk tests/test_fixtures.py does, on the new folder

    again = CliRunner().invoke(app, ["fixtures", "add", str(group["newest_id"]), "--case", "card_data_moved",
                                     "--fixtures-dir", str(fixtures)], env=env)
    assert again.exit_code == 2 and "exists" in again.output
    missing = CliRunner().invoke(app, ["drift", "show", "999"], env=env)
    assert missing.exit_code == 2 and "no drift capture 999" in missing.output
