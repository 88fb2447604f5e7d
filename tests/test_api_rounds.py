"""The coordinators' round endpoints, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api import assert_problem, auth
from tests.test_api_lifecycle import solved_round


def test_rounds_are_listed_newest_first_page_by_page(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Three rounds (the first one solved): newest first, two a page, filtered by status;
    each with its statistics, none with its result."""
    solved = solved_round(client, keys)
    queued = [
        client.post("/v1/rounds", json={}, headers=auth(keys, "coordinator")).json()["id"]
        for _ in range(2)
    ]
    first = client.get("/v1/rounds?limit=2", headers=auth(keys, "coordinator")).json()
    assert [r["id"] for r in first["items"]] == [queued[1], queued[0]]
    assert first["items"][0]["progress"] == "waiting for a worker (1 round(s) ahead)"
    second = client.get(
        "/v1/rounds",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=auth(keys, "coordinator"),
    ).json()
    assert [r["id"] for r in second["items"]] == [solved]
    assert second["next_cursor"] is None
    only_solved = client.get("/v1/rounds?status=solved", headers=auth(keys, "coordinator")).json()
    assert [r["id"] for r in only_solved["items"]] == [solved]
    assert only_solved["items"][0]["statistics"]["households"] == 0
    assert "result" not in only_solved["items"][0]
    assert_problem(client.get("/v1/rounds", headers=auth(keys, "dome")), 403)
