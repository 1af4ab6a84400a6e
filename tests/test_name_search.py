"""Finding a candidate by name or alias ignores case and Unicode form on SQLite and PostgreSQL
alike, through one normalised search key: ``ünïcödé ørsted`` finds ``Ünïcödé Ørsted``,
``STRASSE`` finds ``Straße``, a decomposed ``Ü`` or full-width letters find the composed, plain
ones. Rows stored before the key existed are found too (the migration fills it)."""

from __future__ import annotations

import json
import unicodedata

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from crawler.cli import app
from storage.candidates import add_candidate, find_candidate
from storage.db import get_engine, session_scope, upgrade
from storage.models import Candidate

runner = CliRunner()

#: (stored display name, aliases, what a person types)
CASES = [
    ("Ünïcödé Ørsted", [], "ünïcödé ørsted"),
    ("Ünïcödé Ørsted", [], "ÜNÏCÖDÉ ØRSTED"),
    ("Ünïcödé Ørsted", [], unicodedata.normalize("NFD", "ünïcödé ørsted")),
    ("Straße Müller", [], "STRASSE MÜLLER"),
    ("Mia Chen", [], "ｍｉａ　ｃｈｅｎ"),  # full-width, as a Chinese input method types it
    ("Someone", ["Çağla Şahin"], "çağla şahin"),
    ("Someone", ["Groß"], "GROSS"),
    ("Ελένη", [], "ΕΛΈΝΗ"),
]


@pytest.mark.parametrize(("name", "aliases", "typed"), CASES)
def test_a_name_or_alias_is_found_whatever_its_case_and_form(database_url: str, name: str, aliases: list[str], typed: str) -> None:
    with session_scope(database_url) as session:
        add_candidate(session, "Decoy")
        wanted = add_candidate(session, name, aliases=aliases).id
    with session_scope(database_url) as session:
        found = find_candidate(session, typed)
        assert found is not None and found.id == wanted


def test_a_display_name_wins_over_another_candidates_alias(database_url: str) -> None:
    with session_scope(database_url) as session:
        by_alias = add_candidate(session, "First", aliases=["Ørsted"]).id
        by_name = add_candidate(session, "ØRSTED").id
    with session_scope(database_url) as session:
        assert find_candidate(session, "ørsted").id == by_name  # type: ignore[union-attr]
        assert find_candidate(session, "first").id == by_alias  # type: ignore[union-attr]


def test_candidates_written_without_add_candidate_are_found_too(database_url: str) -> None:
    with session_scope(database_url) as session:
        session.add(Candidate(display_name="Ünïcödé Ørsted", aliases=["Groß"]))
    with session_scope(database_url) as session:
        assert find_candidate(session, "ünïcödé ørsted") is not None
        assert find_candidate(session, "gross") is not None
        candidate = find_candidate(session, "gross")
        candidate.aliases = ["Çağla"]  # type: ignore[union-attr]
        session.add(candidate)
    with session_scope(database_url) as session:
        assert find_candidate(session, "ÇAĞLA") is not None
        assert find_candidate(session, "gross") is None


def test_the_cli_finds_a_candidate_by_a_name_in_another_case(database_url: str) -> None:
    with session_scope(database_url) as session:
        add_candidate(session, "Ünïcödé Ørsted")
    result = runner.invoke(app, ["candidates", "suggest", "ünïcödé ørsted", "--json"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["candidate"]["display_name"] == "Ünïcödé Ørsted"


def test_rows_stored_before_the_search_key_are_found_after_the_upgrade(database_url: str) -> None:
    from alembic import command

    from storage.db import alembic_config

    command.downgrade(alembic_config(database_url), "0009_run_liveness")
    with get_engine(database_url).begin() as connection:
        connection.execute(text(
            "INSERT INTO candidate (display_name, aliases, active, created_at, updated_at) "
            "VALUES ('Straße Ørsted', '[\"Çağla\"]', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    upgrade(database_url)
    with session_scope(database_url) as session:
        assert find_candidate(session, "STRASSE ØRSTED") is not None
        assert find_candidate(session, "çağla") is not None
