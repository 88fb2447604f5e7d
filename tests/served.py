"""A served app for the tests that need a real server: `housing-match serve` in a process of
its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

# A round whose worker is silent this long fails: over the worker's 5 s heartbeat, short
# enough for a test to see a killed round reaped.
STALE_AFTER_S = "8"


@dataclass
class Served:
    """`housing-match serve` on a database; `start` runs it (again, after a kill)."""

    database_url: str
    landlord: dict[str, str]  # headers of a landlord key
    coordinator: dict[str, str]
    url: str = ""
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        port = free_port()
        environment = os.environ | {
            "HOUSING_MATCH_DATABASE_URL": self.database_url,
            "DATABASE_URL": self.database_url,
            "HOUSING_MATCH_ROUND_STALE_AFTER_S": STALE_AFTER_S,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
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
        """SIGKILL: no shutdown, no rollback by the server, no flush."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
