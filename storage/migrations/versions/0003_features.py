"""feature snapshots and the candidate_features_latest view

Revision ID: 0003_features
Revises: 0002_press

``featuresnapshot``: features and indices per candidate per enrich run (storage/models.py).
``ix_profilesnapshot_account_captured``: (account_id, captured_at) on profile snapshots, so
the snapshot nearest a growth window start is an index seek.
``candidate_features_latest``: a view with the newest feature snapshot of every candidate,
for scoring jobs that read the database directly. Plain SQL that SQLite and PostgreSQL
both accept (a correlated MAX(id) subquery, no window functions, no DISTINCT ON).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003_features"
down_revision = "0002_press"
branch_labels = None
depends_on = None

VIEW = "candidate_features_latest"


def upgrade() -> None:
    # Growth windows read "the newest snapshot of account A at or before T": one index seek.
    with op.batch_alter_table("profilesnapshot", schema=None) as batch_op:
        batch_op.create_index("ix_profilesnapshot_account_captured", ["account_id", "captured_at"], unique=False)
    op.create_table(
        "featuresnapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("as_of", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ranked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("schema_version", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("followers_total", sa.Integer(), nullable=True),
        sa.Column("followers_domestic", sa.Integer(), nullable=True),
        sa.Column("followers_overseas", sa.Integer(), nullable=True),
        sa.Column("overseas_share", sa.Float(), nullable=True),
        sa.Column("growth_30d_rel", sa.Float(), nullable=True),
        sa.Column("engagement_median", sa.Float(), nullable=True),
        sa.Column("posts_per_week", sa.Float(), nullable=True),
        sa.Column("foreign_language_share", sa.Float(), nullable=True),
        sa.Column("brands_distinct", sa.Integer(), nullable=True),
        sa.Column("brand_countries_distinct", sa.Integer(), nullable=True),
        sa.Column("press_365d", sa.Integer(), nullable=True),
        sa.Column("leadership_index", sa.Float(), nullable=True),
        sa.Column("sales_driving_index", sa.Float(), nullable=True),
        sa.Column("influence_index", sa.Float(), nullable=True),
        sa.Column("composite_index", sa.Float(), nullable=True),
        sa.Column("leadership_coverage", sa.Float(), nullable=True),
        sa.Column("sales_driving_coverage", sa.Float(), nullable=True),
        sa.Column("influence_coverage", sa.Float(), nullable=True),
        sa.Column("composite_coverage", sa.Float(), nullable=True),
        sa.Column("top_contributors", sa.JSON(), nullable=False),
        sa.Column("max_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("max_post_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("max_press_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("featuresnapshot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_featuresnapshot_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_index("ix_featuresnapshot_candidate_as_of", ["candidate_id", "as_of"], unique=False)
    op.execute(
        f"CREATE VIEW {VIEW} AS "
        "SELECT c.display_name AS display_name, f.* FROM featuresnapshot f "
        "JOIN candidate c ON c.id = f.candidate_id "
        "WHERE f.id = (SELECT MAX(f2.id) FROM featuresnapshot f2 WHERE f2.candidate_id = f.candidate_id)"
    )


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    with op.batch_alter_table("featuresnapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_featuresnapshot_candidate_as_of")
        batch_op.drop_index(batch_op.f("ix_featuresnapshot_candidate_id"))
    op.drop_table("featuresnapshot")
    with op.batch_alter_table("profilesnapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_profilesnapshot_account_captured")
