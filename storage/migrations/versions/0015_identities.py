"""identity states: proxies and sessions per platform

Revision ID: 0015_identities
Revises: 0014_archive

Issue 17: ``identitystate`` holds the last known health of each proxy and logged-in session on
each platform (ok / quarantined / locked / expired, until when, the last failure), named as
configured and never by URL, cookie or token, for ``wangzi proxies list``, ``wangzi sessions
list`` and ``wangzi health``.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015_identities"
down_revision = "0014_archive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identitystate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("endpoint", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("quarantines", sa.Integer(), nullable=False),
        sa.Column("last_failure", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("last_failure_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_ok_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("rate", sa.Float(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "name", "platform", name="uq_identitystate_kind_name_platform"),
    )
    with op.batch_alter_table("identitystate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identitystate_platform"), ["platform"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identitystate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identitystate_platform"))
    op.drop_table("identitystate")
