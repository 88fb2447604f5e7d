"""`housing-match serve`: an app is settled before it serves; with `--workers N` each process
listens on a socket of its own, and connections opened at once are spread across them."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cli.serving import settled
from tests.served import served_on_postgresql


def children(pid: int) -> list[int]:
    listed = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(child) for child in listed.split()]


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def tcp_sockets(port: int, state: str) -> set[int]:
    """Inodes of this host's IPv4 TCP sockets on local `port` in `state` (0A listening,
    01 established), from /proc/net/tcp."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found.add(int(fields[9]))
    return found


def test_each_process_listens_on_its_own_socket_and_gets_its_share(tmp_path: Path) -> None:
    with served_on_postgresql(tmp_path, processes=2) as served:
        assert served.process is not None
        port = int(served.url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 30
        while len(listening := tcp_sockets(port, "0A")) < 2:  # the second may still start
            assert time.monotonic() < deadline, "the second process did not listen in 30 s"
            time.sleep(0.1)
        # Processes other than the two servers (multiprocessing's own helper) hold no socket.
        servers = [pid for pid in children(served.process.pid) if socket_inodes(pid)]
        owned = [socket_inodes(pid) & listening for pid in servers]
        assert len(servers) == 2
        assert all(len(mine) == 1 for mine in owned), owned
        assert owned[0] != owned[1]
        assert not socket_inodes(served.process.pid) & listening  # the supervisor accepts none

        # 40 keep-alive connections opened in a burst, as a client pool or a proxy opens
        # them: a shared socket once gave most of them to whichever process woke first.
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        try:
            for connection in connections:  # each answered once: accepted by its process
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
                assert connection.recv(12).startswith(b"HTTP/1.1 200")
            established = tcp_sockets(port, "01")
            shares = [len(socket_inodes(pid) & established) for pid in servers]
            assert sum(shares) == 40
            # The kernel spreads them by a hash: both get at least 8 of 40 but for once in
            # about 20,000 runs.
            assert min(shares) >= 8, shares
        finally:
            for connection in connections:
                connection.close()
        assert httpx.get(f"{served.url}/healthz").status_code == 200

        # A second server on the same port is refused, not let in beside the first.
        second = subprocess.run(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--workers", "2"],
            env=os.environ | {"DATABASE_URL": served.database_url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0
        assert "address already in use" in second.stderr.lower(), second.stderr


def test_what_lives_when_an_app_is_settled_is_out_of_the_collectors_sight() -> None:
    """A full collection over the objects of a built app paused requests for 46 ms."""

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    kept, dropped = Cycle(), Cycle()
    del dropped  # garbage already: collected, not kept for ever
    before = gc.get_freeze_count()
    try:
        assert settled(kept) is kept
        assert gc.get_freeze_count() > before
        assert not any(type(thing) is Cycle for thing in gc.get_objects())  # none tracked
    finally:
        gc.unfreeze()
    assert sum(type(thing) is Cycle for thing in gc.get_objects()) == 1
