"""Every error leaves as RFC 9457 problem+json; this is the one table from domain errors to
HTTP. Unexpected errors become a bare 500 problem: no stack trace leaves the server."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

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

STATUS_OF: list[tuple[type[DomainError], int, str]] = [
    (Unauthenticated, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not-found"),
    (Conflict, 409, "conflict"),
    (InvalidImport, 422, "invalid-import"),
    (InvalidInput, 422, "invalid-input"),
]


def problem(status: int, kind: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail, **extra},
        status_code=status,
        media_type=PROBLEM,
        headers=headers,
    )


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


def add_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return _validation_problem(list(error.errors()))

    @app.exception_handler(ValidationError)
    async def _record_invalid(_: Request, error: ValidationError) -> JSONResponse:
        return _validation_problem([dict(e) for e in error.errors()], ("body",))

    @app.exception_handler(DomainError)
    async def _domain(_: Request, error: DomainError) -> JSONResponse:
        for kind, status, name in STATUS_OF:
            if isinstance(error, kind):
                extra: dict[str, Any] = {}
                if isinstance(error, InvalidImport):
                    extra["errors"] = [
                        {"row": e.row, "field": e.field, "message": e.message}
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
                        extra["errors"] = [{"field": f"body.{field}", "message": detail}]
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

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "Error")
        return problem(error.status_code, "http", title, str(error.detail))

    @app.middleware("http")
    async def _unexpected(request: Request, call_next: Any) -> Any:
        # A middleware rather than an exception handler: Starlette re-raises after calling a
        # handler for Exception, and the server would then log the traceback and its message,
        # which may carry personal data. Here the error stops, logged by its type only.
        try:
            return await call_next(request)
        except Exception as error:
            logger.error(
                "unexpected %s on %s %s", type(error).__name__, request.method, request.url.path
            )
            return problem(500, "internal", "Internal error", "an unexpected error occurred")
