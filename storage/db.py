"""Engines, sessions and migrations.

``DATABASE_URL`` picks the database (default: ``sqlite:///wangzi.db`` in the current
folder). SQLite runs in WAL mode with foreign keys on and a busy timeout, so a CLI
command and a running crawl can share the file. Schema changes go through Alembic only
(``wangzi db upgrade``); an empty database is upgraded automatically on first use.
"""

from __future__ import annotations

import json
import operator
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    any_,
    bindparam,
    event,
    func,
    inspect,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

DEFAULT_DATABASE_URL = "sqlite:///wangzi.db"
MIGRATIONS = Path(__file__).parent / "migrations"



class SchemaOutOfDate(RuntimeError):
    """The database has tables but is behind the code's migrations."""


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``DATABASE_URL``, else ``wangzi.db`` here."""
    return url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


@lru_cache(maxsize=16)
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process (engines pool connections; do not make one per call)."""
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session for one unit of work: committed on success, rolled back on error."""
    ensure_schema(url)
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def import_models() -> None:
    """Make ``SQLModel.metadata`` know every table (they are all in :mod:`storage.models`)."""
    import storage.models  # noqa: F401 - imported for its table definitions


def alembic_config(url: str | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (``wangzi db upgrade``)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)
    _checked.discard(database_url(url))


def current_revision(url: str | None = None) -> str | None:
    """The migration the database is at (alembic's ``alembic_version`` table; None when it has
    none), read with one query: importing alembic to ask it took ~0.25 s of every command's start."""
    with get_engine(url).connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(versions) > 1:  # (alembic refuses such a table too: this history has one line)
        raise SchemaOutOfDate(f"{VERSION_TABLE} names {len(versions)} migrations ({', '.join(sorted(versions))}); "
                              "this project's migrations form one line")
    return versions[0] if versions else None


