"""featureranking: a feature row's ranking in a table of its own

Revision ID: 0024_feature_ranking
Revises: 0023_ranking_cache

Ranked against the live cohort, a few candidates that change can move every other row's
percentiles, and then every row's ranking is written again. Stored on the feature row, each
of those writes rewrote the whole ~8 KB row - its ~6 KB document with its ~2 KB ranking -
and SQLite then copied and synced all of it at the checkpoint: for 2,000 rows 0.20-0.23 s
of writing, against 0.06 s for rankings kept in a table of their own
(``benchmarks/ranking_writes.py``). The ranking columns (``ranked_at``, ``reference``,
``ranking_digest``, ``tier``, the indices, coverages and scores, ``top_contributors``) move
to ``featureranking``, one row per feature row (same id, deleted with it), the small columns
first and the contributors' text last. Every existing row's ranking is copied over.
``candidate_features_latest`` is created again with the ranking columns joined (after the
feature row's columns). The index on ``ranked_at`` moves with it.

On SQLite the columns are dropped with ``ALTER TABLE ... DROP COLUMN`` (SQLite 3.35 and
later), not by copying the table: a copy drops the old table, and with foreign keys enforced
that deletes the rows of every table that cascades from it (``rankinginput``, this one).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0024_feature_ranking"
down_revision = "0023_ranking_cache"
branch_labels = None
depends_on = None

VIEW = "candidate_features_latest"
FLOATS = ["leadership_index", "sales_driving_index", "influence_index", "composite_index",
          "leadership_coverage", "sales_driving_coverage", "influence_coverage", "composite_coverage",
          "leadership_score", "sales_driving_score", "influence_score", "composite_score"]
MOVED = ["ranked_at", "reference", "ranking_digest", "tier", *FLOATS, "top_contributors"]
WHERE = ("WHERE f.id = (SELECT f2.id FROM featuresnapshot f2 WHERE f2.candidate_id = f.candidate_id "
         "ORDER BY f2.as_of DESC, f2.id DESC LIMIT 1)")
NEWEST = ("SELECT c.display_name AS display_name, f.*, " + ", ".join(f"r.{name} AS {name}" for name in MOVED)
          + " FROM featuresnapshot f JOIN candidate c ON c.id = f.candidate_id"
          " LEFT JOIN featureranking r ON r.snapshot_id = f.id " + WHERE)
OLD_NEWEST = ("SELECT c.display_name AS display_name, f.* FROM featuresnapshot f JOIN candidate c ON c.id = f.candidate_id "
              + WHERE)


def upgrade() -> None:
    op.create_table(
        "featureranking",
        sa.Column("snapshot_id", sa.Integer(), sa.ForeignKey("featuresnapshot.id", ondelete="CASCADE"), nullable=False,
                  autoincrement=False),
        sa.Column("ranked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("ranking_digest", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        *(sa.Column(name, sa.Float(), nullable=True) for name in FLOATS),
        sa.Column("top_contributors", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id"),
    )
    columns = ", ".join(MOVED)
    op.execute(f"INSERT INTO featureranking (snapshot_id, {columns}) SELECT id, {columns} FROM featuresnapshot")
    op.create_index("ix_featureranking_ranked_at", "featureranking", ["ranked_at"])
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    op.drop_index("ix_featuresnapshot_ranked_at", table_name="featuresnapshot")
    for name in MOVED:
        op.execute(f"ALTER TABLE featuresnapshot DROP COLUMN {name}")
    op.execute(f"CREATE VIEW {VIEW} AS {NEWEST}")


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    types = {"ranked_at": sqlmodel.sql.sqltypes.UTCDateTime(), "reference": sqlmodel.sql.sqltypes.AutoString(length=80),
             "ranking_digest": sqlmodel.sql.sqltypes.AutoString(length=32),
             "tier": sqlmodel.sql.sqltypes.AutoString(length=16), **{name: sa.Float() for name in FLOATS}}
    for name in MOVED:
        if name == "top_contributors":
            op.add_column("featuresnapshot", sa.Column(name, sa.JSON(), nullable=False, server_default="{}"))
        else:
            op.add_column("featuresnapshot", sa.Column(name, types[name], nullable=True))
    assignments = ", ".join(f"{name} = r.{name}" for name in MOVED)
    # (UPDATE ... FROM: PostgreSQL, and SQLite 3.33 and later)
    op.execute(f"UPDATE featuresnapshot SET {assignments} FROM featureranking r WHERE r.snapshot_id = featuresnapshot.id")
    op.create_index("ix_featuresnapshot_ranked_at", "featuresnapshot", ["ranked_at"])
    op.drop_index("ix_featureranking_ranked_at", table_name="featureranking")
    op.drop_table("featureranking")
    op.execute(f"CREATE VIEW {VIEW} AS {OLD_NEWEST}")
