"""raw archive index, drift captures, probe results; reparsed snapshots

Revision ID: 0014_archive
Revises: 0013_other_user_id

Issue 16 items 4-6:

* ``archivecapture``: one row per answer a crawl received and kept in its WARC files
  (``WANGZI_ARCHIVE_DIR``), found by the payload hash snapshots carry;
* ``driftcapture``: answers a parser called ``unrecognized`` (``wangzi drift``);
* ``proberesult``: what ``wangzi health --probe`` found per platform;
* ``profilesnapshot.reparse_of``: the capture a ``wangzi reparse`` row was re-read from, and the
  parser version joins the snapshot's unique key (``uq_snapshot_run_payload_version``), so a
  reparse appends a new version's reading to the run that captured the answer and a second
  reparse adds nothing. On SQLite the constraint change rebuilds the table (batch mode).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014_archive"
down_revision = "0013_other_user_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archivecapture",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("captured_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("platform_user_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("payload_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("warc_file", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("warc_offset", sa.BigInteger(), nullable=False),
        sa.Column("warc_length", sa.BigInteger(), nullable=False),
        sa.Column("warc_record_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("expired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["crawl_run_id"], ["crawlrun.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("archivecapture", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archivecapture_captured_at"), ["captured_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_archivecapture_platform"), ["platform"], unique=False)
        batch_op.create_index(batch_op.f("ix_archivecapture_payload_sha256"), ["payload_sha256"], unique=False)
        batch_op.create_index("ix_archivecapture_run_platform", ["crawl_run_id", "platform"], unique=False)

    op.create_table(
        "driftcapture",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("captured_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("parser", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("parser_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("shape", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("shape_summary", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("payload_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["crawl_run_id"], ["crawlrun.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "payload_sha256", "parser_version", name="uq_driftcapture_payload"),
    )
    with op.batch_alter_table("driftcapture", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_driftcapture_captured_at"), ["captured_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_driftcapture_platform"), ["platform"], unique=False)
        batch_op.create_index(batch_op.f("ix_driftcapture_shape"), ["shape"], unique=False)

    op.create_table(
        "proberesult",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("probed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("parser", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("parser_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(["crawl_run_id"], ["crawlrun.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("proberesult", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proberesult_probed_at"), ["probed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_proberesult_platform"), ["platform"], unique=False)

    with op.batch_alter_table("profilesnapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reparse_of", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_profilesnapshot_reparse_of"), ["reparse_of"], unique=False)
        batch_op.create_foreign_key("fk_profilesnapshot_reparse_of", "archivecapture", ["reparse_of"], ["id"])
        batch_op.drop_constraint("uq_snapshot_run_payload", type_="unique")
        batch_op.create_unique_constraint(
            "uq_snapshot_run_payload_version", ["account_id", "crawl_run_id", "payload_sha256", "parser_version"]
        )


def downgrade() -> None:
    with op.batch_alter_table("profilesnapshot", schema=None) as batch_op:
        batch_op.drop_constraint("uq_snapshot_run_payload_version", type_="unique")
        batch_op.create_unique_constraint("uq_snapshot_run_payload", ["account_id", "crawl_run_id", "payload_sha256"])
        batch_op.drop_constraint("fk_profilesnapshot_reparse_of", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_profilesnapshot_reparse_of"))
        batch_op.drop_column("reparse_of")
    with op.batch_alter_table("proberesult", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proberesult_platform"))
        batch_op.drop_index(batch_op.f("ix_proberesult_probed_at"))
    op.drop_table("proberesult")
    with op.batch_alter_table("driftcapture", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_driftcapture_shape"))
        batch_op.drop_index(batch_op.f("ix_driftcapture_platform"))
        batch_op.drop_index(batch_op.f("ix_driftcapture_captured_at"))
    op.drop_table("driftcapture")
    with op.batch_alter_table("archivecapture", schema=None) as batch_op:
        batch_op.drop_index("ix_archivecapture_run_platform")
        batch_op.drop_index(batch_op.f("ix_archivecapture_payload_sha256"))
        batch_op.drop_index(batch_op.f("ix_archivecapture_platform"))
        batch_op.drop_index(batch_op.f("ix_archivecapture_captured_at"))
    op.drop_table("archivecapture")
