"""Schemathesis generates requests from our own OpenAPI document: no request, valid or not,
may crash the server (5xx), and every response must match what the document promises."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient

from tests.api import auth, problems_of


@pytest.mark.parametrize("role", ["-", "dome", "volcans", "coordinator", "admin"])
def test_no_request_crashes_the_server(client: TestClient, keys: dict[str, str], role: str) -> None:
    """Eight generated requests per operation for each kind of caller (no key, each
    landlord, a coordinator, an admin): never a 5xx, responses and statuses as documented
    (a 401 or 429 included)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    headers = {} if role == "-" else auth(keys, role)
    assert problems_of(schema, headers, examples=8) == []
