"""shortlists: named lists, each candidate's current status on them, and the append-only history

Revision ID: 0016_shortlists
Revises: 0015_identities

Issue 18 item 4 (the review desk): ``shortlist`` (a named list), ``shortlistmember`` (a
candidate's current status and newest note on a list, who set it and when; one per list and
candidate) and ``shortlistevent`` (every change, never updated or deleted).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0016_shortlists"
down_revision = "0015_identities"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shortlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_shortlist_name"),
    )
    op.create_table(
        "shortlistmember",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortlist_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"]),
        sa.ForeignKeyConstraint(["shortlist_id"], ["shortlist.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shortlist_id", "candidate_id", name="uq_shortlistmember_list_candidate"),
    )
    with op.batch_alter_table("shortlistmember", schema=None) as batch_op:
        batch_op.create_index("ix_shortlistmember_candidate_list", ["candidate_id", "shortlist_id"], unique=False)
    op.create_table(
        "shortlistevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortlist_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"]),
        sa.ForeignKeyConstraint(["shortlist_id"], ["shortlist.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("shortlistevent", schema=None) as batch_op:
        batch_op.create_index("ix_shortlistevent_list_candidate", ["shortlist_id", "candidate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shortlistevent_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shortlistevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shortlistevent_at"))
        batch_op.drop_index("ix_shortlistevent_list_candidate")
    op.drop_table("shortlistevent")
    with op.batch_alter_table("shortlistmember", schema=None) as batch_op:
        batch_op.drop_index("ix_shortlistmember_candidate_list")
    op.drop_table("shortlistmember")
    op.drop_table("shortlist")
