"""press mentions

Revision ID: 0002_press
Revises: 0001_foundation

``pressmention``: articles that name (or may name) a candidate, one row per
(candidate, canonical URL) - storage/models.py (PressMention).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_press"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pressmention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("canonical_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("outlet_domain", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("outlet_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("matched_alias", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("snippet", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("parser_version", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("first_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("candidate_id", "canonical_url", name="uq_pressmention_candidate_canonical_url"),
    )
    with op.batch_alter_table("pressmention", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pressmention_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pressmention_outlet_domain"), ["outlet_domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_pressmention_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_pressmention_published_at"), ["published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_pressmention_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pressmention", schema=None) as batch_op:
        for column in ("status", "published_at", "country", "outlet_domain", "candidate_id"):
            batch_op.drop_index(batch_op.f(f"ix_pressmention_{column}"))
    op.drop_table("pressmention")
