"""leads: accounts discovery found, and every way each was seen

Revision ID: 0018_leads
Revises: 0017_curation

Issue 19 (discovery): ``lead`` (one row per platform account nobody registered yet: what the
search answer showed of it, brands, languages, a pre-score, how it was first found, and its
review status new / promoted / rejected with who, when and why) and ``leadsighting`` (every
source, seed, query, post and hop it was seen through, per run).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0018_leads"
down_revision = "0017_curation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("platform_user_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("handle_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("bio", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("texts", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("followers_approximate", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.Column("ip_location", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("brands", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("seed_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("seed", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("query", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("source_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("post_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("hop", sa.Integer(), nullable=False),
        sa.Column("via_account", sqlmodel.sql.sqltypes.AutoString(length=250), nullable=True),
        sa.Column("first_run_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sightings", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("status_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"]),
        sa.ForeignKeyConstraint(["first_run_id"], ["crawlrun.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "platform_user_id", name="uq_lead_platform_user_id"),
        sa.UniqueConstraint("platform", "handle_key", name="uq_lead_platform_handle"),
    )
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_platform"), ["platform"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_last_seen_at"), ["last_seen_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_index("ix_lead_status_score", ["status", "score"], unique=False)
    op.create_table(
        "leadsighting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("seed_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("seed", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("query", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("query_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("post_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("hop", sa.Integer(), nullable=False),
        sa.Column("via_account", sqlmodel.sql.sqltypes.AutoString(length=250), nullable=True),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["crawl_run_id"], ["crawlrun.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lead_id", "crawl_run_id", "source", "query_key", name="uq_leadsighting"),
    )
    with op.batch_alter_table("leadsighting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leadsighting_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leadsighting_crawl_run_id"), ["crawl_run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("leadsighting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leadsighting_crawl_run_id"))
        batch_op.drop_index(batch_op.f("ix_leadsighting_lead_id"))
    op.drop_table("leadsighting")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_status_score")
        batch_op.drop_index(batch_op.f("ix_lead_candidate_id"))
        batch_op.drop_index(batch_op.f("ix_lead_last_seen_at"))
        batch_op.drop_index(batch_op.f("ix_lead_platform"))
    op.drop_table("lead")
