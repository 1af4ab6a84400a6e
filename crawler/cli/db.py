"""``wangzi db``: schema migrations.

Storage (SQLAlchemy, Alembic) is imported inside the commands, so ``wangzi --help`` does not
load it."""

from __future__ import annotations

import typer

from crawler.cli._common import console, friendly_errors, line

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(
    revision: str = typer.Argument("head", help="Target revision (default: the newest)."),
    database_url: str = typer.Option(None, "--database-url", envvar="DATABASE_URL", help="Database to upgrade."),
) -> None:
    """Apply migrations to DATABASE_URL (default sqlite:///wangzi.db). Safe to run repeatedly."""
    from storage.db import current_revision, database_url as resolve, upgrade as run_upgrade

    with friendly_errors():
        run_upgrade(database_url, revision)
        console.print(line(f"{resolve(database_url).split('@')[-1]} is at migration ", (str(current_revision(database_url)), "bold")))


@db_app.command("current")
def current(
    database_url: str = typer.Option(None, "--database-url", envvar="DATABASE_URL", help="Database to inspect."),
) -> None:
    """Print the database's migration and the newest one the code knows."""
    from storage.db import current_revision, head_revision

    console.print(line(f"database: {current_revision(database_url)}  code: {head_revision()}"))


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
