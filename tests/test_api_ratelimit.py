"""Rate limits: failed authentications per address, expensive requests per key."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.ratelimit import RateLimiter, TooManyRequests
from tests.api import assert_problem, auth


def test_a_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=6, what="tries", clock=lambda: now[0])
    for _ in range(6):
        limiter.spend("a")
    with pytest.raises(TooManyRequests) as refused:
        limiter.spend("a")
    assert refused.value.retry_after_s == 10  # one token every 10 s
    limiter.spend("b")  # another key has its own bucket
    now[0] = 10.0
    limiter.check("a")
    limiter.spend("a")
    with pytest.raises(TooManyRequests):
        limiter.check("a")


def test_an_address_that_keeps_failing_is_refused_for_a_while(
    client: TestClient, keys: dict[str, str]
) -> None:
    """30 bad keys a minute get 401; past them the address gets 429 with Retry-After, even
    with a good key (its key is not looked up), so guessing costs the server nothing."""
    limit = client.app.state.settings.failed_authentications_per_minute  # type: ignore[attr-defined]
    bad = {"Authorization": "Bearer hm_guess"}
    statuses = [client.get("/v1/units", headers=bad).status_code for _ in range(limit)]
    assert statuses == [401] * limit
    refused = client.get("/v1/units", headers=bad)
    assert "failed authentications" in assert_problem(refused, 429)["detail"]
    assert int(refused.headers["retry-after"]) >= 1
    assert_problem(client.get("/v1/units", headers=auth(keys, "dome")), 429)


def test_one_key_cannot_queue_rounds_without_end(client: TestClient, keys: dict[str, str]) -> None:
    """Rounds, imports and publications count against a per-key limit (20 a minute)."""
    limit = client.app.state.settings.expensive_requests_per_minute  # type: ignore[attr-defined]
    for _ in range(limit):
        queued = client.post("/v1/rounds", json={}, headers=auth(keys, "coordinator"))
        assert queued.status_code == 202, queued.text
    refused = client.post("/v1/rounds", json={}, headers=auth(keys, "coordinator"))
    assert "rounds, imports and publications" in assert_problem(refused, 429)["detail"]
    units = client.post("/v1/units/import", json=[], headers=auth(keys, "dome"))
    assert units.status_code == 201, units.text  # another key's own limit
