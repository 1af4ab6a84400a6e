"""crawl leases and refresh state

Revision ID: 0004_ops
Revises: 0003_features

``lease``: one row per (platform, account) - or (press, candidate) - holding when each kind
of data was last refreshed and, during a crawl, who holds it until when (``crawl --due``).
``lookupjob``: on-demand lookups requested over HTTP (``wangzi serve``).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004_ops"
down_revision = "0003_features"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lease",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("acquired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("refreshed", sa.JSON(), nullable=False),
        sa.Column("not_before", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["crawlrun.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "subject_id", name="uq_lease_platform_subject"),
    )
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lease_platform"), ["platform"], unique=False)
        batch_op.create_index(batch_op.f("ix_lease_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lease_owner"), ["owner"], unique=False)

    op.create_table(
        "lookupjob",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["crawlrun.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lookupjob", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lookupjob_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_lookupjob_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lookupjob_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lookupjob", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lookupjob_created_at"))
        batch_op.drop_index(batch_op.f("ix_lookupjob_candidate_id"))
        batch_op.drop_index(batch_op.f("ix_lookupjob_status"))
    op.drop_table("lookupjob")
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lease_owner"))
        batch_op.drop_index(batch_op.f("ix_lease_subject_id"))
        batch_op.drop_index(batch_op.f("ix_lease_platform"))
    op.drop_table("lease")
