"""Schemathesis generates requests from our own OpenAPI document: no request, valid or not,
may crash the server (5xx), and every response must match what the document promises."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import positive_data_acceptance

from tests.api import auth

# Semantic refusals of schema-valid input (an unknown commune, an invalid cursor, a role that
# may not call the endpoint) are correct answers, not failures.
EXCLUDED_CHECKS = [positive_data_acceptance]


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


@pytest.mark.parametrize("role", ["-", "dome", "volcans", "coordinator", "admin"])
def test_no_request_crashes_the_server(client: TestClient, keys: dict[str, str], role: str) -> None:
    """Eight generated requests per operation for each kind of caller (no key, each
    landlord, a coordinator, an admin): never a 5xx, responses and statuses as documented
    (a 401 or 429 included)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    headers = {} if role == "-" else auth(keys, role)
    assert problems_of(schema, headers, examples=8) == []
