"""The FastAPI application. Routes stay thin: they call services; errors map in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from geopy.geocoders.base import Geocoder
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from api.errors import add_exception_handlers
from api.routes import units
from models.db import make_engine, session_factory
from services.geocoding import make_geocoder
from services.settings import Settings


def create_app(
    settings: Settings | None = None,
    geocoder: Geocoder | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> FastAPI:
    """The app; `sessions` lets tests bind every request to their rolled-back connection."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url, pool_pre_ping=True)
    app = FastAPI(
        title="housing-match",
        version="0.1.0",
        description="Landlords post vacant social housing units; coordinators match them "
        "with refugee households. Authenticate with `Authorization: Bearer <API key>`.",
    )
    app.state.sessions = sessions or session_factory(engine)
    app.state.geocoder = geocoder or make_geocoder(settings)
    add_exception_handlers(app)
    app.include_router(units.router)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> Any:
        """Whether the service can reach its database."""
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"}, status_code=503
            )
        return {"status": "ok", "database": "reachable"}

    return app
