"""Alembic environment: runs migrations on the engine ``storage.db`` builds for the URL.

Configured programmatically by ``storage.db.alembic_config`` (there is no alembic.ini):
``wangzi db upgrade`` is the way to run it.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from storage.db import get_engine, import_models

import_models()
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    with get_engine(url).connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
