"""A served app for the tests that need a real server: `housing-match serve` in a process of
its own."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from models import ApiRole, Landlord, migrate
from models.db import make_engine, session_factory
from services.access import create_key
from tests.conftest import EmptyDatabase

# A round whose worker is silent this long fails: over the worker's 5 s heartbeat, short
# enough for a test to see a killed round reaped.
STALE_AFTER_S = "8"


@dataclass
class Served:
    """`housing-match serve` on a database; `start` runs it (again, after a kill)."""

    database_url: str
    landlord: dict[str, str]  # headers of a landlord key
    coordinator: dict[str, str]
    processes: int = 1  # serve --workers
    url: str = ""
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def of(cls, database_url: str, session: Session, processes: int = 1) -> Served:
        """To serve `database_url`, with a key of Dome Habitat (a landlord already there)
        and a coordinator's, made in `session`."""
        landlord = create_key(session, ApiRole.LANDLORD, "dome", "Dome Habitat")[1]
        coordinator = create_key(session, ApiRole.COORDINATOR, "prefecture")[1]
        return cls(
            database_url,
            {"Authorization": f"Bearer {landlord}"},
            {"Authorization": f"Bearer {coordinator}"},
            processes=processes,
        )

    def start(self) -> None:
        port = free_port()
        environment = os.environ | {
            "HOUSING_MATCH_DATABASE_URL": self.database_url,
            "DATABASE_URL": self.database_url,
            "HOUSING_MATCH_ROUND_STALE_AFTER_S": STALE_AFTER_S,
        }
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "cli.main", "serve"),
                *("--port", str(port), "--workers", str(self.processes)),
            ],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: `kill` reaches every process
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, "the server exited on start"
            assert time.monotonic() < deadline, "the server did not start within 30 s"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to every process of the server (with --workers, the supervisor's children
        would outlive it): no shutdown, no rollback by the server, no flush."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):  # gone already
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served_on_postgresql(tmp_path: Path, processes: int = 1) -> Iterator[Served]:
    """A migrated PostgreSQL schema with a landlord's and a coordinator's key, and
    `housing-match serve` on it (with its round worker)."""
    database = EmptyDatabase("postgresql", tmp_path)
    try:
        migrate.upgrade(database.url)
        engine = make_engine(database.url)
        with session_factory(engine)() as session, session.begin():
            session.add(Landlord(name="Dome Habitat"))
            session.flush()
            server = Served.of(database.url, session, processes)
        engine.dispose()
        try:
            server.start()
            yield server
        finally:
            if server.process is not None:
                server.kill()
    finally:
        database.drop()
