"""followerseries: each account's daily follower series, kept by enrich

Revision ID: 0021_follower_series
Revises: 0020_feature_list_columns

The suspicious-growth detector judges an account on its last exact follower count of every
UTC day over 180 days. Read from the profile snapshots, a full enrich of 16,000 daily-crawled
accounts read 2.9 million rows, a third of its time. Snapshots are append-only, so enrich now
keeps the series (``storage/follower_series.py``) and folds in only what was added since. The
table starts empty: the first enrich after this migration builds it from the snapshots, as
any enrich would read them before.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0021_follower_series"
down_revision = "0020_feature_list_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followerseries",
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=False, autoincrement=False),
        sa.Column("through_id", sa.BigInteger(), nullable=False),
        sa.Column("complete_after_us", sa.BigInteger(), nullable=False),
        sa.Column("newest_us", sa.BigInteger(), nullable=True),
        sa.Column("series", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )


def downgrade() -> None:
    op.drop_table("followerseries")
