"""Fixtures and helpers of the HTTP tests: an app on the test's rolled-back connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from models import ApiRole, Landlord
from services.access import create_key
from services.geocoding import GazetteerGeocoder
from services.settings import Settings
from services.worker import RoundWorker


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


STUDIO: dict[str, Any] = {
    "reference": "LOT-S",
    "commune": "Clermont-Ferrand",
    "postcode": "63000",
    "rooms": 1,
    "surface_m2": 28,
    "floor": 0,
    "rent_eur": 240,
    "charges_eur": 40,
    "available_from": "2026-11-01",
}


SINGLE: dict[str, Any] = {
    "reference": "HH-A",
    "adults": 1,
    "monthly_resources_eur": 1100,
    "housing_benefit_eur": 180,
    "registered_on": "2026-01-10",
    "workplaces": [{"commune": "Clermont-Ferrand", "postcode": "63000"}],
    "needs": {"reduced_mobility": True, "care_site": {"lat": 45.76, "lon": 3.10, "max_km": 20}},
    "consent_to_share": True,
    "application_number": "063261234567",
}


HEALTH_OR_WORK = {
    "needs",
    "needs_wheelchair",
    "needs_reduced_mobility",
    "care_site_label",
    "care_site_lat",
    "care_site_lon",
    "care_site_max_km",
    "workplaces",
    "score_breakdown",
    "urgent_reason",
}


def run_worker(client: TestClient) -> None:
    worker = RoundWorker(client.app.state.test_sessions, "test-worker", heartbeat_s=None)  # type: ignore[attr-defined]
    assert worker.run_once() is not None


def solved_round(client: TestClient, keys: dict[str, str]) -> int:
    queued = client.post(
        "/v1/rounds", json={"round_date": "2026-12-01"}, headers=auth(keys, "coordinator")
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    assert queued.json()["progress"] == "waiting for a worker (0 round(s) ahead)"
    run_worker(client)
    round_id: int = queued.json()["id"]
    state = client.get(f"/v1/rounds/{round_id}", headers=auth(keys, "coordinator")).json()
    assert state["status"] == "solved", state
    assert state["progress"].startswith("solved; the solve took")
    return round_id


def published_proposal(client: TestClient, keys: dict[str, str]) -> dict[str, int]:
    """A unit, a household, a solved and published round: the ids of the one proposal."""
    unit = client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome")).json()["id"]
    household = client.post(
        "/v1/households", json=SINGLE, headers=auth(keys, "coordinator")
    ).json()["id"]
    round_id = solved_round(client, keys)
    client.post(f"/v1/rounds/{round_id}/publish", headers=auth(keys, "coordinator"))
    (proposal,) = client.get("/v1/proposals", headers=auth(keys, "coordinator")).json()["items"]
    return {"unit": unit, "household": household, "proposal": proposal["id"], "round": round_id}


def every_key(document: Any) -> set[str]:
    if isinstance(document, dict):
        return set(document) | {k for v in document.values() for k in every_key(v)}
    if isinstance(document, list):
        return {k for item in document for k in every_key(item)}
    return set()


def problems_of(schema: Any, headers: dict[str, str], examples: int, **call: Any) -> list[str]:
    """Every operation of the schema, `examples` generated requests each, sent with these
    headers: what went wrong (a 5xx, a response or status the document does not promise)."""
    problems: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case[Any]) -> None:
            case.headers = CaseInsensitiveDict({**dict(case.headers or {}), **headers})
            response = case.call(**call)
            assert response.status_code < 500, response.text[:300]
            case.validate_response(response, excluded_checks=EXCLUDED_CHECKS)

        try:
            check()
        except Exception as error:  # schemathesis reports failures as exception groups
            problems.append(f"{operation.method.upper()} {operation.path}: {error}"[:500])
    return problems


# Semantic refusals of schema-valid input (an unknown commune, an invalid cursor, a role that
# may not call the endpoint) are correct answers, not failures.
EXCLUDED_CHECKS = [positive_data_acceptance]
