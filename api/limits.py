"""Request bodies are bounded before the app reads them: one key must not be able to hold the
server's memory or time with a single request.

A declared Content-Length over the limit is refused with 413 at once, unread; a body without
one (chunked) is read up to the limit and refused as soon as it passes it. The limit is larger
for the import routes, which take whole files."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio

from api.errors import PROBLEM, TYPE_BASE, ReaderStalled

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_import(path: str) -> bool:
    """The routes that take whole files."""
    return path.rstrip("/").endswith("/import")


# What a long request's path ends with, by method: its work grows with a file or a round.
LONG_ENDINGS = {
    "POST": ("/import", "/publish"),
    "GET": ("/result", "/report", "/export.xlsx"),
}


def is_long(method: str, path: str) -> bool:
    """A request that may take seconds: an import, a publication, a round's result, report
    or export."""
    return path.rstrip("/").endswith(LONG_ENDINGS.get(method, ()))


# A long response whose reader takes nothing for this long is abandoned: its turn (and the
# database connection of a streamed result) must not be held for ever by a client that
# stopped reading. A reader of a megabyte chunk then needs 17 kB/s.
STALLED_AFTER_S = 60.0


class Admission:
    """ASGI middleware: at most `most` requests in the app at once, and `most_long` long ones
    (`is_long`) besides, the others waiting their turn in arrival order, holding nothing.

    A sync route takes several trips to the threadpool (dependencies, the route, checking
    its response, the commit) and holds its database connection between them. Let in
    without a bound, requests once held every connection while waiting for a thread, as
    threads waited for a connection: 100 concurrent clients froze a server until its pool
    timed out, with 500s. With at most `most + most_long` requests in, and a connection for
    each (api/app.py), no request waits for a connection; and fewer threads contend for
    Python's lock (at 32 clients, a request took twice the CPU it takes alone).

    Long requests have turns of their own: imports taking seconds each, as many as there are
    turns, would otherwise queue every short request of the process behind them.

    A short request's turn ends when its response starts: the transaction has ended by then
    (api/deps.py) and a slow reader holds no turn. A long request's turn ends with its
    response: a round's result streams from the database on a connection of its own, so
    slow readers of results hold at most `most_long` connections, never the whole pool."""

    def __init__(
        self, app: App, most: int, most_long: int, stalled_after_s: float = STALLED_AFTER_S
    ) -> None:
        self.app = app
        self.turns = anyio.Semaphore(most, fast_acquire=True)
        self.long_turns = anyio.Semaphore(most_long, fast_acquire=True)
        self.stalled_after_s = stalled_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        long = is_long(scope["method"], scope["path"])
        turns = self.long_turns if long else self.turns
        await turns.acquire()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                turns.release()

        async def sending(message: Message) -> None:
            if not long:
                if message["type"] == "http.response.start":
                    release()
                await send(message)
                return
            try:
                with anyio.fail_after(self.stalled_after_s):
                    await send(message)
            except TimeoutError as error:
                raise ReaderStalled from error

        try:
            await self.app(scope, receive, sending)
        finally:
            release()


class BodyLimit:
    """ASGI middleware: at most `default_bytes` of request body, `import_bytes` on paths
    ending in /import."""

    def __init__(self, app: App, default_bytes: int, import_bytes: int) -> None:
        self.app, self.default_bytes, self.import_bytes = app, default_bytes, import_bytes

    def limit_of(self, path: str) -> int:
        return self.import_bytes if is_import(path) else self.default_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        # Read the body here, within the limit, and hand it on whole: bounded memory, and
        # the app never starts on a request it would have to abandon half-way.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away mid-body: nobody to answer, and a truncated file
                # must not be imported as if it were whole.
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        del chunks
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": TYPE_BASE + "too-large",
            "title": "Request too large",
            "status": 413,
            "detail": f"the request body is over the limit of {limit:,} bytes for this route",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
