"""Every error leaves as RFC 9457 problem+json; this is the one table from domain errors to
HTTP. Unexpected errors become a bare 500 problem: no stack trace leaves the server."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.ratelimit import TooManyRequests
from services.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidImport,
    InvalidInput,
    NotFound,
    StaleRound,
    Unauthenticated,
)

PROBLEM = "application/problem+json"
# A refused import lists this many errors and counts the rest: 50 MB of bad rows once gave a
# 16 MB error body.
MAX_LISTED_ERRORS = 100
TYPE_BASE = "https://housing-match.example/problems/"
logger = logging.getLogger("housing_match.api")

# Fields the services name that are not in the request body (the rest are).
FIELD_LOCATIONS = {"cursor": "query.cursor", "Idempotency-Key": "header.Idempotency-Key"}

STATUS_OF: list[tuple[type[DomainError], int, str]] = [
    (Unauthenticated, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not-found"),
    (Conflict, 409, "conflict"),
    (InvalidImport, 422, "invalid-import"),
    (InvalidInput, 422, "invalid-input"),
]


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"} | (headers or {})
    return JSONResponse(
        {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail, **extra},
        status_code=status,
        media_type=PROBLEM,
        headers=headers,
    )


def _conflict(detail: str) -> JSONResponse:
    """A clash with a request running at the same time: 409, and the client may retry."""
    return problem(409, "conflict", "Conflict", detail)


def _sql_state(error: DBAPIError) -> str | None:
    """PostgreSQL's SQLSTATE of a database error (None on SQLite, which has none)."""
    return getattr(error.orig, "sqlstate", None)


