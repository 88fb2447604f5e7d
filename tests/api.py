"""Fixtures and helpers of the HTTP tests: an app on the test's rolled-back connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from models import ApiRole, Landlord
from services.access import create_key
from services.geocoding import GazetteerGeocoder
from services.settings import Settings


@pytest.fixture
def client(
    connection: Connection, session: Session, geocoder: GazetteerGeocoder
) -> Iterator[TestClient]:
    sessions = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app = create_app(
        Settings(database_url="sqlite://", run_worker=False), geocoder=geocoder, sessions=sessions
    )
    app.state.test_sessions = sessions  # for tests that run the round worker by hand
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def keys(session: Session) -> dict[str, str]:
    """Bearer headers for two landlords, a coordinator and an admin."""
    session.add_all([Landlord(name="Dome Habitat"), Landlord(name="Volcans Logement")])
    session.flush()
    tokens = {
        "dome": create_key(session, ApiRole.LANDLORD, "dome", "Dome Habitat")[1],
        "volcans": create_key(session, ApiRole.LANDLORD, "volcans", "Volcans Logement")[1],
        "coordinator": create_key(session, ApiRole.COORDINATOR, "prefecture")[1],
        "admin": create_key(session, ApiRole.ADMIN, "ops")[1],
    }
    session.commit()
    return {name: f"Bearer {token}" for name, token in tokens.items()}


def auth(keys: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": keys[who]}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body
