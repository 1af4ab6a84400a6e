"""crawl leases and refresh state

Revision ID: 0004_ops
Revises: 0003_features

Reserved in the migration chain so parallel work lands in a fixed order; the tables are
added here by the change that introduces them.
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004_ops"
down_revision = "0003_features"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