VERSION_TABLE = "alembic_version"
_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:(['"])([^'"]+)\2|None)\s*$""", re.MULTILINE)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration: the revision no other script names as its ``down_revision``, read
    from the scripts' own lines (alembic's script directory imports alembic and every script,
    which every command's schema check paid for). Should the scripts not form one line, read by
    alembic. ``tests/test_storage.py`` holds it equal to alembic's head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        found = {kind: value for kind, _, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8"))}
        if "revision" not in found:
            return _alembic_head()
        revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else _alembic_head()


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


_checked: set[str] = set()


def ensure_schema(url: str | None = None) -> None:
    """Upgrade an empty database; refuse to run on one that is behind (say what to do)."""
    key = database_url(url)
    if key in _checked:
        return
    engine = get_engine(url)
    tables = set(inspect(engine).get_table_names())
    if not tables or tables == {"alembic_version"}:
        upgrade(url)
    else:
        current, head = current_revision(url), head_revision()
        if current != head:
            raise SchemaOutOfDate(
                f"database {engine.url.render_as_string(hide_password=True)} is at migration "
                f"{current!r}, the code needs {head!r}: run `wangzi db upgrade`"
            )
    _checked.add(key)


# --------------------------------------------------------------------------- idempotent writes
# Inserts that must be idempotent (snapshots, posts, links, leases) use the dialect's
# ``INSERT ... ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL both have it), so a resumed
# or concurrent crawl can never write a second identical row.


def insert_ignore(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, skipping any that would violate a unique constraint. Returns rows inserted."""
    if not rows:
        return 0
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(table).values(list(rows)).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(list(rows)).on_conflict_do_nothing()
    else:  # pragma: no cover - other databases are not supported
        raise NotImplementedError(f"insert_ignore does not support {dialect}")
    # Count the inserted rows with RETURNING: PostgreSQL drivers report rowcount -1 for
    # INSERT ... ON CONFLICT DO NOTHING with SQLAlchemy 2.1.
    result = session.execute(statement.returning(*table.primary_key.columns))
    return len(result.all())


def upsert(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]], key: str) -> int:
    """Insert rows, replacing every other column of a row whose ``key`` is stored already
    (``INSERT ... ON CONFLICT (key) DO UPDATE``): what the caches enrich keeps write. Core
    executemany, 1,000 rows a statement (the ORM's bulk path costs more than the writes).
    Returns how many rows were written."""
    if not rows:
        return 0
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(model)
    statement = statement.on_conflict_do_update(
        index_elements=[key], set_={name: getattr(statement.excluded, name) for name in rows[0] if name != key})
    connection = session.connection()
    for start in range(0, len(rows), 1000):
        connection.execute(statement, rows[start:start + 1000])
    return len(rows)


def insert_rows(session: Session, table: Any, rows: Sequence[Mapping[str, Any]], *, json_text: Sequence[str] = (),
                page: int = 1000, replace_on: str | None = None) -> int:
    """Insert rows (dicts keyed by column name, every one the same columns) into a Core table
    through the driver's executemany, each value converted by its column type's own bind
    processor, as SQLAlchemy converts it. SQLAlchemy's executemany builds every row's
    parameters in Python first (~25 µs a row of 36 columns: 5 of the 22 s that storing
    200,000 feature rows took). The JSON columns named in ``json_text`` are given as their
    JSON text, written as it is (cast to the column's type on PostgreSQL). With
    ``replace_on`` (a unique column), a row whose value there is stored already replaces the
    stored row's other given columns (``INSERT ... ON CONFLICT (column) DO UPDATE``, which
    SQLite and PostgreSQL both have). Returns how many rows were given."""
    if not rows:
        return 0
    connection = session.connection()
    names = list(rows[0])
    markers, convert = _driver_binds(connection.dialect, table, names, json_text)
    preparer = connection.dialect.identifier_preparer
    sql = (f"INSERT INTO {preparer.format_table(table)} ({', '.join(preparer.quote(name) for name in names)}) "
           f"VALUES ({', '.join(markers)})")
    if replace_on is not None:
        sql += (f" ON CONFLICT ({preparer.quote(replace_on)}) DO UPDATE SET "
                + ", ".join(f"{preparer.quote(name)} = excluded.{preparer.quote(name)}" for name in names if name != replace_on))
    for start in range(0, len(rows), page):
        connection.exec_driver_sql(sql, [convert(row) for row in rows[start:start + page]])
    return len(rows)


def update_rows(session: Session, table: Any, rows: Sequence[Mapping[str, Any]], *, key: str = "id",
                json_text: Sequence[str] = (), page: int = 1000) -> int:
    """Set columns of rows of a Core table through the driver's executemany: each mapping
    holds the row's ``key`` (its primary key) and the columns to set, every mapping the same
    columns, converted as :func:`insert_rows` converts them. What a re-rank writes to 2,000
    rows: SQLAlchemy's own executemany built each row's parameters in Python (~40 µs a row
    of 16 columns, a tenth of writing them). Returns how many rows were given."""
    if not rows:
        return 0
    connection = session.connection()
    names = [name for name in rows[0] if name != key]
    markers, convert = _driver_binds(connection.dialect, table, [*names, key], json_text)
    preparer = connection.dialect.identifier_preparer
    sql = (f"UPDATE {preparer.format_table(table)} SET "
           + ", ".join(f"{preparer.quote(name)} = {marker}" for name, marker in zip(names, markers))
           + f" WHERE {preparer.quote(key)} = {markers[-1]}")
    for start in range(0, len(rows), page):
        connection.exec_driver_sql(sql, [convert(row) for row in rows[start:start + page]])
    return len(rows)


def _driver_binds(dialect: Any, table: Any, names: Sequence[str],
                  json_text: Sequence[str]) -> tuple[list[str], Callable[[Mapping[str, Any]], tuple[Any, ...]]]:
    """The driver's parameter markers for these columns of ``table`` (a JSON column named in
    ``json_text`` cast from its text on PostgreSQL), and what turns a row (a mapping holding
    them) into the driver's parameters: each value through its column type's bind processor,
    a JSON text and None as they are."""
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    markers = [marker if name not in json_text or dialect.name == "sqlite"
               else f"CAST({marker} AS {table.c[name].type.compile(dialect=dialect)})" for name in names]
    processors = [None if name in json_text else table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in names]
    # Only the columns whose type converts a value are visited (most are numbers, which do not).
    converted = [(i, process) for i, process in enumerate(processors) if process is not None]
    # (itemgetter of one name gives the value, not a tuple)
    pick = operator.itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)

    # Each converted column's last value and what it became: rows written together mostly share
    # their times (a run's computed_at, as_of, ranked_at), converted once instead of per row.
    last: list[list[Any]] = [[None, None] for _ in converted]

    def convert(row: Mapping[str, Any]) -> tuple[Any, ...]:
        values = pick(row)
        if not converted:
            return values
        values = list(values)
        for (i, process), seen in zip(converted, last):
            value = values[i]
            if value is None:
                continue
            if value is not seen[0]:
                seen[0], seen[1] = value, process(value)
            values[i] = seen[1]
        return tuple(values)

    return markers, convert


# --------------------------------------------------------------------------- long id lists


def among_ids(session: Session, column: Any, ids: Sequence[int]) -> Any:
    """``column IN ids`` as one bound parameter, whatever the list's length: SQLite reads the
    ids from a JSON array (``json_each``), PostgreSQL from an array (``= ANY``). A plain
    ``in_(ids)`` binds each id as its own parameter, which SQLAlchemy renders and processes one
    by one (~1.7 µs an id: ~0.25 s for the 144,000 ids a full enrich of 2,000 candidates looked up) and
    which must be cut into slices under the databases' parameter limits. For primary keys and
    indexed ids: each id is one index seek."""
    values = [int(i) for i in ids]
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(BigInteger)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(json.dumps(values))))
