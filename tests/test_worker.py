"""The round worker against a real, committed database (no rolled-back test transaction):
claims, snapshot isolation on PostgreSQL, heartbeats and reaping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import ApiRole, AuditEvent, MatchRound, RoundStatus, migrate
from models.db import make_engine, session_factory, transaction
from services.access import Actor
from services.geocoding import GazetteerGeocoder
from services.imports import load_fixtures
from services.roundfile import PolicyIn
from services.rounds import queue_round
from services.settings import Settings
from services.worker import RoundWorker
from tests.conftest import EmptyDatabase

COORDINATOR = Actor(key_id=None, role=ApiRole.COORDINATOR, name="test")


@pytest.fixture
def sessions(empty_database: EmptyDatabase) -> Iterator[sessionmaker[Session]]:
    migrate.upgrade(empty_database.url)
    engine = make_engine(empty_database.url)
    yield session_factory(engine)
    engine.dispose()


def queue(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as session:
        match_round = queue_round(
            session, COORDINATOR, PolicyIn.model_validate({}), date(2026, 12, 1)
        )
        return match_round.id


def test_worker_solves_a_queued_round_with_heartbeats(
    sessions: sessionmaker[Session], geocoder: GazetteerGeocoder
) -> None:
    """A queued round over the fixtures is claimed, solved in its own transaction (REPEATABLE
    READ on PostgreSQL) while a heartbeat thread runs, and stored."""
    with transaction(sessions) as session:
        load_fixtures(session, Settings().fixtures_dir, geocoder)
    round_id = queue(sessions)
    worker = RoundWorker(sessions, "w1", heartbeat_s=0.01)
    assert worker.run_once() == round_id
    with sessions() as session:
        match_round = session.get(MatchRound, round_id)
        assert match_round is not None
        assert match_round.status is RoundStatus.SOLVED
        assert match_round.worker == "w1"
        assert match_round.statistics is not None
        assert match_round.statistics["matched"] > 0
    assert worker.run_once() is None  # nothing left to do


def test_a_round_goes_to_exactly_one_worker(sessions: sessionmaker[Session]) -> None:
    """Two workers claiming the same queued round: the first gets it, the second nothing."""
    round_id = queue(sessions)
    assert RoundWorker(sessions, "a").claim() == round_id
    assert RoundWorker(sessions, "b").claim() is None


def test_a_round_whose_worker_died_is_failed(sessions: sessionmaker[Session]) -> None:
    """A running round whose heartbeat stopped a while ago is marked failed, with a reason."""
    round_id = queue(sessions)
    assert RoundWorker(sessions, "dead").claim() == round_id
    with transaction(sessions) as session:
        match_round = session.get(MatchRound, round_id)
        assert match_round is not None
        match_round.heartbeat_at = datetime.now(UTC) - timedelta(minutes=10)
    assert RoundWorker(sessions, "alive", stale_after_s=60).reap_stale() == [round_id]
    with sessions() as session:
        failed = session.scalars(select(MatchRound).where(MatchRound.id == round_id)).one()
        assert failed.status is RoundStatus.FAILED
        assert failed.error is not None
        assert "stopped responding" in failed.error
        actions = session.scalars(select(AuditEvent.action)).all()
        assert "round.reaped" in actions


def test_without_heartbeats_a_new_worker_fails_rounds_left_running(
    sessions: sessionmaker[Session],
) -> None:
    """On SQLite (no heartbeats) a starting worker fails what a dead process left running;
    on PostgreSQL it leaves them to the heartbeat check."""
    round_id = queue(sessions)
    assert RoundWorker(sessions, "died").claim() == round_id
    recovered = RoundWorker(sessions, "restarted").recover_at_start()
    with sessions() as session:
        dialect = session.get_bind().dialect.name
        status = session.scalars(select(MatchRound.status).where(MatchRound.id == round_id)).one()
    if dialect == "sqlite":
        assert recovered == [round_id]
        assert status is RoundStatus.FAILED
    else:
        assert recovered == []
        assert status is RoundStatus.RUNNING
