"""an account's second platform id

Revision ID: 0013_other_user_id
Revises: 0012_outcomes

``account.other_user_id``: the platform's second id for the same account, when its answers
name both (``records.Profile.other_user_id``): Douyin's numeric ``uid`` beside the ``sec_uid``
kept in ``platform_user_id``, TikTok's ``secUid`` beside its numeric id. Learnt like the id and
handle (``storage.writer``): filled when empty, never overwritten. NULL for every existing row:
they are filled by the next crawl of the account.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013_other_user_id"
down_revision = "0012_outcomes"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, as in 0009 and 0011: a nullable column is added, and dropped (SQLite
# 3.35+), in place on both databases, without the batch mode's copy of the table.


def upgrade() -> None:
    op.add_column("account", sa.Column("other_user_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("account", "other_user_id")
