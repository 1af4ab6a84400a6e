"""posttextanalysis: each post's text analysis, kept by enrich

Revision ID: 0022_post_text_analysis
Revises: 0021_follower_series

Analysing the text of 80,000 posts (language, brands, keywords, places, disclosures) was a
quarter of a full enrich. A post's text is written once and its analysis depends only on that
text and on the analyser, so enrich now keeps each analysis (``storage/post_analyses.py``)
under the analyser's fingerprint. The table starts empty: the first enrich after this
migration analyses every post, as any enrich did before.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0022_post_text_analysis"
down_revision = "0021_follower_series"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posttextanalysis",
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("post.id"), nullable=False, autoincrement=False),
        sa.Column("analyser", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("text_digest", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("analysis", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("analysed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("post_id"),
    )


def downgrade() -> None:
    op.drop_table("posttextanalysis")
