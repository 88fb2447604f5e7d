"""Engines: a pooled connection that died while idle is replaced before a request uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from models.db import make_engine
from tests.conftest import POSTGRES_URL, require_postgres


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        pid: int = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        return pid


def terminate(pid: int) -> None:
    """What a restart of PostgreSQL does to a pooled connection."""
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_a_connection_that_died_idle_is_pinged_and_replaced() -> None:
    require_postgres()
    engine = make_engine(POSTGRES_URL, ping_idle_after_s=0.0, pool_size=1, max_overflow=0)
    try:
        first = backend_pid(engine)
        assert backend_pid(engine) == first  # the pool hands the same connection back
        terminate(first)
        assert backend_pid(engine) != first  # pinged, found dead, replaced: no error
    finally:
        engine.dispose()


def test_a_connection_used_lately_is_not_pinged() -> None:
    """Within `ping_idle_after_s` the connection is taken as alive: killed in that instant,
    the request that uses it fails (a 503 in the API) and the pool is renewed after it."""
    require_postgres()
    engine = make_engine(POSTGRES_URL, ping_idle_after_s=3600.0, pool_size=1, max_overflow=0)
    try:
        first = backend_pid(engine)
        terminate(first)
        with pytest.raises(OperationalError):
            backend_pid(engine)
        assert backend_pid(engine) != first
    finally:
        engine.dispose()
