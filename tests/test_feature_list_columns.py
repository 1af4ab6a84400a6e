"""The growth flags and the countries the review desk filters on are real ``featuresnapshot``
columns (migration 0020), filled by every enrich and, for rows stored before the columns
existed, by the migration from each row's feature document - on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from enrichment.schema import stored_columns
from storage.db import get_engine, session_scope, upgrade
from storage.desk import CohortQuery, cohort_page

#: name -> the feature document stored before migration 0020
DOCUMENTS = {
    "Spiky": {"growth_flags": ["spike", "round_jump"], "growth_authenticity": 40.0, "ip_countries": ["JP"]},
    "Clean": {"growth_flags": [], "growth_authenticity": 100.0, "declared_countries": ["US", "FR"]},
    "Unjudged": {"growth_flags": ["insufficient_history"], "ip_countries": ["US"], "declared_countries": ["US"]},
    "Unread": {},
}


def test_stored_columns_hold_the_lists_as_json_text_and_null_where_nothing_was_read() -> None:
    columns = stored_columns({"growth_flags": ["spike"], "ip_countries": ["US", "JP"], "declared_countries": ["JP"],
                              "growth_authenticity": 55.0, "followers_total": 10})
    assert json.loads(columns["growth_flags_text"]) == ["spike"]
    assert json.loads(columns["countries_text"]) == ["JP", "US"]
    assert columns["growth_authenticity"] == 55.0 and columns["followers_total"] == 10
    assert stored_columns({"growth_flags": []})["growth_flags_text"] == "[]"
    nothing = stored_columns({})
    assert nothing["growth_flags_text"] is None and nothing["countries_text"] is None
    assert nothing["growth_authenticity"] is None and nothing["followers_total"] is None


def _names(database_url: str, **query: object) -> set[str]:
    with session_scope(database_url) as session:
        return {row.display_name for row in cohort_page(session, CohortQuery(**query)).rows}  # type: ignore[arg-type]


def test_rows_stored_before_the_columns_are_filtered_after_the_upgrade(database_url: str) -> None:
    from alembic import command

    from storage.db import alembic_config

    command.downgrade(alembic_config(database_url), "0019_feature_ranked_at")
    with get_engine(database_url).begin() as connection:
        for name, document in DOCUMENTS.items():
            candidate_id = connection.execute(text(
                "INSERT INTO candidate (display_name, aliases, active, created_at, updated_at, name_key, alias_keys) "
                "VALUES (:name, '[]', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :key, '') RETURNING id"),
                {"name": name, "key": name.lower()}).scalar_one()
            connection.execute(text(
                "INSERT INTO featuresnapshot (candidate_id, computed_at, as_of, schema_version, features, top_contributors) "
                "VALUES (:cid, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '2', :features, '{}')"),
                {"cid": candidate_id, "features": json.dumps(document)})
    upgrade(database_url)

    assert _names(database_url, flags=("suspicious",)) == {"Spiky"}
    assert _names(database_url, flags=("round_jump",)) == {"Spiky"}
    assert _names(database_url, flags=("clean",)) == {"Clean"}
    assert _names(database_url, flags=("unjudged",)) == {"Unjudged"}
    assert _names(database_url, flags=("clean", "spike")) == {"Clean", "Spiky"}
    assert _names(database_url, countries=("US",)) == {"Clean", "Unjudged"}
    assert _names(database_url, countries=("JP", "FR")) == {"Spiky", "Clean"}
    assert _names(database_url, countries=("%",)) == set()  # a LIKE wildcard is a literal character
    assert _names(database_url) == set(DOCUMENTS)
    with session_scope(database_url) as session:
        authenticity = dict(session.execute(text(
            "SELECT c.display_name, f.growth_authenticity FROM featuresnapshot f JOIN candidate c ON c.id = f.candidate_id"
        )).all())
    assert authenticity == {"Spiky": 40.0, "Clean": 100.0, "Unjudged": None, "Unread": None}


@pytest.mark.parametrize("flag", ["suspicious", "clean", "unjudged"])
def test_a_row_without_growth_data_is_in_no_verdict(database_url: str, flag: str) -> None:
    upgrade(database_url)
    with get_engine(database_url).begin() as connection:
        connection.execute(text(
            "INSERT INTO candidate (display_name, aliases, active, created_at, updated_at, name_key, alias_keys) "
            "VALUES ('Nobody', '[]', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'nobody', '')"))
    assert _names(database_url, flags=(flag,)) == set()
