"""Tracebacks where a message belongs: ids too large for any table, output paths that cannot
be written (a directory, a full disk), a CSV field over the csv module's limit, a HAR recording
nested too deeply, a database that does not answer /health - each becomes one line with the
documented exit code (README: 0/1/2) or an HTTP status (404/422/503), never a traceback or the
driver's own words."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from crawler.cli.candidates import import_rows
from crawler.service.app import create_app
from storage.candidates import add_candidate
from storage.db import session_scope
from tests.helpers import run_wangzi

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HUGE = "99999999999999999999999"


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(database_url, token=TOKEN, workers=1), raise_server_exceptions=False) as test_client:
        yield test_client


def _one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


# --------------------------------------------------------------------------- HTTP


@pytest.mark.parametrize("path", [f"/candidates/{HUGE}", f"/candidates/{HUGE}/features", f"/candidates/-{HUGE}",
                                  f"/candidates/{2**63}", f"/candidates/{2**63}/features",
                                  # PostgreSQL's INTEGER ids are 32-bit (found by test_fuzz_hostile)
                                  f"/candidates/{2**31}", f"/candidates/{2**31}/features", f"/candidates?offset={2**63}"])
def test_an_id_no_table_can_hold_is_not_a_500(client: TestClient, path: str) -> None:
    answer = client.get(path, headers=AUTH)
    assert answer.status_code in (404, 422), answer.text


@pytest.mark.parametrize("candidate_id", [2**63, int(HUGE), -(2**63), 2**31])
def test_a_lookup_of_an_id_no_table_can_hold_is_422(client: TestClient, candidate_id: int) -> None:
    answer = client.post("/lookups", json={"candidate_id": candidate_id}, headers=AUTH)
    assert answer.status_code == 422, answer.text


def test_health_says_the_database_is_unreachable_without_the_drivers_words(client: TestClient) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    down = "postgresql+psycopg://wangzi:s3cret@127.0.0.1:1/wangzi"  # nothing listens on port 1
    client.app.state.settings = dataclasses.replace(settings, database_url=down)  # type: ignore[attr-defined]
    answer = client.get("/health")
    assert answer.status_code == 503, answer.text
    assert answer.json() == {"status": "error", "database": "unreachable"}
    for leak in ("127.0.0.1", "port", "s3cret", "psycopg", "wangzi"):
        assert leak not in answer.text


# --------------------------------------------------------------------------- output paths


def test_an_output_path_that_is_a_directory_is_one_line_and_exit_2(database_url: str, tmp_path: Path) -> None:
    with session_scope(database_url) as session:
        add_candidate(session, "Mia")
    for args in (["features", "export", "--format", "csv", "--out", str(tmp_path)],
                 ["report", "Mia", "--out", str(tmp_path)],
                 ["record", str(tmp_path), "--", "lookup", "bilibili:2"]):
        done = run_wangzi(*args, database_url=database_url)
        message = _one_line_error(done.stderr)
        assert done.returncode == 2, (args, done.stderr)
        assert str(tmp_path) in message and "directory" in message.lower()
    assert tmp_path.is_dir()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_disk_is_one_line_and_exit_1(database_url: str) -> None:
    done = run_wangzi("features", "export", "--format", "csv", "--out", "/dev/full", database_url=database_url)
    message = _one_line_error(done.stderr)
    assert done.returncode == 1
    assert "No space left on device" in message


# --------------------------------------------------------------------------- input files


def test_a_csv_field_over_the_limit_costs_its_row(database_url: str) -> None:
    text = "name,notes\nFirst,ok\nHuge," + "x" * 200_000 + "\nLast,ok\n"
    report = import_rows(text, database_url)
    errors = dict(report.errors)
    assert set(errors) == {3}
    assert "131072" in errors[3] or "131,072" in errors[3]
    assert [number for number, _ in report.added] == [2, 4]


def test_the_cli_reports_a_csv_field_over_the_limit_without_a_traceback(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("name,notes\nFirst,ok\nHuge," + "x" * 200_000 + "\nLast,ok\n", encoding="utf-8")
    done = run_wangzi("candidates", "import", str(path), database_url=database_url)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "row 3:" in done.stderr and "row 4: added" in done.stdout


def _deep_har(path: Path, depth: int = 50_000) -> Path:
    path.write_text('{"log": {"entries": [' + "[" * depth + "]" * depth + "]}}", encoding="utf-8")
    return path


def test_a_har_nested_too_deeply_is_a_recording_error(tmp_path: Path) -> None:
    from crawler.replay import Recording, RecordingError

    with pytest.raises(RecordingError, match="nested"):
        Recording.load(_deep_har(tmp_path / "deep.har"))


def test_crawling_from_a_har_nested_too_deeply_is_one_line_and_exit_2(database_url: str, tmp_path: Path) -> None:
    har = _deep_har(tmp_path / "deep.har")
    assert run_wangzi("candidates", "add", "Mia", "--bilibili", "2", database_url=database_url).returncode == 0
    for args in (["crawl", "--replay", str(har)], ["lookup", "bilibili:2", "--replay", str(har)]):
        done = run_wangzi(*args, database_url=database_url)
        message = _one_line_error(done.stderr)
        assert done.returncode == 2, (args, done.stderr)
        assert "nested" in message and str(har) in message


def test_candidates_json_output_is_still_json(database_url: str) -> None:
    # The exit-code safety net must not swallow ordinary output.
    with session_scope(database_url) as session:
        add_candidate(session, "Mia")
    done = run_wangzi("candidates", "list", "--json", database_url=database_url)
    assert done.returncode == 0 and json.loads(done.stdout)[0]["display_name"] == "Mia"
