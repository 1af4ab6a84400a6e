"""press feed failures

Revision ID: 0006_press_failures
Revises: 0005_reliability

``fetchfailure.candidate_id``: a Google News or GDELT search that answered with a typed
failure (rate_limited, blocked, unrecognized, network, ...) is stored as a ``fetchfailure``
row naming the candidate whose aliases were searched (``platform`` is the feed:
``google_news`` or ``gdelt``; ``account_id`` stays NULL). Nullable: platform failures keep
naming their account only.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0006_press_failures"
down_revision = "0005_reliability"
branch_labels = None
depends_on = None

# Named so that SQLite's batch mode (which copies the table) can create and drop it; the
# name is PostgreSQL's own default for an unnamed key, as 0001's keys got there.
FOREIGN_KEY = "fetchfailure_candidate_id_fkey"


def upgrade() -> None:
    with op.batch_alter_table("fetchfailure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("candidate_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_fetchfailure_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_foreign_key(FOREIGN_KEY, "candidate", ["candidate_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("fetchfailure", schema=None) as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_fetchfailure_candidate_id"))
        batch_op.drop_column("candidate_id")
