"""dead letters and circuit-breaker state

Revision ID: 0005_reliability
Revises: 0004_ops

Reserved in the migration chain so parallel work lands in a fixed order; the tables are
added here by the change that introduces them.
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005_reliability"
down_revision = "0004_ops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
