"""The raw archive and `wangzi reparse` (issue 16 item 4): a replayed crawl keeps every answer in
a WARC file, indexed by the payload hash its snapshots carry, with the real URL and secrets
redacted; reparse turns a failure into a snapshot after a parser fix and leaves old rows alone."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from crawler.cli import app
from crawler.warc import iter_records, prune
from storage.db import session_scope
from storage.models import ArchiveCapture, FetchFailure, ProfileSnapshot
from tests.helpers import FIXTURES, Exchange, register_candidates, run_wangzi, write_har

CARD = "https://api.bilibili.com/x/web-interface/card?mid={mid}"
SECRET = "s3cr3t-archive-token-value"


def _card(mid: str, followers: int) -> bytes:
    document = json.loads((FIXTURES / "bilibili" / "card_mid2" / "response.json").read_bytes())
    document["data"]["card"]["mid"] = mid
    document["data"]["card"]["fans"] = followers
    document["data"]["follower"] = followers
    return json.dumps(document, ensure_ascii=False).encode()


def _moved(mid: str, followers: int) -> bytes:
    """A card answer whose data moved under "result": today's parser cannot read it."""
    document = json.loads(_card(mid, followers))
    document["result"] = document.pop("data")
    return json.dumps(document, ensure_ascii=False).encode()


def _crawl(tmp_path: Path, database_url: str, exchanges: list[Exchange], mids: list[str], env: dict[str, str]) -> None:
    har = write_har(tmp_path / "crawl.har", exchanges)
    register_candidates(database_url, "bilibili", [(f"Person {n}", mid) for n, mid in enumerate(mids)])
    crawled = run_wangzi("crawl", "--platform", "bilibili", "--replay", str(har), database_url=database_url, env=env)
    assert crawled.returncode in (0, 1), crawled.stderr


def _rows(database_url: str, model: type) -> list[dict[str, Any]]:
    with session_scope(database_url) as session:
        return [row.model_dump() for row in session.exec(select(model).order_by(model.id)).all()]


