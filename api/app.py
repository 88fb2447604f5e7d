"""The FastAPI application. Routes stay thin: they call services and map domain errors."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from models.db import make_engine
from services.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url, pool_pre_ping=True)
    app = FastAPI(title="housing-match", version="0.1.0")

    @app.get("/healthz", tags=["operations"])
    def healthz() -> Any:
        """Whether the service can reach its database."""
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"},
                status_code=503,
            )
        return {"status": "ok", "database": "reachable"}

    return app
