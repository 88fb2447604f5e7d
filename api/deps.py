"""Request-scoped dependencies: the transaction, the actor, the geocoder."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import Depends, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from api.ratelimit import RateLimiter
from services.access import Actor, KeyCache, authenticate
from services.clock import Clock
from services.errors import Unauthenticated
from services.geocoding import Geocoder


async def session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error.
    Async, and lazy: opening it costs no trip to the threadpool, the connection is taken by
    the first query (in a thread) and given back by the commit."""
    db: Session = request.app.state.sessions()
    db.begin()  # no I/O yet
    try:
        yield db
    except BaseException:
        await _finish(db, commit=False)
        raise
    await _finish(db, commit=True)


async def _finish(db: Session, *, commit: bool) -> None:
    if commit and not db.in_transaction():
        # The route committed in its own thread (UnitOfWork): no connection is held, so
        # closing does no I/O and needs no trip to the threadpool.
        db.close()
        return

    def finish() -> None:
        with db:  # closing rolls back what is not committed and gives the connection back
            if commit:
                db.commit()

    with anyio.CancelScope(shield=True):  # a client gone away still ends the transaction
        await run_in_threadpool(finish)


# scope="function": the transaction commits before the response leaves, so a write that is
# acknowledged is on disk and visible to the next request on any connection (by default
# FastAPI ends yield dependencies after sending: a SIGKILL lost 8 of 2,478 acknowledged
# units, and 3 of 400 reads right after a 201 got 404). A failed commit is an error
# response, never a 201.
DbSession = Annotated[Session, Depends(session, scope="function")]


class UnitOfWork(APIRoute):
    """A route whose transaction commits at the end of the route itself, in its thread.

    The `session` dependency would commit after the route returns, in a trip to the
    threadpool of its own: a tenth of a short request's server time. Committing where the
    route ran saves that trip; the dependency then only closes the session (no I/O), and
    still rolls back if the route raised. Async routes are left as they are."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _committing(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _committing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the parameters of the route it wraps
    def run(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session) and value.in_transaction():
                value.commit()
        return result

    return run


async def actor(
    request: Request,
    db: DbSession,
    authorization: Annotated[str | None, Header(description="Bearer API key")] = None,
) -> Actor:
    """The key's holder. A client address that failed too often is refused (429) before its
    key is even looked up, whatever key it sends, until its limit refills. Async: a key seen
    lately (services/access.py KeyCache) costs no trip to the threadpool or the database."""
    failures: RateLimiter = request.app.state.failed_authentications
    client = request.client.host if request.client else "unknown"
    failures.check(client)
    keys: KeyCache = request.app.state.keys
    if (known := keys.get(authorization)) is not None:
        return known
    try:
        found = await run_in_threadpool(authenticate, db, authorization)
    except Unauthenticated:
        failures.spend(client)
        raise
    assert authorization is not None  # it authenticated
    keys.put(authorization, found)
    return found


CurrentActor = Annotated[Actor, Depends(actor)]


# Dependencies that touch no database are async: a plain `def` costs a trip to the threadpool.
async def expensive(request: Request, holder: CurrentActor) -> None:
    """Counts a request that solves, imports or publishes against its key's limit."""
    limiter: RateLimiter = request.app.state.expensive_requests
    limiter.spend(holder.key_id if holder.key_id is not None else holder.name)


Expensive = Depends(expensive)


async def geocoder(request: Request) -> Geocoder:
    found: Geocoder = request.app.state.geocoder
    return found


CurrentGeocoder = Annotated[Geocoder, Depends(geocoder)]


async def clock(request: Request) -> Clock:
    found: Clock = request.app.state.clock
    return found


# The app's clock (services/clock.py): routes read the time here and pass it on.
AppClock = Annotated[Clock, Depends(clock)]


@dataclass(frozen=True, slots=True)
class Upload:
    """An imported file: its name as the import reports it (its kind from the content type;
    the import also looks at the bytes) and its content."""

    source: str
    data: bytes


# Content types of spreadsheets, by the file name the import reports.
SPREADSHEET_TYPES = {
    "spreadsheetml": "upload.xlsx",
    "opendocument": "upload.ods",
    "ms-excel": "upload.xls",
}


async def upload(request: Request) -> Upload:
    """The request body as a file: read here (within the body limit) so that the import
    itself runs in a plain route, off the event loop."""
    content_type = request.headers.get("content-type", "")
    source = next(
        (name for kind, name in SPREADSHEET_TYPES.items() if kind in content_type),
        "upload.csv" if "csv" in content_type else "upload.json",
    )
    return Upload(source, await request.body())


UploadedFile = Annotated[Upload, Depends(upload)]


# Ids are positive and fit the database's integer: a larger one is a 422, not an overflow.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
