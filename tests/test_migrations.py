"""Migrations create the schema the models describe, and undo it, on both databases."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from models import Base, migrate
from models.db import make_engine
from tests.conftest import EmptyDatabase

TABLES = {
    "landlords",
    "units",
    "households",
    "workplaces",
    "match_rounds",
    "proposals",
    "exclusions",
    "audit_events",
    "api_keys",
    "idempotent_requests",
    "move_in_checklists",
    "web_sessions",
    "overrides",
}


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_creates_every_table(empty_database: EmptyDatabase) -> None:
    """`db upgrade` on an empty database creates every table and records the head revision."""
    migrate.upgrade(empty_database.url)
    assert table_names(empty_database.url) == TABLES
    assert migrate.current(empty_database.url) == migrate.head()


def test_migrated_schema_matches_the_models(empty_database: EmptyDatabase) -> None:
    """The migrations and the SQLAlchemy models describe the same schema (no pending diff)."""
    migrate.upgrade(empty_database.url)
    engine = make_engine(empty_database.url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_downgrade_base_removes_everything_and_upgrade_again_works(
    empty_database: EmptyDatabase,
) -> None:
    """`downgrade base` leaves no table behind, and the schema can be rebuilt after it."""
    migrate.upgrade(empty_database.url)
    migrate.downgrade(empty_database.url, "base")
    assert table_names(empty_database.url) == set()
    assert migrate.current(empty_database.url) is None
    migrate.upgrade(empty_database.url)
    assert table_names(empty_database.url) == TABLES


def test_0004_takes_private_fields_out_of_stored_audit_payloads(
    empty_database: EmptyDatabase,
) -> None:
    """Household events written before 0004 held urgent_reason and application_number; after
    it they hold neither, the rest of each payload and the other entities' events unchanged."""
    migrate.upgrade(empty_database.url, "0003")
    engine = make_engine(empty_database.url)
    payload = {"reference": "HH-1", "urgent_reason": "shelter closes", "application_number": "0631"}
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_events (actor, action, entity, entity_id, before, after) "
                    "VALUES ('c', 'household.created', 'household', '1', NULL, :after), "
                    "('a', 'landlord.created', 'landlord', '1', NULL, :after)"
                ),
                {"after": json.dumps(payload)},
            )
        migrate.upgrade(empty_database.url)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT entity, after FROM audit_events ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    after = {
        entity: value if isinstance(value, dict) else json.loads(value) for entity, value in rows
    }
    assert after["household"] == {"reference": "HH-1"}
    assert after["landlord"] == payload


def test_0009_moves_a_rounds_snapshot_out_of_its_result_and_back(
    empty_database: EmptyDatabase,
) -> None:
    """Results stored before 0009 held the rows read under "snapshot"; after it the result is
    the public document and the rows read are a column of their own; a downgrade puts them
    back. A round without a result is left alone."""
    migrate.upgrade(empty_database.url, "0008")
    engine = make_engine(empty_database.url)
    snapshot = {"households": {"HH-1": [1, 2]}, "units": {"Dome/A": [3, 1]}}
    public = {"stats": {"matched": 1}, "matches": [{"household": "HH-1", "unit": "Dome/A"}]}

    def stored(columns: str) -> list[tuple[object, ...]]:
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT {columns} FROM match_rounds ORDER BY id"))
            return [tuple(json.loads(v) if isinstance(v, str) else v for v in row) for row in rows]

    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO match_rounds (policy, status, result, created_by, created_at, "
                    "updated_at) VALUES ('{}', 'solved', :result, 'c', :now, :now), "
                    "('{}', 'queued', NULL, 'c', :now, :now)"
                ),
                {"result": json.dumps(public | {"snapshot": snapshot}), "now": "2026-12-01"},
            )
        migrate.upgrade(empty_database.url)
        assert stored("result, snapshot") == [(public, snapshot), (None, None)]
        migrate.downgrade(empty_database.url, "0008")
        assert stored("result") == [(public | {"snapshot": snapshot},), (None,)]
    finally:
        engine.dispose()
