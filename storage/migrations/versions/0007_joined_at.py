"""when an account was created

Revision ID: 0007_joined_at
Revises: 0006_press_failures

``profilesnapshot.joined_at``: the account's creation date as the platform states it
(YouTube's Data API ``snippet.publishedAt`` or the about panel's "Joined …", X's
``created_at``, TikTok's ``createTime``). Nullable: most platforms do not say, and a value
not read stays NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007_joined_at"
down_revision = "0006_press_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("profilesnapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("joined_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profilesnapshot", schema=None) as batch_op:
        batch_op.drop_column("joined_at")
