"""Schemathesis generates requests from our own OpenAPI document: no request, valid or not,
may crash the server (5xx), and every response must match what the document promises."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.api import auth

# Semantic refusals of schema-valid input (an unknown commune, an invalid cursor, a role that
# may not call the endpoint) are correct answers, not failures.
EXCLUDED_CHECKS = [positive_data_acceptance]


@pytest.mark.parametrize("role", ["dome", "coordinator", "admin"])
def test_no_request_crashes_the_server(client: TestClient, keys: dict[str, str], role: str) -> None:
    """Eight generated requests per operation and role: never a 5xx, responses as documented."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    problems: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=8,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            case.headers = {**(case.headers or {}), **auth(keys, role)}
            response = case.call()
            assert response.status_code < 500, response.text[:300]
            case.validate_response(response, excluded_checks=EXCLUDED_CHECKS)

        try:
            check()
        except Exception as error:  # schemathesis reports failures as exception groups
            problems.append(f"{operation.method.upper()} {operation.path}: {error}"[:500])
    assert problems == []
