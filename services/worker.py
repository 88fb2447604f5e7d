"""The round worker: claims queued rounds from the database and solves them.

Several API processes can each run one; the claim is a conditional UPDATE, so a round goes to
exactly one worker on SQLite and PostgreSQL alike. On PostgreSQL a worker beats its round's
heartbeat while solving; a running round whose heartbeat stopped (the process died) is marked
failed by the next worker that looks, so nobody waits for it forever. SQLite (the embedded,
single-process default) gets no heartbeat: its one writer at a time would block the round;
there, a worker that starts fails the rounds a dead process left running.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from models import MatchRound, RoundStatus
from services import audit
from services.clock import SYSTEM_CLOCK, Clock
from services.erasure import PURGED_PER_PASS, purge_closed
from services.proposals import expire_overdue
from services.rounds import RoundPhase, compute_round, store_result

logger = logging.getLogger("housing_match.worker")


class RoundWorker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        name: str,
        *,
        heartbeat_s: float | None = 5.0,
        stale_after_s: float = 60.0,
        retention_days: int | None = None,
        clock: Clock = SYSTEM_CLOCK,
        on_phase: Callable[[RoundPhase], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.on_phase = on_phase  # told when each phase of a round starts (bench/dbpath.py)
        self.clock = clock
        self.name = name
        self.heartbeat_s = heartbeat_s
        self.stale_after = timedelta(seconds=stale_after_s)
        self.retention_days = retention_days  # None: closed cases are kept
        self.purged_on: date | None = None

    def reap_stale(self, *, all_running: bool = False) -> list[int]:
        """Mark failed the running rounds whose worker stopped beating (or, with
        `all_running`, every running round: see recover_at_start)."""
        limit = self.clock.now() - self.stale_after
        with self.sessions() as session, session.begin():
            query = select(MatchRound.id).where(MatchRound.status == RoundStatus.RUNNING)
            if not all_running:
                query = query.where(MatchRound.heartbeat_at < limit)
            stale = session.scalars(query).all()
            for round_id in stale:
                audit.record(
                    session,
                    self.name,
                    "round.reaped",
                    "match_round",
                    round_id,
                    after={"status": "failed", "error": "worker stopped responding"},
                )
            if stale:
                session.execute(
                    update(MatchRound)
                    .where(MatchRound.id.in_(stale), MatchRound.status == RoundStatus.RUNNING)
                    .values(
                        status=RoundStatus.FAILED,
                        error="its worker stopped responding; queue the round again",
                        finished_at=self.clock.now(),
                    )
                )
        return list(stale)

    def claim(self) -> int | None:
        with self.sessions() as session, session.begin():
            candidates = session.scalars(
                select(MatchRound.id)
                .where(MatchRound.status == RoundStatus.QUEUED)
                .order_by(MatchRound.id)
                .limit(5)
            ).all()
            now = self.clock.now()
            for round_id in candidates:
                claimed = session.execute(
                    update(MatchRound)
                    .where(MatchRound.id == round_id, MatchRound.status == RoundStatus.QUEUED)
                    .values(
                        status=RoundStatus.RUNNING,
                        worker=self.name,
                        started_at=now,
                        heartbeat_at=now,
                    )
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    return round_id
        return None

    def _beat(self, round_id: int, done: threading.Event) -> None:
        assert self.heartbeat_s is not None
        while not done.wait(self.heartbeat_s):
            with self.sessions() as session, session.begin():
                session.execute(
                    update(MatchRound)
                    .where(MatchRound.id == round_id, MatchRound.worker == self.name)
                    .values(heartbeat_at=self.clock.now())
                )

    def _beats(self) -> bool:
        # SQLite has one writer at a time: a heartbeat would fight the round's own write.
        # The embedded default runs one worker, so there is no one to notice a death anyway.
        with self.sessions() as session:
            return self.heartbeat_s is not None and session.get_bind().dialect.name != "sqlite"

    def execute(self, round_id: int) -> None:
        done = threading.Event()
        beat = None
        if self._beats():
            beat = threading.Thread(target=self._beat, args=(round_id, done), daemon=True)
            beat.start()
        try:
            with self.sessions() as session, session.begin():
                bind = session.get_bind()
                if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
                    # One consistent snapshot of households and units for the whole read.
                    # (Tests bind sessions to a connection already in a transaction.)
                    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                policy = session.scalars(
                    select(MatchRound.policy).where(MatchRound.id == round_id)
                ).one()
                solved = compute_round(session, policy, self.on_phase)
            # Stored apart: the heartbeat keeps updating the round row meanwhile, which a
            # REPEATABLE READ transaction could not update after it.
            with self.sessions() as session, session.begin():
                match_round = session.get(MatchRound, round_id)
                assert match_round is not None
                if match_round.status is not RoundStatus.RUNNING or match_round.worker != self.name:
                    return  # reaped meanwhile: the round was given up on
                if self.on_phase is not None:
                    self.on_phase("storing")
                store_result(session, match_round, solved, self.clock.now())
        except Exception as error:
            # The type only in the log: a message could carry personal data.
            logger.error("round %s failed: %s", round_id, type(error).__name__)
            with self.sessions() as session, session.begin():
                session.execute(
                    update(MatchRound)
                    .where(MatchRound.id == round_id)
                    .values(
                        status=RoundStatus.FAILED,
                        error=f"{type(error).__name__}: {error}"[:2000],
                        finished_at=self.clock.now(),
                    )
                )
                audit.record(
                    session,
                    self.name,
                    "round.failed",
                    "match_round",
                    round_id,
                    after={"status": "failed", "error": type(error).__name__},
                )
        finally:
            done.set()
            if beat is not None:
                beat.join()

    def run_once(self) -> int | None:
        """Expire overdue proposals, reap dead rounds, claim and solve one round; its id,
        or None when nothing was queued."""
        today = self.clock.today()
        with self.sessions() as session, session.begin():
            expire_overdue(session, today)
        if self.retention_days is not None and self.purged_on != today:
            with self.sessions() as session, session.begin():
                erased = purge_closed(session, today, self.retention_days)
            if len(erased) < PURGED_PER_PASS:  # else a backlog: more on the next pass
                self.purged_on = today
        self.reap_stale()
        round_id = self.claim()
        if round_id is not None:
            self.execute(round_id)
        return round_id

    def recover_at_start(self) -> list[int]:
        """Without heartbeats (SQLite: one worker, in the `serve` process), a round still
        running when the worker starts was left by a process that died: fail it."""
        return [] if self._beats() else self.reap_stale(all_running=True)

    def run_forever(self, stop: threading.Event, poll_s: float = 1.0) -> None:
        self.recover_at_start()
        while not stop.is_set():
            try:
                if self.run_once() is None:
                    stop.wait(poll_s)
            except Exception as error:  # the database went away: wait and try again
                logger.error("worker loop: %s", type(error).__name__)
                stop.wait(poll_s * 5)
