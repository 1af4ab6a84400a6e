"""Hypothesis over what users and clients send: random request bodies and paths for the HTTP
API never get a 500, and what is stored passes the one name validation; random names full of
markup, brackets and control characters never crash a command's printing and, when accepted,
are printed exactly as stored. Examples are fixed (derandomized) so CI is repeatable;
``WANGZI_FUZZ_RANDOM=1`` explores new ones."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from crawler.cli import app as cli
from crawler.cli._common import PlainTable, line
from crawler.service.app import create_app
from crawler.service.dependencies import get_lookups
from records import PLATFORMS
from storage.candidates import list_candidates
from storage.db import session_scope
from storage.names import InvalidName, clean_name

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=os.environ.get("WANGZI_FUZZ_RANDOM") != "1",
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


#: Text a hostile or careless client sends: markup, formula starts, control, bidi and
#: zero-width characters, full-width letters, CJK, emoji, and anything else.
MARKUP = ["[/]", "[link=https://evil.example/]", "[/link]", "[bold red]", "\\[", "]", "[", "=", "+", "-", "@",
          "\x00", "\t", "\n", "\r", "\u2028", "\u202e", "\u200b", "\ufeff", "\u200d", "Ｍｉａ", "碧诗", "👩\u200d🔬", " "]
hostile_text = st.lists(st.sampled_from(MARKUP) | st.text(max_size=6), max_size=8).map("".join)
handle_text = st.from_regex(r"[0-9]{1,12}", fullmatch=True) | st.from_regex(r"[A-Za-z0-9_.]{1,20}", fullmatch=True) | hostile_text
big_ints = st.integers() | st.sampled_from([0, -1, 2**63 - 1, 2**63, -(2**63), 10**30])


class NoQueue:
    """Accepts lookups without running them: the fuzzed service must not start crawls."""

    workers = 1

    async def submit(self, job_id: str) -> None:
        return None


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    service = create_app(database_url, token=TOKEN, workers=1)
    service.dependency_overrides[get_lookups] = lambda: NoQueue()
    with TestClient(service, raise_server_exceptions=False) as test_client:
        yield test_client


platform_names = st.sampled_from(list(PLATFORMS))
lookup_fields = st.fixed_dictionaries(
    {},
    optional={
        "candidate_id": big_ints | st.none() | hostile_text,
        "name": hostile_text | st.none() | st.integers(),
        "handles": st.dictionaries(platform_names | hostile_text, handle_text | st.integers(), max_size=3)
        | st.none() | hostile_text,
        "platforms": st.lists(platform_names | hostile_text, max_size=3) | st.none(),
    },
)
unknown_fields = st.dictionaries(hostile_text, st.integers() | hostile_text, max_size=2)
lookup_bodies = st.builds(lambda extra, fields: {**extra, **fields}, unknown_fields, lookup_fields)


@fuzz(60)
@given(body=lookup_bodies)
def test_no_lookup_body_gets_a_500_and_what_is_stored_is_a_valid_name(client: TestClient, database_url: str, body: dict[str, Any]) -> None:
    answer = client.post("/lookups", json=body, headers=AUTH)
    assert answer.status_code in {202, 404, 409, 422}, (body, answer.status_code, answer.text)
    if answer.status_code == 202:
        job = client.get(answer.json()["url"], headers=AUTH)
        assert job.status_code == 200 and job.json()["status"] == "queued"
    with session_scope(database_url) as session:
        for candidate in list_candidates(session):
            assert clean_name(candidate.display_name) == candidate.display_name


@fuzz(60)
@given(path=(hostile_text | big_ints.map(str)).filter(bool))
def test_no_path_gets_a_500(client: TestClient, path: str) -> None:
    from urllib.parse import quote

    for route in (f"/lookups/{quote(path, safe='')}", f"/candidates/{quote(path, safe='')}",
                  f"/candidates/{quote(path, safe='')}/features"):
        answer = client.get(route, headers=AUTH)
        assert answer.status_code in {200, 404, 422}, (route, answer.status_code, answer.text)


@fuzz(200)
@given(title=hostile_text, cells=st.lists(hostile_text, min_size=1, max_size=4))
def test_plain_tables_and_lines_print_any_text_as_it_is(title: str, cells: list[str]) -> None:
    out = io.StringIO()
    console = Console(file=out, width=4000, color_system=None, soft_wrap=True)
    table = PlainTable(title=title)
    for number in range(len(cells)):
        table.add_column(f"c{number}")
    table.add_row(*cells)
    console.print(table)
    console.print(line(("styled:", "bold red"), " ", *cells))
    printed = out.getvalue()
    for cell in [title, *cells]:
        # Every visible run of characters is printed as it is; white space and control
        # characters are laid out by the terminal renderer (tabs expanded, line breaks kept).
        for word in re.split(r"[^\S]+|[^\w\W]", "".join(ch if ch.isprintable() else " " for ch in cell)):
            assert word in printed, (word, printed)


@fuzz(50)
@given(name=hostile_text, alias=hostile_text)
def test_candidates_add_prints_any_accepted_name_as_stored_and_refuses_the_rest_in_one_line(
    database_url: str, name: str, alias: str
) -> None:
    result = CliRunner().invoke(cli, ["candidates", "add", "--alias", alias, "--", name],
                                env={"DATABASE_URL": database_url, "COLUMNS": "4000"}, catch_exceptions=False)
    try:
        stored, aliases = clean_name(name), [clean_name(alias, "alias")] if alias.strip(" ") else []
    except InvalidName:
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
        return
    assert result.exit_code == 0, result.output
    assert f" {stored}" in result.output
    if aliases:
        with session_scope(database_url) as session:
            assert list_candidates(session)[-1].aliases == aliases