def test_a_replayed_crawl_keeps_every_answer_in_a_warc_file_indexed_by_its_payload_hash(
    tmp_path: Path, sqlite_url: str
) -> None:
    archive = tmp_path / "archive"
    body = _card("2", 969999).replace("碧诗".encode(), f"碧诗 {SECRET}".encode())
    nav = (FIXTURES / "bilibili" / "nav_not_logged_in_code_-101" / "response.json").read_bytes()
    exchanges = [Exchange(url=CARD.format(mid="2"), body=body, headers={"Set-Cookie": f"SESSDATA={SECRET}"}),
                 Exchange(url="https://api.bilibili.com/x/web-interface/nav", body=nav)]
    _crawl(tmp_path, sqlite_url, exchanges, ["2"],
           {"WANGZI_ARCHIVE_DIR": str(archive), "WANGZI_TEST_ARCHIVE_TOKEN": SECRET})

    (snapshot,) = _rows(sqlite_url, ProfileSnapshot)
    captures = _rows(sqlite_url, ArchiveCapture)
    card = [c for c in captures if c["source"] == "bilibili.card"]
    assert len(card) == 1, captures
    assert card[0]["payload_sha256"] == snapshot["payload_sha256"] == hashlib.sha256(body).hexdigest()
    assert card[0]["url"] == CARD.format(mid="2")  # the real URL, not the loopback one
    assert card[0]["crawl_run_id"] == snapshot["crawl_run_id"] and card[0]["account_id"] == snapshot["account_id"]
    # Bilibili's nav (asked once per crawl) is kept too, outside any account's chain.
    assert any(c["source"] == "bilibili.nav" and c["account_id"] is None for c in captures)

    (warc,) = archive.glob("run-*/bilibili-*.warc.gz")
    assert warc.parent.name == f"run-{snapshot['crawl_run_id']}"
    records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read()) for r in iter_records(warc)]
    assert records[0][0] == "warcinfo"
    assert [kind for kind, _, _ in records[1:]] == ["response", "request"] * (len(records[1:]) // 2)
    assert all(url and "127.0.0.1" not in url for _, url, _ in records[1:])
    everything = gzip.decompress(warc.read_bytes())
    assert SECRET.encode() not in everything and b"REDACTED" in everything
    assert card[0]["warc_file"] == warc.relative_to(archive).as_posix()


def test_reparse_turns_a_failure_into_a_snapshot_after_a_parser_fix_and_leaves_old_rows_untouched(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "archive"
    exchanges = [
        Exchange(url=CARD.format(mid="2"), body=_card("2", 969999)),  # read today
        Exchange(url=CARD.format(mid="3"), body=_moved("3", 1234)),  # not recognised today
    ]
    _crawl(tmp_path, sqlite_url, exchanges, ["2", "3"], {"WANGZI_ARCHIVE_DIR": str(archive)})
    snapshots_before, failures_before = _rows(sqlite_url, ProfileSnapshot), _rows(sqlite_url, FetchFailure)
    assert [s["followers"] for s in snapshots_before] == [969999]
    assert any(f["kind"] == "unrecognized" and "mid=3" in f["url"] for f in failures_before)

    # Today's parser, unchanged: nothing new (the same answer, the same version).
    env = {"DATABASE_URL": sqlite_url, "COLUMNS": "200"}
    unchanged = CliRunner().invoke(app, ["reparse", "--archive-dir", str(archive), "--json"], env=env)
    assert unchanged.exit_code == 0, unchanged.output
    assert json.loads(unchanged.output)["bilibili"]["snapshots"] == 0
    assert _rows(sqlite_url, ProfileSnapshot) == snapshots_before

    # The fix: the parser reads the moved answer, and its version is bumped.
    import spiders.pages.bilibili as page

    original = page.parse

    def fixed(payload: bytes, url: str | None = None, status: int | None = 200) -> Any:
        document = json.loads(payload)
        if "result" in document:
            document["data"] = document.pop("result")
        return original(json.dumps(document).encode(), url, status)

    monkeypatch.setattr(page, "parse", fixed)
    monkeypatch.setattr(page, "PARSER_VERSION", "1.1-test")
    result = CliRunner().invoke(app, ["reparse", "-p", "bilibili", "--archive-dir", str(archive), "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["bilibili"]
    assert report["parser_version"] == "1.1-test"
    assert report["snapshots"] == 2 and report["from_failures"] == 1, report

    after = _rows(sqlite_url, ProfileSnapshot)
    assert after[: len(snapshots_before)] == snapshots_before  # old rows untouched
    new = after[len(snapshots_before):]
    assert sorted(s["followers"] for s in new) == [1234, 969999]
    assert {s["parser_version"] for s in new} == {"1.1-test"}
    assert {s["crawl_run_id"] for s in new} == {snapshots_before[0]["crawl_run_id"]}  # the run that captured them
    captures = {c["id"]: c for c in _rows(sqlite_url, ArchiveCapture)}
    for snapshot in new:
        capture = captures[snapshot["reparse_of"]]
        assert capture["payload_sha256"] == snapshot["payload_sha256"] and capture["url"] == snapshot["source_url"]
    assert _rows(sqlite_url, FetchFailure) == failures_before

    again = CliRunner().invoke(app, ["reparse", "--archive-dir", str(archive), "--json"], env=env)
    assert again.exit_code == 0 and json.loads(again.output)["bilibili"]["snapshots"] == 0
    assert _rows(sqlite_url, ProfileSnapshot) == after


def test_retention_deletes_run_folders_older_than_the_setting_and_marks_their_captures_expired(
    tmp_path: Path, sqlite_url: str
) -> None:
    archive = tmp_path / "archive"
    _crawl(tmp_path, sqlite_url, [Exchange(url=CARD.format(mid="2"), body=_card("2", 5))], ["2"],
           {"WANGZI_ARCHIVE_DIR": str(archive)})
    (folder,) = archive.glob("run-*")
    assert prune(archive, 30) == []  # young: kept
    later = folder.stat().st_mtime + 31 * 86400
    deleted = prune(archive, 30, now=later)
    assert deleted and not folder.exists()
    assert prune(archive, 0, now=later * 2) == []  # 0 keeps everything

    from storage.archive_index import expire_files

    with session_scope(sqlite_url) as session:
        assert expire_files(session, deleted) == len(_rows(sqlite_url, ArchiveCapture))
    result = CliRunner().invoke(app, ["reparse", "--archive-dir", str(archive), "--json"],
                                env={"DATABASE_URL": sqlite_url})
    assert result.exit_code == 0 and json.loads(result.output) == {}


def test_the_archive_can_be_switched_off(tmp_path: Path, sqlite_url: str) -> None:
    archive = tmp_path / "archive"
    _crawl(tmp_path, sqlite_url, [Exchange(url=CARD.format(mid="2"), body=_card("2", 5))], ["2"],
           {"WANGZI_ARCHIVE_DIR": str(archive), "WANGZI_ARCHIVE_ENABLED": "false"})
    assert not archive.exists() and _rows(sqlite_url, ArchiveCapture) == []
    assert len(_rows(sqlite_url, ProfileSnapshot)) == 1
