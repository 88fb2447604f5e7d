"""How `serve` runs its processes: each app settled before it serves (`settled`), and
several processes each with its own listening socket on the same port.

uvicorn's `--workers` binds one socket that every process accepts from. A process that
wakes first accepts every connection waiting (asyncio accepts up to the backlog at once),
so keep-alive connections opened in a burst (a load balancer's, a client pool's) landed
mostly on one process: at 350 requests a second over 64 connections, one process took
most of them and the p50 was 130 ms while the other idled. With SO_REUSEPORT each
process listens on a socket of its own and the kernel spreads connections across them.

uvicorn's supervisor (restarts of dead processes, signals) is kept: it hands each new
process the `sockets` it was given, pickled, and `ProcessSocket` unpickles in the new
process as a socket bound there, so that no two processes share one."""

from __future__ import annotations

import gc
import logging
import socket
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

App = TypeVar("App")


def bound_socket(host: str, port: int, shared: bool = True) -> socket.socket:
    """A socket bound to host:port; `shared`, beside those of the other processes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class ProcessSocket(list[socket.socket]):
    """Empty in the supervisor; in each server process, a socket of its own."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[Any, ...]:
        return _own_socket, (self.host, self.port)


def _own_socket(host: str, port: int) -> list[socket.socket]:
    return [bound_socket(host, port)]


def settled(app: App) -> App:
    """`app`, built, before its process serves: what lives now lives as long as the process,
    so it is moved out of the garbage collector's sight (gc.freeze). A full collection
    walked those 150,000 objects in 46 ms, a pause in the middle of requests: it made most
    of a page's p99 at 500 requests a second (docs/benchmarks.md)."""
    gc.collect()  # what is garbage already must not be kept for ever
    gc.freeze()
    return app


def app_of_process() -> FastAPI:
    """The app factory of each server process."""
    from api.app import create_app

    return settled(create_app())


def serve_processes(app: str, host: str, port: int, processes: int) -> None:
    """Serve the app factory `app` ("module:function") from `processes` processes."""
    config = uvicorn.Config(app, factory=True, host=host, port=port, workers=processes)
    logger = logging.getLogger("uvicorn.error")
    try:
        # Unshared, this fails if anything listens there, another `serve` too: with
        # SO_REUSEPORT alone, a second server would silently take half the connections.
        bound_socket(host, port, shared=False).close()
    except OSError as error:
        logger.error(error)
        raise SystemExit(STARTUP_FAILURE) from None
    logger.info("Uvicorn running on http://%s:%d with %d processes", host, port, processes)
    Multiprocess(config, sockets=ProcessSocket(host, port)).run()
