"""The ``wangzi`` command line: help everywhere, clear errors with documented exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawler.cli import app

runner = CliRunner()


def invoke(*args: str, database_url: str | None = None):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": database_url} if database_url else {}
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize(
    "command",
    [[], ["db"], ["db", "upgrade"], ["candidates"], ["candidates", "add"], ["candidates", "import"],
     ["candidates", "list"], ["parse"], ["crawl"], ["lookup"], ["record"], ["demo"]],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_db_upgrade_creates_and_reports_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = invoke("db", "upgrade", database_url=url)
    assert result.exit_code == 0, result.output
    assert "is at migration" in result.output
    assert invoke("db", "upgrade", database_url=url).exit_code == 0  # idempotent


def test_candidates_add_and_list(database_url: str) -> None:
    result = invoke("candidates", "add", "李佳琦", "--alias", "Li Jiaqi", "--notes", "beauty", database_url=database_url)
    assert result.exit_code == 0, result.output
    listed = json.loads(invoke("candidates", "list", "--json", database_url=database_url).output)
    assert listed[0]["display_name"] == "李佳琦"
    assert listed[0]["aliases"] == ["Li Jiaqi"]


def test_candidates_list_pages_by_id_and_streams_the_same_json(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import crawler.cli.candidates as candidates_cli
    from crawler.cli.candidates import candidate_rows

    for n, name in enumerate(["Ann", "Bo", "Cy \"quoted\" [b]x[/b]", "Di", "Ed"]):
        assert invoke("candidates", "add", name, "--bilibili", str(546195 + n), database_url=database_url).exit_code == 0
    everyone = candidate_rows(database_url)
    monkeypatch.setattr(candidates_cli, "LIST_PAGE", 2)  # three pages, streamed
    listed = invoke("candidates", "list", "--json", database_url=database_url)
    assert listed.output == json.dumps(everyone, ensure_ascii=False, indent=2, default=str) + "\n"
    ids = [row["id"] for row in everyone]
    first = invoke("candidates", "list", "--json", "--limit", "2", database_url=database_url)
    assert [row["id"] for row in json.loads(first.stdout)] == ids[:2]
    assert f"more candidates: --after {ids[1]}" in first.stderr
    rest = invoke("candidates", "list", "--json", "--after", str(ids[1]), "--limit", "3", database_url=database_url)
    assert [row["id"] for row in json.loads(rest.stdout)] == ids[2:]
    assert "more candidates" not in rest.stderr  # nothing after the last
    assert json.loads(invoke("candidates", "list", "--json", "--after", str(ids[-1]), database_url=database_url).stdout) == []
    table = invoke("candidates", "list", "--limit", "3", database_url=database_url).stdout
    assert "Ann" in table and "Cy" in table and "Di" not in table and f"--after {ids[2]}" in table
    assert invoke("candidates", "list", "--limit", "0", database_url=database_url).exit_code == 2


def test_candidates_add_refuses_an_empty_name(database_url: str) -> None:
    result = invoke("candidates", "add", "  ", database_url=database_url)
    assert result.exit_code == 2
    assert "empty" in result.output


def test_import_keeps_good_rows_and_reports_bad_ones_by_row_number(database_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("name,aliases,notes,unknown_platform\nAlice,A|Al,,\n,missing name,,\nBob,,,\n", encoding="utf-8")
    result = invoke("candidates", "import", str(csv), database_url=database_url)
    assert result.exit_code == 1
    assert "row 3: missing name" in result.output
    assert "unknown column" in result.output
    names = [c["display_name"] for c in json.loads(invoke("candidates", "list", "--json", database_url=database_url).output)]
    assert names == ["Alice", "Bob"]


def test_import_of_a_missing_or_non_utf8_file_is_a_usage_error(database_url: str, tmp_path: Path) -> None:
    assert invoke("candidates", "import", str(tmp_path / "nope.csv"), database_url=database_url).exit_code == 2
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name\nJos\xe9\n".encode("latin-1"))
    result = invoke("candidates", "import", str(latin), database_url=database_url)
    assert result.exit_code == 2 and "UTF-8" in result.output


def test_parse_an_unknown_platform_or_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    payload = tmp_path / "p.json"
    payload.write_text("{}", encoding="utf-8")
    result = invoke("parse", "myspace", str(payload))
    assert result.exit_code == 2 and "unknown platform" in result.output
    assert invoke("parse", "bilibili", str(tmp_path / "missing.json")).exit_code == 2


def test_lookup_of_something_unknown_explains_what_it_accepts(database_url: str) -> None:
    result = invoke("lookup", "nobody-at-all", database_url=database_url)
    assert result.exit_code == 2
    assert "PLATFORM:HANDLE" in result.output
