"""featuresnapshot: growth authenticity, growth flags and countries as real columns

Revision ID: 0020_feature_list_columns
Revises: 0019_feature_ranked_at

The review desk filters the cohort on growth flags and on countries (an IP location or a
declared place). Read out of the feature document, each value cost a parse of the whole
document per row - on PostgreSQL's ``json`` about 16 µs, so a suspicious-flag view took
~240 ms a pass over 10,000 candidates. ``growth_authenticity`` becomes a column like the other
stored features; ``growth_flags_text`` holds the flags list as JSON text and
``countries_text`` the sorted union of ``ip_countries`` and ``declared_countries`` as JSON
text (``enrichment.schema.stored_columns`` fills them on every new row). Existing rows are
filled from their documents here, so the desk's filters see them without a forced enrich.
``candidate_features_latest`` is created again (PostgreSQL expands ``f.*`` when a view is
created; same rule as 0010_reference_scores).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0020_feature_list_columns"
down_revision = "0019_feature_ranked_at"
branch_labels = None
depends_on = None

VIEW = "candidate_features_latest"
NEWEST = ("SELECT c.display_name AS display_name, f.* FROM featuresnapshot f JOIN candidate c ON c.id = f.candidate_id "
          "WHERE f.id = (SELECT f2.id FROM featuresnapshot f2 WHERE f2.candidate_id = f.candidate_id "
          "ORDER BY f2.as_of DESC, f2.id DESC LIMIT 1)")
BATCH = 1000


def _columns(document: Any) -> dict[str, Any]:
    # What enrichment.schema.stored_columns gives these three columns (a migration is a frozen
    # copy: it does not import the layer above storage).
    features = json.loads(document) if isinstance(document, str) else (document or {})
    flags = features.get("growth_flags")
    ip, declared = features.get("ip_countries"), features.get("declared_countries")
    authenticity = features.get("growth_authenticity")
    return {
        "authenticity": float(authenticity) if isinstance(authenticity, (int, float)) else None,
        "flags": json.dumps(list(flags)) if isinstance(flags, list) else None,
        "countries": (json.dumps(sorted({*(ip or ()), *(declared or ())}))
                      if isinstance(ip, list) or isinstance(declared, list) else None),
    }


def _backfill() -> None:
    bind = op.get_bind()
    select = sa.text("SELECT id, features FROM featuresnapshot WHERE id > :after ORDER BY id LIMIT :n")
    update = sa.text("UPDATE featuresnapshot SET growth_authenticity = :authenticity, growth_flags_text = :flags, "
                     "countries_text = :countries WHERE id = :id")
    after = 0
    while True:
        rows = bind.execute(select, {"after": after, "n": BATCH}).all()
        if not rows:
            return
        values = [{"id": row_id, **_columns(document)} for row_id, document in rows]
        changed = [value for value in values if any(value[k] is not None for k in ("authenticity", "flags", "countries"))]
        if changed:
            bind.execute(update, changed)
        after = rows[-1][0]


def upgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    with op.batch_alter_table("featuresnapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("growth_authenticity", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("growth_flags_text", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("countries_text", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.execute(f"CREATE VIEW {VIEW} AS {NEWEST}")
    _backfill()


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    with op.batch_alter_table("featuresnapshot", schema=None) as batch_op:
        for name in ("countries_text", "growth_flags_text", "growth_authenticity"):
            batch_op.drop_column(name)
    op.execute(f"CREATE VIEW {VIEW} AS {NEWEST}")