def _location(loc: tuple[Any, ...]) -> str:
    """'body.rooms' or 'query.limit', as a client would name the field."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _validation_problem(errors: list[dict[str, Any]], prefix: tuple[str, ...] = ()) -> JSONResponse:
    fields = [
        {"field": _location(prefix + tuple(error["loc"])), "message": error["msg"]}
        for error in errors
    ]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return problem(422, "validation", "Invalid request", detail, errors=fields)


# Renders a domain error of a page (under /ui) as a page: request, status, message.
PageError = Callable[[Request, int, str], Response]


def add_exception_handlers(app: FastAPI, page_error: PageError | None = None) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, error: RequestValidationError) -> Response:
        if page_error is not None and request.url.path.startswith("/ui"):
            fields = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors()
            )
            return await run_in_threadpool(page_error, request, 422, fields)
        return _validation_problem(list(error.errors()))

    @app.exception_handler(ValidationError)
    async def _record_invalid(_: Request, error: ValidationError) -> JSONResponse:
        return _validation_problem([dict(e) for e in error.errors()], ("body",))

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> Response:
        for kind, status, name in STATUS_OF:
            if isinstance(error, kind):
                if page_error is not None and request.url.path.startswith("/ui"):
                    return await run_in_threadpool(page_error, request, status, str(error))
                extra: dict[str, Any] = {}
                if isinstance(error, InvalidImport):
                    extra["errors"] = [
                        {"row": e.row, "field": e.field, "message": e.message}
                        | ({"column": e.column, "value": e.value} if e.column else {})
                        for e in error.errors[:MAX_LISTED_ERRORS]
                    ]
                    extra["error_count"] = len(error.errors)
                    detail = f"{len(error.errors)} error(s), nothing imported"
                    if len(error.errors) > MAX_LISTED_ERRORS:
                        detail += f" (the first {MAX_LISTED_ERRORS} listed)"
                else:
                    detail = str(error)
                    field = getattr(error, "field", None)
                    if field:
                        where = FIELD_LOCATIONS.get(field, f"body.{field}")
                        extra["errors"] = [{"field": where, "message": detail}]
                if isinstance(error, StaleRound):
                    extra = {"changed": error.changed}
                return problem(status, name, name.replace("-", " ").capitalize(), detail, **extra)
        return problem(400, "bad-request", "Bad request", str(error))

    @app.exception_handler(DataError)
    async def _unstorable(_: Request, error: DataError) -> JSONResponse:
        # A value the database cannot store (a NUL character in a filter, say): the client's.
        return problem(
            422,
            "unstorable-value",
            "Invalid value",
            "a value cannot be used (a NUL character, or a number out of range)",
        )

    @app.exception_handler(TooManyRequests)
    async def _too_many(_: Request, error: TooManyRequests) -> JSONResponse:
        return problem(
            429,
            "too-many-requests",
            "Too many requests",
            str(error),
            headers={"Retry-After": str(error.retry_after_s)},
        )

    @app.exception_handler(IntegrityError)
    async def _clash(_: Request, error: IntegrityError) -> JSONResponse:
        # A constraint the services check first, broken by a request running at the same
        # time (two posts of one reference, say): the later one is refused and may retry.
        if _sql_state(error) == "23514" or "CHECK constraint" in str(error.orig):
            return problem(422, "unstorable-value", "Invalid value", "a value is out of range")
        return _conflict("the request clashes with a change made at the same time: retry")

    @app.exception_handler(StaleDataError)
    async def _stale(_: Request, error: StaleDataError) -> JSONResponse:
        # A row changed by another request between this one's read and its write (its
        # version moved on): nothing of this request is kept.
        return _conflict("a record changed while this request ran: read it again and retry")

    @app.exception_handler(ProgrammingError)
    async def _schema(_: Request, error: ProgrammingError) -> JSONResponse:
        if _sql_state(error) in {"42P01", "3F000"}:  # no such table, no such schema
            # The database answers but holds no schema (dropped, or not migrated yet).
            logger.error("database schema missing: %s", type(error.orig).__name__)
            return problem(
                503,
                "unavailable",
                "Service unavailable",
                "the database has no schema: restore it or run `housing-match db upgrade`",
                headers={"Retry-After": "30"},
            )
        raise error

    @app.exception_handler(OperationalError)
    async def _database(_: Request, error: OperationalError) -> JSONResponse:
        if _sql_state(error) in {"40001", "40P01"}:  # serialization failure, deadlock
            return _conflict("the request clashed with another one running at the same time: retry")
        logger.error("database unavailable: %s", type(error.orig).__name__)
        return problem(
            503,
            "unavailable",
            "Service unavailable",
            "the database cannot be reached: retry later",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if page_error is not None and request.url.path.startswith("/ui"):
            return await run_in_threadpool(page_error, request, error.status_code, "")
        title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "Error")
        headers = dict(error.headers or {})
        if error.status_code == 405:
            # Allow lists every method of the path (RFC 9110); Starlette names only those of
            # the first route whose path matches. The OpenAPI document has them all.
            methods = {
                method.upper()
                for template, operations in request.app.openapi()["paths"].items()
                if compile_path(template)[0].match(request.url.path)
                for method in operations
            }
            headers["Allow"] = ", ".join(sorted(methods))
        return problem(error.status_code, "http", title, str(error.detail), headers=headers)

    app.add_middleware(UnexpectedErrors)


class ReaderStalled(Exception):
    """The client read nothing of a long response for too long (api/limits.py): the response
    is abandoned, the connection closed unfinished."""


class UnexpectedErrors:
    """A bare 500 problem for an error no handler took. A middleware rather than an exception
    handler: Starlette re-raises after calling a handler for Exception, and the server would
    then log the traceback and its message, which may carry personal data. Here the error
    stops, logged by its type only. Plain ASGI: Starlette's BaseHTTPMiddleware costs a task
    and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except ReaderStalled:
            logger.warning("%s %s: the client stopped reading", scope["method"], scope["path"])
        except Exception as error:
            logger.error(
                "unexpected %s on %s %s", type(error).__name__, scope["method"], scope["path"]
            )
            if not started:  # else the response is cut short: the server closes the connection
                response = problem(
                    500, "internal", "Internal error", "an unexpected error occurred"
                )
                await response(scope, receive, send)
