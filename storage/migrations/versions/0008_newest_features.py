"""candidate_features_latest: the newest feature snapshot is the one describing the latest time

Revision ID: 0008_newest_features
Revises: 0007_joined_at

A candidate's newest feature snapshot was its highest id, the last computed, so a backdated
``enrich --as-of`` (or one far in the future, before ``--as-of`` was bounded) became the row
the view, the ranking and the service read. The rule now (``storage/features.py``
``_newest_ids``): the row with the greatest ``as_of``, and among rows describing the same time
the highest id. Plain SQL that SQLite and PostgreSQL both accept (a correlated subquery
ordered by ``as_of`` then ``id``, LIMIT 1; no window functions, no DISTINCT ON); the
``(candidate_id, as_of)`` index of 0003_features serves it. The view is dropped and created
again (a view's columns cannot be altered), so ``f.*`` also picks up the table's columns as
they are now. Downgrade restores 0003's highest-id view.
"""

from __future__ import annotations

from alembic import op

revision = "0008_newest_features"
down_revision = "0007_joined_at"
branch_labels = None
depends_on = None

VIEW = "candidate_features_latest"
SELECT = ("SELECT c.display_name AS display_name, f.* FROM featuresnapshot f "
          "JOIN candidate c ON c.id = f.candidate_id WHERE f.id = ")


def upgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    op.execute(
        f"CREATE VIEW {VIEW} AS {SELECT}"
        "(SELECT f2.id FROM featuresnapshot f2 WHERE f2.candidate_id = f.candidate_id "
        "ORDER BY f2.as_of DESC, f2.id DESC LIMIT 1)"
    )


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    op.execute(
        f"CREATE VIEW {VIEW} AS {SELECT}"
        "(SELECT MAX(f2.id) FROM featuresnapshot f2 WHERE f2.candidate_id = f.candidate_id)"
    )
