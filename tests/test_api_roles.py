"""Every endpoint for every kind of caller: the expected status, on a fresh published round
each time. The matrix is checked against the app's own route table, so a new route cannot
escape it; every landlord's and admin's response is scanned for household content.

`dome` owns the unit in play, `volcans` is another landlord; "-" sends no key, "malformed" a
header that is not a bearer key, "revoked" a coordinator key that was revoked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from models import ApiRole
from services.access import PREFIX_LENGTH, create_key, revoke_key
from tests.api import HEALTH_OR_WORK, SINGLE, STUDIO, auth, every_key, published_proposal
from tests.factories import CLOCK

ROLES = ["-", "dome", "volcans", "coordinator", "admin"]
REFUSED_KEYS = ["malformed", "revoked"]  # 401 on every route but /healthz
NEW_UNIT = {**STUDIO, "reference": "LOT-NEW"}
NEW_HOUSEHOLD = {**SINGLE, "reference": "HH-NEW"}
NEW_KEY = {"role": "coordinator", "owner": "caf-63"}

# (method, path template, body, expected status per role in ROLES order)
MATRIX: list[tuple[str, str, Any, list[int]]] = [
    ("GET", "/healthz", None, [200, 200, 200, 200, 200]),
    ("GET", "/v1/units", None, [401, 200, 200, 200, 200]),
    ("POST", "/v1/units", NEW_UNIT, [401, 201, 201, 403, 403]),
    ("POST", "/v1/units/import", [NEW_UNIT], [401, 201, 201, 403, 403]),
    ("GET", "/v1/units/{unit}", None, [401, 200, 404, 200, 200]),
    ("PATCH", "/v1/units/{unit}", {"rent_eur": 300}, [401, 409, 404, 403, 403]),
    ("POST", "/v1/units/{unit}/withdraw", None, [401, 409, 404, 403, 403]),
    ("GET", "/v1/households", None, [401, 403, 403, 200, 403]),
    ("POST", "/v1/households", NEW_HOUSEHOLD, [401, 403, 403, 201, 403]),
    ("POST", "/v1/households/import", [NEW_HOUSEHOLD], [401, 403, 403, 201, 403]),
    ("GET", "/v1/households/{household}", None, [401, 403, 403, 200, 403]),
    ("PATCH", "/v1/households/{household}", {"urgent": False}, [401, 403, 403, 409, 403]),
    ("POST", "/v1/households/{household}/withdraw", None, [401, 403, 403, 409, 403]),
    ("POST", "/v1/households/{household}/erase", None, [401, 403, 403, 409, 403]),
    ("GET", "/v1/households/{household}/move-in", None, [401, 403, 403, 404, 403]),
    (
        "PATCH",
        "/v1/households/{household}/move-in",
        {"meters_opened_on": "2026-12-01"},
        [401, 403, 403, 404, 403],
    ),
    ("POST", "/v1/rounds", {"round_date": "2026-12-01"}, [401, 403, 403, 202, 403]),
    ("GET", "/v1/rounds", None, [401, 403, 403, 200, 403]),
    ("GET", "/v1/rounds/{round}", None, [401, 403, 403, 200, 403]),
    ("GET", "/v1/rounds/{round}/result", None, [401, 403, 403, 200, 403]),
    ("GET", "/v1/rounds/{round}/report", None, [401, 403, 403, 200, 403]),
    ("POST", "/v1/rounds/{round}/publish", None, [401, 403, 403, 409, 403]),
    ("GET", "/v1/proposals", None, [401, 200, 200, 200, 403]),
    ("GET", "/v1/proposals/stalled", None, [401, 403, 403, 200, 403]),
    ("GET", "/v1/proposals/{proposal}", None, [401, 200, 404, 200, 403]),
    (
        "POST",
        "/v1/proposals/{proposal}/decision",
        {"decision": "approved"},
        [401, 200, 404, 403, 403],
    ),
    (
        "POST",
        "/v1/proposals/{proposal}/household-response",
        {"answer": "accepted"},
        [401, 403, 403, 200, 403],
    ),
    ("POST", "/v1/proposals/{proposal}/lease-signed", None, [401, 409, 404, 403, 403]),
    ("POST", "/v1/landlords", {"name": "Auvergne Habitat"}, [401, 403, 403, 403, 201]),
    ("GET", "/v1/landlords", None, [401, 403, 403, 200, 200]),
    ("POST", "/v1/keys", NEW_KEY, [401, 403, 403, 403, 201]),
    ("GET", "/v1/keys", None, [401, 403, 403, 403, 200]),
    ("POST", "/v1/keys/{prefix}/revoke", None, [401, 403, 403, 403, 200]),
    ("GET", "/v1/audit", None, [401, 403, 403, 200, 200]),
]
CASES = [
    pytest.param(method, path, body, role, statuses[i], id=f"{method} {path} as {role}")
    for method, path, body, statuses in MATRIX
    for i, role in enumerate(ROLES)
] + [
    pytest.param(
        method,
        path,
        body,
        role,
        200 if path == "/healthz" else 401,
        id=f"{method} {path} as {role}",
    )
    for method, path, body, _ in MATRIX
    for role in REFUSED_KEYS
]


def test_the_matrix_covers_every_route(client: TestClient) -> None:
    """Each operation of the OpenAPI document has its row, and no row is left over."""
    template = re.compile(r"\{[^}]+\}")
    routes = {
        (method.upper(), template.sub("{}", path))
        for path, operations in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for method in operations
    }
    assert {(method, template.sub("{}", path)) for method, path, _, _ in MATRIX} == routes


@pytest.mark.parametrize(("method", "path", "body", "role", "expected"), CASES)
def test_status_for_each_role(
    client: TestClient,
    keys: dict[str, str],
    session: Session,
    method: str,
    path: str,
    body: Any,
    role: str,
    expected: int,
) -> None:
    """The endpoint answers this caller with the expected status; a landlord or an admin
    never gets a household's health data, workplaces or free text."""
    ids = published_proposal(client, keys)
    spare, _ = create_key(session, ApiRole.COORDINATOR, "spare")
    session.commit()
    url = path.format(**ids, prefix=spare.prefix)
    if role == "revoked":
        _, token = create_key(session, ApiRole.COORDINATOR, "former")
        revoke_key(session, token[:PREFIX_LENGTH], CLOCK.now())
        session.commit()
        headers = {"Authorization": f"Bearer {token}"}
    elif role == "malformed":
        headers = {"Authorization": "Basic cHJlZmVjdHVyZTpzZWNyZXQ="}
    else:
        headers = {} if role == "-" else auth(keys, role)
    response = client.request(method, url, json=body, headers=headers)
    assert response.status_code == expected, response.text
    if role in {"dome", "volcans", "admin"} and response.content:
        assert not every_key(response.json()) & HEALTH_OR_WORK, response.text
