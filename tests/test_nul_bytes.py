"""NUL bytes and rows the database refuses, on SQLite and PostgreSQL (which refuses NUL in
text): NUL is refused at the edges (API bodies and paths, CSV fields) with a 422/404 or a row
error, never a 500 or a traceback, and a row the database refuses costs only that row of an
import (its batch is registered again row by row)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crawler.cli.candidates import import_rows
from crawler.service.app import create_app
from tests.helpers import refuse_inserts_named, run_wangzi

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    # raise_server_exceptions=False: a 500 is what a client would see, and what is asserted against
    with TestClient(create_app(database_url, token=TOKEN, workers=1), raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_lookup_id_with_a_nul_byte_is_404(client: TestClient) -> None:
    answer = client.get("/lookups/ab%00cd", headers=AUTH)
    assert answer.status_code == 404, answer.text
    assert client.get("/lookups/%00", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Mia\u0000Chen", "handles": {"bilibili": "2"}},
        {"name": "Mia", "handles": {"bilibili": "2\u0000"}},
        {"name": "Mia", "handles": {"bili\u0000bili": "2"}},
        {"candidate_id": 1, "platforms": ["bilibili\u0000"]},
    ],
)
def test_a_lookup_request_with_a_nul_byte_is_422(client: TestClient, body: dict[str, Any]) -> None:
    answer = client.post("/lookups", json=body, headers=AUTH)
    assert answer.status_code == 422, answer.text
    assert "U+0000" in answer.text


def test_a_nul_in_a_csv_field_costs_only_its_row(database_url: str) -> None:
    report = import_rows("name,notes,aliases\nFirst,ok,\nNul Notes,a\x00b,\nNul Alias,,x\x00y\nLast,fine,\n", database_url)
    errors = dict(report.errors)
    assert "notes" in errors[3] and "U+0000" in errors[3]
    assert "alias" in errors[4] and "U+0000" in errors[4]
    assert [number for number, _ in report.added] == [2, 5]


def test_a_row_the_database_refuses_is_reported_and_the_rest_imported(database_url: str) -> None:
    refuse_inserts_named(database_url, "Refused")
    report = import_rows("name,bilibili\nFirst,2\nRefused,3\nLast,4\n", database_url)
    errors = dict(report.errors)
    assert set(errors) == {3}
    assert "database" in errors[3] and "refused by the test trigger" in errors[3]
    assert [number for number, _ in report.added] == [2, 4]


def test_the_cli_reports_a_refused_row_without_a_traceback(database_url: str, tmp_path: Any) -> None:
    refuse_inserts_named(database_url, "Refused")
    path = tmp_path / "c.csv"
    path.write_text("name\nFirst\nRefused\nLast\n", encoding="utf-8")
    done = run_wangzi("candidates", "import", str(path), database_url=database_url)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "row 3:" in done.stderr and "row 4: added" in done.stdout
