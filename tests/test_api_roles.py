"""Every endpoint for every role: the expected status, on a fresh published round each time.

`dome` owns the unit in play, `volcans` is another landlord; "-" sends no key."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import auth
from tests.test_api_lifecycle import SINGLE, STUDIO, published_proposal

ROLES = ["-", "dome", "volcans", "coordinator", "admin"]
NEW_UNIT = {**STUDIO, "reference": "LOT-NEW"}
NEW_HOUSEHOLD = {**SINGLE, "reference": "HH-NEW"}

# (method, path template, body, expected status per role in ROLES order)
MATRIX: list[tuple[str, str, Any, list[int]]] = [
    ("GET", "/v1/units", None, [401, 200, 200, 200, 200]),
    ("POST", "/v1/units", NEW_UNIT, [401, 201, 201, 403, 403]),
    ("GET", "/v1/units/{unit}", None, [401, 200, 404, 200, 200]),
    ("PATCH", "/v1/units/{unit}", {"rent_eur": 300}, [401, 409, 404, 403, 403]),
    ("POST", "/v1/units/{unit}/withdraw", None, [401, 409, 404, 403, 403]),
    ("GET", "/v1/households", None, [401, 403, 403, 200, 403]),
    ("POST", "/v1/households", NEW_HOUSEHOLD, [401, 403, 403, 201, 403]),
    ("GET", "/v1/households/{household}", None, [401, 403, 403, 200, 403]),
    ("PATCH", "/v1/households/{household}", {"urgent": False}, [401, 403, 403, 409, 403]),
    ("POST", "/v1/rounds", {"round_date": "2026-12-01"}, [401, 403, 403, 202, 403]),
    ("GET", "/v1/rounds/{round}", None, [401, 403, 403, 200, 403]),
    ("GET", "/v1/rounds/{round}/result", None, [401, 403, 403, 200, 403]),
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
]
CASES = [
    pytest.param(method, path, body, role, statuses[i], id=f"{method} {path} as {role}")
    for method, path, body, statuses in MATRIX
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("method", "path", "body", "role", "expected"), CASES)
def test_status_for_each_role(
    client: TestClient,
    keys: dict[str, str],
    method: str,
    path: str,
    body: Any,
    role: str,
    expected: int,
) -> None:
    """The endpoint answers this role with the expected status."""
    ids = published_proposal(client, keys)
    url = path.format(**ids)
    headers = {} if role == "-" else auth(keys, role)
    response = client.request(method, url, json=body, headers=headers)
    assert response.status_code == expected, response.text
