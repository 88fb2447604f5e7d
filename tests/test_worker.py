"""The round worker against a real, committed database (no rolled-back test transaction):
claims, snapshot isolation on PostgreSQL, heartbeats and reaping."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import ApiRole, AuditEvent, Household, MatchRound, RoundStatus, Unit, migrate
from models.db import make_engine, session_factory, transaction
from services import rounds
from services.access import Actor
from services.errors import StaleRound
from services.geocoding import GazetteerGeocoder
from services.imports import load_fixtures
from services.rounds import queue_round
from services.settings import Settings
from services.territories import ScopedPolicyIn
from services.worker import RoundWorker
from tests.conftest import EmptyDatabase
from tests.factories import CLOCK

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
            session, COORDINATOR, ScopedPolicyIn.model_validate({}), date(2026, 12, 1)
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


def _split_into_two_departements(
    sessions: sessionmaker[Session], geocoder: GazetteerGeocoder
) -> None:
    """The fixtures (all Puy-de-Dôme) with every other household followed, and every other
    unit found, in the Allier (03)."""
    with transaction(sessions) as session:
        load_fixtures(session, Settings().fixtures_dir, geocoder)
        for household in session.scalars(select(Household).order_by(Household.id)).all()[::2]:
            household.territory = "03"
        for unit in session.scalars(select(Unit).order_by(Unit.id)).all()[::2]:
            unit.postcode, unit.commune = "03100", "Montluçon"


def _queue_for(sessions: sessionmaker[Session], *departements: str) -> int:
    policy = ScopedPolicyIn.model_validate({"territory": {"departements": list(departements)}})
    with transaction(sessions) as session:
        return queue_round(session, COORDINATOR, policy, date(2026, 12, 1)).id


def _in_thread(work: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_two_territories_rounds_run_and_publish_side_by_side(
    sessions: sessionmaker[Session], geocoder: GazetteerGeocoder
) -> None:
    """Two workers solve the rounds of two départements at the same time; one round
    publishes while the other's publish holds its locks (nothing they share is locked);
    a round over both départements, solved from the same state, is then refused as stale,
    naming households of each."""
    with sessions() as session:
        if session.get_bind().dialect.name == "sqlite":
            pytest.skip("SQLite has one writer at a time: the embedded default runs one worker")
    _split_into_two_departements(sessions, geocoder)
    puy, allier = _queue_for(sessions, "63"), _queue_for(sessions, "03")
    workers = [RoundWorker(sessions, "w63"), RoundWorker(sessions, "w03")]
    assert [worker.claim() for worker in workers] == [puy, allier]
    both = _queue_for(sessions, "63", "03")
    solving = [
        _in_thread(partial(worker.execute, round_id))
        for worker, round_id in zip(workers, [puy, allier], strict=True)
    ]
    assert RoundWorker(sessions, "w-both").run_once() == both
    for thread in solving:
        thread.join(timeout=120)
        assert not thread.is_alive()
    with sessions() as session:
        snapshots = {
            r.id: r.snapshot for r in session.scalars(select(MatchRound)) if r.snapshot is not None
        }
    assert set(snapshots) == {puy, allier, both}
    read = {round_id: set(snapshot["households"]) for round_id, snapshot in snapshots.items()}
    assert read[puy]
    assert read[allier]
    assert read[puy].isdisjoint(read[allier])
    assert read[both] == read[puy] | read[allier]

    # The Puy-de-Dôme's publish holds its rows locked while the Allier's runs to its end.
    done: list[int] = []

    def publish_allier() -> None:
        with transaction(sessions) as session:
            done.append(
                len(rounds.publish_round(session, COORDINATOR, allier, CLOCK, 10).proposal_ids)
            )

    with sessions() as holding:
        holding.begin()
        assert rounds.publish_round(holding, COORDINATOR, puy, CLOCK, 10).proposal_ids
        other = _in_thread(publish_allier)
        other.join(timeout=30)
        blocked = other.is_alive()
        holding.commit()  # on failure too: a blocked thread must not outlive the test
    other.join(timeout=30)
    assert not blocked, "the Allier's publish waited for the Puy-de-Dôme's"
    assert done[0] > 0

    with transaction(sessions) as session, pytest.raises(StaleRound) as stale:
        rounds.publish_round(session, COORDINATOR, both, CLOCK, 10)
    changed = set(stale.value.changed)
    assert changed & {f"household {h}" for h in read[puy]}
    assert changed & {f"household {h}" for h in read[allier]}
