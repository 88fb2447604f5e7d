"""Database fixtures: every database test runs on SQLite and on the real PostgreSQL server.

The schema is created by the Alembic migrations (never create_all), once per backend and test
session, in a throw-away SQLite file or PostgreSQL schema. Each test then runs inside a
transaction that is rolled back, with the session's own commits turned into savepoints.
With CI=true an unreachable PostgreSQL fails the run; elsewhere those tests skip with a reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from models import migrate
from models.db import make_engine
from services.geocoding import GazetteerGeocoder, load_gazetteer
from services.settings import Settings
from tests.api import client, keys

__all__ = ["client", "keys"]  # HTTP fixtures, shared by the API tests

POSTGRES_URL = os.environ.get(
    "HOUSING_MATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ["sqlite", "postgresql"]


def postgres_reachable() -> str | None:
    """None when reachable, else why not."""
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        return str(error.orig).strip().splitlines()[0]
    finally:
        engine.dispose()
    return None


def require_postgres() -> None:
    problem = postgres_reachable()
    if problem is None:
        return
    message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {problem}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: PostgreSQL tests must run)", pytrace=False)
    pytest.skip(message)


class EmptyDatabase:
    """A fresh, empty database (no schema) of one backend, dropped afterwards."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp_path / f'test-{uuid.uuid4().hex[:8]}.sqlite3'}"
            self.schema = None
        else:
            require_postgres()
            self.schema = f"hm_test_{uuid.uuid4().hex[:12]}"
            admin = make_engine(POSTGRES_URL)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            self.url = f"{POSTGRES_URL}?options=-csearch_path%3D{self.schema}"

    def drop(self) -> None:
        if self.schema is not None:
            admin = make_engine(POSTGRES_URL)
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmptyDatabase]:
    """An empty database per test (for migration tests)."""
    database = EmptyDatabase(request.param, tmp_path)
    yield database
    database.drop()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database per backend for the whole session."""
    database = EmptyDatabase(request.param, tmp_path_factory.mktemp(request.param))
    migrate.upgrade(database.url)
    engine = make_engine(database.url)
    yield engine
    engine.dispose()
    database.drop()


@pytest.fixture
def connection(migrated_engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with migrated_engine.connect() as db_connection:
        outer = db_connection.begin()
        try:
            yield db_connection
        finally:
            outer.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session whose every change is rolled back after the test; its commits (and those of
    any other session on the same connection) become savepoints."""
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db_session
    finally:
        db_session.close()


@pytest.fixture(scope="session")
def geocoder() -> GazetteerGeocoder:
    return GazetteerGeocoder(load_gazetteer(Settings().gazetteer_path))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return Settings().fixtures_dir


# Hypothesis explores the same examples on every run, so the suite is deterministic;
# HYPOTHESIS_PROFILE=explore searches afresh (and keeps what it finds in .hypothesis/).
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
