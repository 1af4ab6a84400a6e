"""Shared fixtures: a fresh database per test - a SQLite file and, when a PostgreSQL server
can be started (Debian's binaries, on loopback), the same test again on PostgreSQL - and a
real redis-server for the distributed tests.

``WANGZI_TEST_DATABASES=sqlite`` (comma-separated: sqlite, postgresql) limits the databases;
``WANGZI_TEST_POSTGRES_URL`` uses an existing PostgreSQL server instead of starting one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The crawls tests run keep their raw archive (crawler/middlewares/archive.py) in a temporary
# folder, never in the repository; tests of the archive give their own WANGZI_ARCHIVE_DIR.
if "WANGZI_ARCHIVE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["WANGZI_ARCHIVE_DIR"] = tempfile.mkdtemp(prefix="wangzi-test-archive-")
    atexit.register(shutil.rmtree, os.environ["WANGZI_ARCHIVE_DIR"], True)

# pytest-xdist gives its workers COLUMNS=80 and LINES=24; the CLI tests' subprocesses would
# inherit them and wrap their tables at 80 columns, unlike a plain run (no terminal): the tests
# that want a width set COLUMNS themselves.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)

DATABASES = [name.strip() for name in os.environ.get("WANGZI_TEST_DATABASES", "sqlite,postgresql").split(",") if name.strip()]


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[Any]:
    """A PostgreSQL server for the whole session (skips, saying why, when none can start)."""
    from tests.postgres import PostgresUnavailable, start_databases

    try:
        databases, server = start_databases()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield databases
    if server is not None:
        from storage.db import get_engine

        get_engine.cache_clear()
        server.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated, empty SQLite database, for tests whose subject does not depend on the
    database (replayed crawls: PostgreSQL runs the same CLI path in tests/test_postgres.py)."""
    from storage.db import upgrade

    url = f"sqlite:///{tmp_path / 'wangzi.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=[pytest.param(name, marks=[pytest.mark.postgres] if name == "postgresql" else [])
                        for name in DATABASES])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database for one test: SQLite, then PostgreSQL."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_databases").create()
    from storage.db import upgrade

    url = f"sqlite:///{tmp_path / 'wangzi.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Any]:
    """A redis-server for the whole session (skips, saying why, when none can start)."""
    from tests.redis_server import RedisServer, RedisUnavailable

    try:
        server = RedisServer().start()
    except RedisUnavailable as exc:
        pytest.skip(f"Redis unavailable: {exc}")
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: Any) -> str:
    """The session's Redis, emptied for this test."""
    redis_server.client().flushall()
    return redis_server.url


@pytest.fixture(autouse=True)
def _no_stray_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Code that forgets to pass a URL must not write ./wangzi.db in the repo."""
    monkeypatch.setenv("DATABASE_URL", os.environ.get("WANGZI_TEST_DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}"))
