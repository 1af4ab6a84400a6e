"""PostgreSQL for real: migrations go up and down on a real server, and the CLI works end to
end with ``DATABASE_URL=postgresql+psycopg://...`` (the rest of the suite also runs on it
through the ``database_url`` fixture)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from records import AccountRef
from storage.db import current_revision, get_engine, head_revision, upgrade
from tests.helpers import run_wangzi

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_url(postgres_databases: Any) -> str:
    return postgres_databases.create()


def test_the_server_is_a_real_postgresql(postgres_url: str) -> None:
    with get_engine(postgres_url).connect() as connection:
        version = connection.exec_driver_sql("select version()").scalar_one()
    assert version.startswith("PostgreSQL")
    assert current_revision(postgres_url) == head_revision()


def test_migrations_go_down_to_nothing_and_back_up(postgres_url: str) -> None:
    from alembic import command

    from storage.db import alembic_config

    command.downgrade(alembic_config(postgres_url), "base")
    assert set(inspect(get_engine(postgres_url)).get_table_names()) <= {"alembic_version"}
    upgrade(postgres_url)
    tables = set(inspect(get_engine(postgres_url)).get_table_names())
    assert {"candidate", "account", "profilesnapshot", "lease", "lookupjob"} <= tables


def test_the_cli_works_against_postgresql(postgres_url: str) -> None:
    assert run_wangzi("db", "upgrade", database_url=postgres_url).returncode == 0
    from storage.db import session_scope
    from storage.candidates import add_candidate

    with session_scope(postgres_url) as session:
        add_candidate(session, "碧诗", accounts=[AccountRef("bilibili", platform_user_id="2")])
    listed = run_wangzi("candidates", "list", "--json", database_url=postgres_url)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["display_name"] == "碧诗"
    assert run_wangzi("runs", database_url=postgres_url).returncode == 0
    health = run_wangzi("health", database_url=postgres_url)
    assert health.returncode == 0 and "no crawl runs" in health.stderr


@pytest.mark.slow
def test_a_replayed_crawl_stores_snapshots_in_postgresql(postgres_url: str, tmp_path: Path) -> None:
    from tests.helpers import snapshots
    from tests.ops_recording import accounts_recording, ops_platform, register_accounts

    platform = ops_platform()

    refs = register_accounts(postgres_url, platform, 3)
    har = accounts_recording(tmp_path / "r.har", platform, refs)
    crawl = run_wangzi("crawl", "-p", platform, "--replay", str(har), database_url=postgres_url)
    assert crawl.returncode == 0, crawl.stderr
    stored = snapshots(postgres_url)
    assert sorted(a.id for a, _ in stored) == sorted(r.account_id for r in refs)
    runs = run_wangzi("runs", "--json", database_url=postgres_url)
    assert json.loads(runs.stdout)[0]["stats"][platform]["snapshots"] == 3
