"""featuresnapshot.ranking_digest and rankinginput: what a live re-rank need not redo

Revision ID: 0023_ranking_cache
Revises: 0022_post_text_analysis

Ranked against the live cohort, every row is scored again on every ``enrich``, though most
rows' percentiles do not move when a few candidates change. ``ranking_digest`` is a digest of
everything a row's ranking is a function of besides its own (immutable) features: its
percentiles, its earliness, the reference, the weights and the scoring code
(``enrichment.cohort_scores.ranking_digests``). A row whose digest is unchanged keeps its
ranking without being scored into contributors, encoded and written again. Existing rows have
none: the first ranking after this migration writes every row once.

``rankinginput`` keeps, per feature row, the few features ranking reads of it (~1 KB of its
~6 KB document, first mentions as numbers), under a key naming which features those are
(``storage/ranking_inputs.py``), with the row's ``computed_at`` (a kept view is used only for
the row it was made of, should an id be used again after rows were deleted without their
foreign keys enforced). Reading the cohort's documents was a third of a live
re-rank. The table starts empty: the next ranking reads the documents and fills it.
``candidate_features_latest`` is created again (PostgreSQL expands ``f.*`` when a view is
created; same rule as 0010_reference_scores).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0023_ranking_cache"
down_revision = "0022_post_text_analysis"
branch_labels = None
depends_on = None

VIEW = "candidate_features_latest"
NEWEST = ("SELECT c.display_name AS display_name, f.* FROM featuresnapshot f JOIN candidate c ON c.id = f.candidate_id "
          "WHERE f.id = (SELECT f2.id FROM featuresnapshot f2 WHERE f2.candidate_id = f.candidate_id "
          "ORDER BY f2.as_of DESC, f2.id DESC LIMIT 1)")


def upgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    with op.batch_alter_table("featuresnapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ranking_digest", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    op.execute(f"CREATE VIEW {VIEW} AS {NEWEST}")
    op.create_table(
        "rankinginput",
        sa.Column("snapshot_id", sa.Integer(), sa.ForeignKey("featuresnapshot.id", ondelete="CASCADE"), nullable=False,
                  autoincrement=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("names_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("inputs", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id"),
    )


def downgrade() -> None:
    op.drop_table("rankinginput")
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    with op.batch_alter_table("featuresnapshot", schema=None) as batch_op:
        batch_op.drop_column("ranking_digest")
    op.execute(f"CREATE VIEW {VIEW} AS {NEWEST}")
