"""coverage-aware scores, follower tiers and frozen references

Revision ID: 0010_reference_scores
Revises: 0009_run_liveness

``featuresnapshot`` gains the coverage-aware score of each index (``*_score``: coverage x index
+ (1 - coverage) x 50, what the ranking sorts by), the candidate's follower ``tier`` and the
``reference`` the percentiles were taken against (``cohort`` or ``NAME@vN``).
``featurereference`` holds the references ``wangzi reference freeze`` stores (name, version,
the components' distributions as JSON). ``candidate_features_latest`` is created again so that
PostgreSQL, which expands ``f.*`` when a view is created, shows the new columns too (same rule
as 0008_newest_features).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010_reference_scores"
down_revision = "0009_run_liveness"
branch_labels = None
depends_on = None

VIEW = "candidate_features_latest"
NEWEST = ("SELECT c.display_name AS display_name, f.* FROM featuresnapshot f JOIN candidate c ON c.id = f.candidate_id "
          "WHERE f.id = (SELECT f2.id FROM featuresnapshot f2 WHERE f2.candidate_id = f.candidate_id "
          "ORDER BY f2.as_of DESC, f2.id DESC LIMIT 1)")
SCORES = ("leadership_score", "sales_driving_score", "influence_score", "composite_score")


def upgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    with op.batch_alter_table("featuresnapshot", schema=None) as batch_op:
        for name in SCORES:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
    op.execute(f"CREATE VIEW {VIEW} AS {NEWEST}")
    op.create_table(
        "featurereference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("as_of", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cohort_size", sa.Integer(), nullable=False),
        sa.Column("weights_source", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uq_featurereference_name_version"),
    )


def downgrade() -> None:
    op.drop_table("featurereference")
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    with op.batch_alter_table("featuresnapshot", schema=None) as batch_op:
        for name in ("reference", "tier", *reversed(SCORES)):
            batch_op.drop_column(name)
    op.execute(f"CREATE VIEW {VIEW} AS {NEWEST}")
