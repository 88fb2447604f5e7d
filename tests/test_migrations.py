"""Migrations create the schema the models describe, and undo it, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

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
