"""one search key for names and aliases

Revision ID: 0011_name_keys
Revises: 0010_reference_scores

``candidate.name_key`` (indexed) and ``candidate.alias_keys``: the display name's and the
aliases' search keys (``storage.names.search_key``: NFKC, Unicode case folding, NFKC, single
spaces), so a name is found whatever its case and Unicode form on SQLite, whose ``lower()``
folds ASCII only, and PostgreSQL alike. Existing rows are filled here with the key as this
revision defines it (a copy, so the migration keeps meaning what it meant if the function
changes; a new rule is a new migration that fills the keys again).
"""

from __future__ import annotations

import json
import unicodedata

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011_name_keys"
down_revision = "0010_reference_scores"
branch_labels = None
depends_on = None


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())


def _alias_keys(aliases: list[str]) -> str:
    keys = [key for key in (_key(str(alias)) for alias in aliases) if key]
    return "\n" + "\n".join(keys) + "\n" if keys else ""


# Plain ALTER TABLE, not a batch: SQLite's batch mode copies the table and renames the copy,
# which the view candidate_features_latest (it joins candidate) refuses. Both databases add a
# NOT NULL column with a default, and drop a column (SQLite 3.35+), in place.


def upgrade() -> None:
    op.add_column("candidate", sa.Column("name_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""))
    op.add_column("candidate", sa.Column("alias_keys", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""))
    op.create_index("ix_candidate_name_key", "candidate", ["name_key"], unique=False)
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, display_name, aliases FROM candidate")).all()
    updates = []
    for row_id, display_name, aliases in rows:
        if isinstance(aliases, str):
            aliases = json.loads(aliases or "[]")
        updates.append({"id": row_id, "name_key": _key(display_name or ""), "alias_keys": _alias_keys(aliases or [])})
    if updates:
        connection.execute(sa.text("UPDATE candidate SET name_key = :name_key, alias_keys = :alias_keys WHERE id = :id"), updates)


def downgrade() -> None:
    op.drop_index("ix_candidate_name_key", table_name="candidate")
    op.drop_column("candidate", "alias_keys")
    op.drop_column("candidate", "name_key")
