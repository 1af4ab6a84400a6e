"""who runs a crawl, and when it was last seen alive

Revision ID: 0009_run_liveness
Revises: 0008_newest_features

``crawlrun.owner`` ("host:pid:token" of the process running it) and ``crawlrun.heartbeat_at``
(stamped while it runs): a run left ``running`` by a process that was killed is marked
``interrupted`` by the next command that looks (``storage/runs.py`` ``interrupt_dead_runs``).
Existing runs keep NULL in both: a run that is still ``running`` from before this migration has
no process to ask, so its start time stands in for its heartbeat.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009_run_liveness"
down_revision = "0008_newest_features"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: SQLite's batch mode copies the table and drops the original,
# which its foreign keys refuse once runs are referenced (snapshots, failures, leases). Both
# databases add and drop (SQLite 3.35+) a nullable column in place.


def upgrade() -> None:
    op.add_column("crawlrun", sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    op.add_column("crawlrun", sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("crawlrun", "heartbeat_at")
    op.drop_column("crawlrun", "owner")
