"""Engines and the one place that owns a transaction."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker


def make_engine(
    database_url: str, *, ping_idle_after_s: float | None = None, **kwargs: Any
) -> Engine:
    """An engine; with `ping_idle_after_s`, a pooled connection idle longer than that is
    checked before use (see `_ping_when_idle`)."""
    engine = create_engine(database_url, **kwargs)
    if ping_idle_after_s is not None:
        _ping_when_idle(engine, ping_idle_after_s)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            # SQLite ignores foreign keys unless asked, per connection.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # pysqlite starts transactions lazily and commits on SAVEPOINT release, which
            # breaks nested transactions; let SQLAlchemy emit BEGIN itself (its documented
            # recipe for SQLite savepoints).
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")

    return engine


def _ping_when_idle(engine: Engine, seconds: float) -> None:
    """Ping a pooled connection before use if it sat idle over `seconds`; replace it if dead.

    SQLAlchemy's pool_pre_ping pings at every checkout: a round trip a request, a twentieth
    of a page's server time under load. A connection handed back within `seconds` is taken
    as alive: if the database restarted in that instant, that one request fails (503) and
    SQLAlchemy renews the whole pool. This is SQLAlchemy's documented pessimistic recipe
    (a checkout event raising DisconnectionError), with the dialect's own ping."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get("checked_in")
        if checked_in is None or time.monotonic() - checked_in <= seconds:
            return  # just opened, or just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops this connection and checks out another (up to three times).
            raise exc.DisconnectionError() from error


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit on success, roll back on any error: helpers only flush."""
    with factory() as session, session.begin():
        yield session
