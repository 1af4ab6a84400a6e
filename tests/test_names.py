"""One validation for candidates' names and aliases, used by ``candidates add``, ``candidates
import``, ``lookup`` and the HTTP API alike: spreadsheet formula starts (= + - @), control and
invisible formatting characters (NUL, TAB, line separators, bidi overrides) and over-long names
are refused, and the error says what is wrong and where (which character, which position)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crawler.cli import app
from crawler.cli.candidates import import_rows
from crawler.service.app import create_app

runner = CliRunner()
TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

#: (name, what the error must say)
REFUSED = [
    ("=cmd|' /C calc'!A0", "formula"),
    ("+1+1", "formula"),
    ("-2+3", "formula"),
    ("-Mia", "formula"),
    ("@SUM(A1:A9)", "formula"),
    ("\x00Mia", "U+0000"),
    ("Mia\x00Chen", "position 4"),
    ("Mia\u202eneHC", "U+202E"),
    ("Mia\u202eneHC", "RIGHT-TO-LEFT OVERRIDE"),
    ("\tMia", "U+0009"),
    ("Mia\u2028Chen", "LINE SEPARATOR"),
    ("Mia\u2028Chen", "position 4"),
    ("Mia\nChen", "LINE FEED"),
    ("Mia\u200bChen", "U+200B"),
    ("x" * 201, "201 characters"),
    ("x" * 201, "at most 200"),
    ("   ", "empty"),
]

ACCEPTED = [
    ("老番茄", "老番茄"),
    ("  Mia Chen ", "Mia Chen"),
    ("Ｌｉ　Ｊｉａｑｉ", "Li Jiaqi"),  # full-width, as typed with a Chinese input method
    ("Ünïcödé Ørsted", "Ünïcödé Ørsted"),
    ("Zoë-Mia O'Neil", "Zoë-Mia O'Neil"),
    ("👩\u200d🔬 Mia", "👩\u200d🔬 Mia"),  # an emoji sequence keeps its zero-width joiner
    ("x" * 200, "x" * 200),
]


@pytest.mark.parametrize(("name", "says"), REFUSED)
def test_a_bad_name_is_refused_saying_what_and_where(name: str, says: str) -> None:
    from storage.names import InvalidName, clean_name

    with pytest.raises(InvalidName, match="name") as refused:
        clean_name(name)
    assert says in str(refused.value)


@pytest.mark.parametrize(("name", "stored"), ACCEPTED)
def test_a_good_name_is_kept_normalised(name: str, stored: str) -> None:
    from storage.names import clean_name

    assert clean_name(name) == stored


def test_an_alias_error_names_the_alias() -> None:
    from storage.names import InvalidName, clean_name

    with pytest.raises(InvalidName, match="alias"):
        clean_name("=1", "alias")


@pytest.mark.parametrize(("name", "says"), [("-Mia", "formula"), ("Mia\u202eneHC", "U+202E"), ("Mia\u2028Chen", "U+2028")])
def test_candidates_add_refuses_bad_names_and_aliases(database_url: str, name: str, says: str) -> None:
    result = runner.invoke(app, ["candidates", "add", "--", name], env={"DATABASE_URL": database_url}, catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert says in result.output
    aliased = runner.invoke(app, ["candidates", "add", "Mia", "--alias", name], env={"DATABASE_URL": database_url},
                            catch_exceptions=False)
    assert aliased.exit_code == 2, aliased.output
    assert "alias" in aliased.output and says in aliased.output
    listed = runner.invoke(app, ["candidates", "list", "--json"], env={"DATABASE_URL": database_url})
    assert listed.output.strip() == "[]"


def test_csv_import_refuses_bad_names_and_aliases_by_row_saying_which(database_url: str) -> None:
    report = import_rows("name,aliases\n-Mia,\nMia,ok|\u202eevil\nTab\tName,\nGood,fine\n", database_url)
    errors = dict(report.errors)
    assert "formula" in errors[2]
    assert "alias" in errors[3] and "U+202E" in errors[3]
    assert "U+0009" in errors[4] and "position 4" in errors[4]
    assert [number for number, _ in report.added] == [5]


def test_lookup_refuses_a_query_with_control_characters_saying_where(database_url: str) -> None:
    result = runner.invoke(app, ["lookup", "Mia\u202eneHC"], env={"DATABASE_URL": database_url}, catch_exceptions=False)
    assert result.exit_code == 2
    assert "U+202E" in result.output and "position 4" in result.output


@pytest.mark.parametrize("name", [name for name, _ in REFUSED[:13]])
def test_the_api_refuses_the_same_names_with_422(database_url: str, name: str) -> None:
    with TestClient(create_app(database_url, token=TOKEN, workers=1)) as client:
        answer = client.post("/lookups", json={"name": name, "handles": {"bilibili": "2"}}, headers=AUTH)
        assert answer.status_code == 422, answer.text
        assert "name" in answer.text
        assert client.get("/candidates", headers=AUTH).json() == []


def test_the_api_refuses_control_characters_in_handles(database_url: str) -> None:
    with TestClient(create_app(database_url, token=TOKEN, workers=1)) as client:
        answer = client.post("/lookups", json={"name": "Mia", "handles": {"bilibili": "2\u202e"}}, headers=AUTH)
        assert answer.status_code == 422, answer.text
        assert "U+202E" in answer.text


def test_the_csv_name_error_says_which_limit(database_url: str, tmp_path: Path) -> None:
    report = import_rows("name\n" + "y" * 250 + "\n", database_url)
    (message,) = dict(report.errors).values()
    assert "250 characters" in message and "control" not in message
