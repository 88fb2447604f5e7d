"""The FastAPI application. Routes stay thin: they call services; errors map in one place."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.errors import add_exception_handlers
from api.limits import Admission, BodyLimit
from api.pages import add_pages
from api.pages.base import error_page
from api.ratelimit import RateLimiter
from api.routes import admin, households, proposals, rounds, units
from models import migrate
from models.db import make_engine, session_factory
from services.access import KeyCache
from services.clock import SYSTEM_CLOCK, Clock
from services.geocoding import Geocoder, make_geocoder
from services.settings import Settings
from services.worker import RoundWorker

# Vendored assets (api/static/swagger-ui/VERSION says which, with its licence beside it).
STATIC = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None,
    geocoder: Geocoder | None = None,
    sessions: sessionmaker[Session] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> FastAPI:
    """The app; `sessions` lets tests bind every request to their rolled-back connection,
    `clock` stop the time."""
    settings = settings or Settings()
    # A connection for each request let in at once (api/limits.py), one for the round worker
    # and one for /healthz: a request never waits for a connection. (SQLite's pools are
    # sized by SQLAlchemy itself.)
    pool: dict[str, Any] = (
        {}
        if make_url(settings.database_url).get_backend_name() == "sqlite"
        else {
            "pool_size": settings.concurrent_requests + settings.concurrent_long_requests + 2,
            "max_overflow": 0,
        }
    )
    engine = make_engine(settings.database_url, ping_idle_after_s=1.0, **pool)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if settings.run_worker:
            worker = RoundWorker(
                app.state.sessions,
                f"{socket.gethostname()}:{os.getpid()}",
                retention_days=settings.retention_days,
                stale_after_s=settings.round_stale_after_s,
                clock=clock,
            )
            thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
            thread.start()
        yield
        stop.set()
        if thread is not None:
            thread.join(timeout=30)

    app = FastAPI(
        lifespan=lifespan,
        # Served from the package below: the default pages load Swagger UI and ReDoc from a
        # CDN, so /docs was blank offline.
        docs_url=None,
        redoc_url=None,
        title="housing-match",
        version="0.1.0",
        description="Landlords post vacant social housing units; coordinators match them "
        "with refugee households. Authenticate with `Authorization: Bearer <API key>`.",
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.sessions = sessions or session_factory(engine)
    app.state.geocoder = geocoder or make_geocoder(settings)
    app.state.failed_authentications = RateLimiter(
        settings.failed_authentications_per_minute, "failed authentications from this address"
    )
    app.state.keys = KeyCache(settings.key_cache_seconds)
    app.state.expensive_requests = RateLimiter(
        settings.expensive_requests_per_minute,
        "rounds, imports and publications for this key",
    )
    add_exception_handlers(app, page_error=error_page)
    app.add_middleware(
        Admission, most=settings.concurrent_requests, most_long=settings.concurrent_long_requests
    )
    app.add_middleware(
        BodyLimit,
        default_bytes=settings.max_request_bytes,
        import_bytes=settings.max_import_bytes,
    )
    app.include_router(units.router)
    app.include_router(households.router)
    app.include_router(rounds.router)
    app.include_router(proposals.router)
    app.include_router(admin.router)
    # After the API: a request is matched against the routes in order, and most are the API's.
    add_pages(app)

    expected_revision = migrate.head()

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="housing-match API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
            # no badge fetched from validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        """People land on the pages; programs read /docs."""
        return RedirectResponse("/ui")

    @app.get("/healthz", tags=["operations"])
    def healthz() -> Any:
        """Whether the service can reach its database, at the schema revision the code needs."""
        try:
            with app.state.sessions() as session:
                revision = migrate.revision_of(session.connection())
        except Exception:
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"}, status_code=503
            )
        if revision != expected_revision:
            return JSONResponse(
                {
                    "status": "unavailable",
                    "database": f"schema at {revision or 'nothing'}, the code needs "
                    f"{expected_revision}: run `housing-match db upgrade`",
                },
                status_code=503,
            )
        return {"status": "ok", "database": "reachable", "schema": revision}

    return app
