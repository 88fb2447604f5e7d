"""Hostile and absurd requests get a 4xx problem naming what is wrong, never a 5xx."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.errors import ReaderStalled, UnexpectedErrors
from api.schemas import HOUSEHOLD_EXAMPLE
from tests.api import assert_problem, auth


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"candidates_per_unit": 10**30}, "body.candidates_per_unit"),
        ({"round_date": "9999-12-31"}, "body.round_date"),
        ({"horizon_days": 10**9}, "body.horizon_days"),
        ({"weights": {"urgent": 1e300}}, "body.weights.urgent"),
        ({"time_limit_s": 1e12}, "body.time_limit_s"),
        ({"seed": -1}, "body.seed"),
        ({"territory": {"departements": ["20"]}}, "body.territory.departements[0]"),
        ({"territory": {"departements": []}}, "body.territory.departements"),
        ({"territory": {"departements": ["63"], "communes": [""]}}, "body.territory.communes[0]"),
    ],
)
def test_absurd_round_policies_are_refused_before_queueing(
    client: TestClient, keys: dict[str, str], policy: dict[str, Any], field: str
) -> None:
    """They were accepted with 202, then failed in the worker with an OverflowError."""
    response = client.post("/v1/rounds", json=policy, headers=auth(keys, "coordinator"))
    assert field in [e["field"] for e in assert_problem(response, 422)["errors"]]


def test_oversized_lists_and_texts_are_refused(client: TestClient, keys: dict[str, str]) -> None:
    """500 children and a 10 MB reason were stored; each is now a 422 naming the field."""
    crowded = HOUSEHOLD_EXAMPLE | {"children_ages": [5] * 500}
    response = client.post("/v1/households", json=crowded, headers=auth(keys, "coordinator"))
    assert "body.children_ages" in [e["field"] for e in assert_problem(response, 422)["errors"]]
    answer = {"answer": "refused", "reason_code": "too_far", "reason_text": "x" * 5000}
    response = client.post(
        "/v1/proposals/1/household-response", json=answer, headers=auth(keys, "coordinator")
    )
    assert "body.reason_text" in [e["field"] for e in assert_problem(response, 422)["errors"]]


def test_a_wrong_method_says_which_are_allowed(client: TestClient, keys: dict[str, str]) -> None:
    response = client.delete("/v1/units", headers=auth(keys, "dome"))
    assert_problem(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_a_bad_cursor_is_named_as_the_query_parameter_it_is(
    client: TestClient, keys: dict[str, str]
) -> None:
    response = client.get("/v1/units?cursor=nonsense", headers=auth(keys, "dome"))
    assert assert_problem(response, 422)["errors"][0]["field"] == "query.cursor"


def test_a_client_that_stopped_reading_is_a_warning_and_its_response_is_cut(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A long response abandoned (api/limits.py) is no bug: no error logged, no second
    response after the first started."""
    sent: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ReaderStalled

    async def send(message: Any) -> None:
        sent.append(message["type"])

    scope = {"type": "http", "method": "GET", "path": "/v1/rounds/1/result"}
    with caplog.at_level(logging.WARNING, logger="housing_match.api"):
        asyncio.run(UnexpectedErrors(app)(scope, None, send))  # type: ignore[arg-type]
    assert sent == ["http.response.start"]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "GET /v1/rounds/1/result: the client stopped reading")
    ]
