"""curation: merges of candidates, a merged candidate's target, handles found by an index

Revision ID: 0017_curation
Revises: 0016_shortlists

Issue 18 item 5. ``candidatemerge`` records each merge of one candidate into another (who,
when, the rows that moved, the aliases the target gained) so a person can undo it;
``candidate.merged_into_id`` says where a merged candidate's history is now; and
``ix_account_lower_handle`` lets ``find_account`` (handles are found blind to case) and a
batch of imported rows find handles by an index seek instead of a scan of the platform's accounts.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0017_curation"
down_revision = "0016_shortlists"
branch_labels = None
depends_on = None


# candidate.merged_into_id: plain ALTER TABLE (as 0011): SQLite's batch mode copies the table,
# which the view candidate_features_latest (it joins candidate) refuses. No foreign key, which
# SQLite cannot add to an existing table; merges (storage/curation.py) are what set it.


def upgrade() -> None:
    op.add_column("candidate", sa.Column("merged_into_id", sa.Integer(), nullable=True))
    op.create_index("ix_account_lower_handle", "account", [sa.text("lower(handle)")], unique=False)
    op.create_table(
        "candidatemerge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("merged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("merged_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("added_aliases", sa.JSON(), nullable=False),
        sa.Column("source_was_active", sa.Boolean(), nullable=False),
        sa.Column("undone_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("undone_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("left", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["candidate.id"]),
        sa.ForeignKeyConstraint(["target_id"], ["candidate.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("candidatemerge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_candidatemerge_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_candidatemerge_target_id"), ["target_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("candidatemerge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidatemerge_target_id"))
        batch_op.drop_index(batch_op.f("ix_candidatemerge_source_id"))
    op.drop_table("candidatemerge")
    op.drop_index("ix_account_lower_handle", table_name="account")
    op.drop_column("candidate", "merged_into_id")
