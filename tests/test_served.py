"""The API as it runs in production: `housing-match serve` in its own process, on PostgreSQL.

What only a real server shows: when a write is acknowledged relative to its commit, and what a
SIGKILL leaves behind."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from sqlalchemy import select, text

from bench.instances import api_records, make_round
from models import MatchRound, Unit
from models.db import make_engine, session_factory
from tests.api import problems_of
from tests.served import Served, served_on_postgresql

UNIT = {
    "commune": "Riom",
    "postcode": "63200",
    "rooms": 3,
    "surface_m2": 61.5,
    "floor": 1,
    "rent_eur": 355,
    "charges_eur": 80,
    "available_from": "2026-12-01",
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with served_on_postgresql(tmp_path) as server:
        yield server


def stored_references(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return set(session.scalars(select(Unit.reference)))
    finally:
        engine.dispose()


def test_a_write_acknowledged_is_visible_at_once_on_another_connection(served: Served) -> None:
    """Each 201 is followed at once by a read on another connection, which finds the unit:
    the transaction committed before the response left (3 reads of 400 got 404 when the
    commit ran after sending)."""
    with (
        httpx.Client(base_url=served.url, headers=served.landlord) as writer,
        httpx.Client(base_url=served.url, headers=served.landlord) as reader,
    ):
        for i in range(300):
            created = writer.post("/v1/units", json=UNIT | {"reference": f"LOT-{i}"})
            assert created.status_code == 201, created.text
            read = reader.get(f"/v1/units/{created.json()['id']}")
            assert read.status_code == 200, f"unit {i} acknowledged but not found: {read.text}"


def test_every_write_acknowledged_survives_a_sigkill(served: Served) -> None:
    """Four clients post units as fast as the server answers; the server is killed (SIGKILL)
    mid-stream. Every unit it acknowledged with a 201 is in the database (8 of 2,478 were
    lost when the commit ran after sending)."""
    acknowledged: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def post_units(client_id: int) -> None:
        with httpx.Client(base_url=served.url, headers=served.landlord, timeout=10) as client:
            i = 0
            while not stop.is_set():
                reference = f"LOT-{client_id}-{i}"
                i += 1
                try:
                    response = client.post("/v1/units", json=UNIT | {"reference": reference})
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code == 201:
                    with lock:
                        acknowledged.add(reference)

    threads = [threading.Thread(target=post_units, args=(c,)) for c in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 400 and time.monotonic() < deadline:
        time.sleep(0.01)
    served.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) >= 400, "the server acknowledged too few writes before the kill"
    missing = acknowledged - stored_references(served.database_url)
    assert not missing, f"{len(missing)} acknowledged units lost: {sorted(missing)[:5]}"


def at_once(
    count: int, request: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """`count` requests sent together, each from its own connection."""
    barrier = threading.Barrier(count)
    responses: list[httpx.Response | None] = [None] * count

    def send(i: int) -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            responses[i] = request(client, i)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None for r in responses)
    return [r for r in responses if r is not None]


def test_a_duplicate_sent_at_once_replays_the_first_response(served: Served) -> None:
    """The same Idempotency-Key sent three times at once: one unit, and the three responses
    are its 201 (451 replays were 500s when all three went ahead)."""
    for attempt in range(15):
        headers = served.landlord | {"Idempotency-Key": f"key-{attempt}"}
        body = UNIT | {"reference": f"LOT-{attempt}"}

        def post(client: httpx.Client, _: int, body: Any = body, headers: Any = headers) -> Any:
            return client.post(f"{served.url}/v1/units", json=body, headers=headers)

        responses = at_once(3, post)
        assert [r.status_code for r in responses] == [201] * 3, [r.text for r in responses]
        assert len({r.json()["id"] for r in responses}) == 1
    assert len(stored_references(served.database_url)) == 15


def test_many_more_clients_than_connections_all_get_answers(served: Served) -> None:
    """120 clients at once, each listing units and posting one: every request answered
    with its success status. With every request let in at once, 100 clients froze the server
    (each thread waiting for a connection held by a request waiting for a thread) until the
    pool timed out, then got 500s."""

    def list_then_post(client: httpx.Client, i: int) -> httpx.Response:
        listed = client.get(f"{served.url}/v1/units", headers=served.landlord)
        assert listed.status_code == 200, listed.text
        body = UNIT | {"reference": f"LOT-{i}"}
        return client.post(f"{served.url}/v1/units", json=body, headers=served.landlord)

    responses = at_once(120, list_then_post)
    assert [r.status_code for r in responses] == [201] * 120
    assert len(stored_references(served.database_url)) == 120


def queue_and_solve(served: Served, households: int, units: int) -> int:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        for i in range(units):
            studio = UNIT | {"reference": f"LOT-{i}", "rooms": 1, "surface_m2": 28, "rent_eur": 240}
            assert client.post("/v1/units", json=studio, headers=served.landlord).status_code == 201
        for i in range(households):
            single = {
                "reference": f"HH-{i}",
                "adults": 1,
                "monthly_resources_eur": 1200,
                "housing_benefit_eur": 200,
                "registered_on": "2026-01-10",
            }
            posted = client.post("/v1/households", json=single, headers=served.coordinator)
            assert posted.status_code == 201, posted.text
        queued = client.post(
            "/v1/rounds", json={"round_date": "2026-12-01"}, headers=served.coordinator
        )
        round_id: int = queued.json()["id"]
        deadline = time.monotonic() + 60
        while (
            client.get(f"/v1/rounds/{round_id}", headers=served.coordinator).json()["status"]
            != "solved"
        ):
            assert time.monotonic() < deadline, "the round was not solved within 60 s"
            time.sleep(0.2)
        return round_id


def test_concurrent_publishes_publish_once(served: Served) -> None:
    """Eight publishes of one round at once: one 200, seven 409 (32 of them were 500s), and
    one proposal per match."""
    round_id = queue_and_solve(served, households=20, units=20)
    path = f"{served.url}/v1/rounds/{round_id}/publish"
    responses = at_once(8, lambda client, _: client.post(path, headers=served.coordinator))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 7, [r.text for r in responses]
    with httpx.Client(base_url=served.url, headers=served.coordinator) as client:
        proposals = client.get("/v1/proposals", params={"limit": 200}).json()["items"]
    assert len(proposals) == 20
    assert (
        len({p["unit_id"] for p in proposals}) == len({p["household_id"] for p in proposals}) == 20
    )


def test_a_result_is_streamed_from_postgresql_as_stored(served: Served) -> None:
    """The served JSON result is the stored document, read in chunks from one REPEATABLE
    READ transaction of its own (the request's has ended when the body streams)."""
    round_id = queue_and_solve(served, households=20, units=20)
    with httpx.Client(base_url=served.url, headers=served.coordinator) as client:
        response = client.get(f"/v1/rounds/{round_id}/result")
    assert response.status_code == 200
    engine = make_engine(served.database_url)
    try:
        with session_factory(engine)() as session:
            stored = session.get(MatchRound, round_id)
            assert stored is not None
            assert response.json() == stored.result
    finally:
        engine.dispose()
    assert response.json()["stats"]["households"] == 20


def test_edits_racing_a_publish_get_an_answer_not_an_error(served: Served) -> None:
    """Landlords edit the round's units while the coordinator publishes what did not change:
    no 5xx; every edit is a 200 (before the publish) or a 409 (the unit was proposed, or
    changed under it); every proposed unit is one the publish kept."""
    round_id = queue_and_solve(served, households=20, units=20)
    with httpx.Client(base_url=served.url, headers=served.landlord) as client:
        unit_ids = [u["id"] for u in client.get("/v1/units", params={"limit": 200}).json()["items"]]

    def request(client: httpx.Client, i: int) -> httpx.Response:
        if i == 0:
            return client.post(
                f"{served.url}/v1/rounds/{round_id}/publish",
                params={"skip_changed": "true"},
                headers=served.coordinator,
            )
        return client.patch(
            f"{served.url}/v1/units/{unit_ids[i]}", json={"rent_eur": 250}, headers=served.landlord
        )

    responses = at_once(len(unit_ids), request)
    published, edits = responses[0], responses[1:]
    assert published.status_code == 200, published.text
    assert {r.status_code for r in edits} <= {200, 409}, [
        r.text for r in edits if r.status_code >= 500
    ]
    left_out = len(published.json()["left_out"])
    assert published.json()["proposals"] + left_out == 20


def load_generated_round(served: Served, size: int) -> None:
    """A generated departement's units and households, through the import routes."""
    units, households = api_records(make_round(size, size, "departement", seed=size))
    with httpx.Client(base_url=served.url, timeout=120) as client:
        posted = client.post("/v1/units/import", json=units, headers=served.landlord)
        assert posted.status_code == 201, posted.text[:500]
        posted = client.post("/v1/households/import", json=households, headers=served.coordinator)
        assert posted.status_code == 201, posted.text[:500]


def round_status(served: Served, round_id: int) -> dict[str, Any]:
    response = httpx.get(f"{served.url}/v1/rounds/{round_id}", headers=served.coordinator)
    state: dict[str, Any] = response.json()
    return state


def wait_for(served: Served, round_id: int, statuses: set[str], within_s: float) -> str:
    deadline = time.monotonic() + within_s
    while (status := str(round_status(served, round_id)["status"])) not in statuses:
        assert time.monotonic() < deadline, f"round {round_id} still {status} after {within_s} s"
        time.sleep(0.05)
    return status


def queue(served: Served) -> int:
    queued = httpx.post(
        f"{served.url}/v1/rounds", json={"round_date": "2026-12-01"}, headers=served.coordinator
    )
    assert queued.status_code == 202, queued.text
    round_id: int = queued.json()["id"]
    return round_id


def test_a_round_killed_while_running_is_failed_and_the_next_one_runs(served: Served) -> None:
    """SIGKILL while a round is solving: once the server is back, the round is failed when
    its worker's heartbeat is overdue, and a new round runs to the end."""
    load_generated_round(served, 1500)
    round_id = queue(served)
    wait_for(served, round_id, {"running"}, within_s=60)
    served.kill()
    served.start()
    assert wait_for(served, round_id, {"failed", "solved"}, within_s=60) == "failed"
    assert "worker" in (round_status(served, round_id)["error"] or "")
    again = queue(served)
    assert wait_for(served, again, {"solved", "failed"}, within_s=120) == "solved"


def test_a_publish_killed_midway_leaves_all_or_nothing(served: Served) -> None:
    """SIGKILL once the publish of a round of 1,500 has begun (it holds its round's row
    lock, seen in pg_locks): after the restart the round is
    either published with every proposal, or still solved with none, and every unit and
    household is proposed exactly when it has a proposal."""
    load_generated_round(served, 1500)
    round_id = queue(served)
    assert wait_for(served, round_id, {"solved", "failed"}, within_s=120) == "solved"
    matches = round_status(served, round_id)["statistics"]["matched"]

    def send_publish() -> None:
        with contextlib.suppress(httpx.TransportError):  # the server dies under it
            httpx.post(
                f"{served.url}/v1/rounds/{round_id}/publish",
                headers=served.coordinator,
                timeout=60,
            )

    engine = make_engine(served.database_url)
    begun = text(
        "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_locks.relation = pg_class.oid "
        "WHERE pg_class.relname = 'match_rounds' AND pg_locks.mode = 'RowShareLock' "
        "AND pg_locks.pid <> pg_backend_pid()"
    )
    publish = threading.Thread(target=send_publish)
    publish.start()
    with engine.connect() as connection:  # the publish has locked its round: it has begun
        deadline = time.monotonic() + 30
        while not connection.scalar(begun):
            assert time.monotonic() < deadline, "the publish never began"
            time.sleep(0.005)
    served.kill()
    publish.join()
    served.start()
    try:
        with engine.connect() as connection:
            proposals = connection.scalar(text("SELECT count(*) FROM proposals"))
            proposed_units = connection.scalar(
                text("SELECT count(*) FROM units WHERE status = 'proposed'")
            )
            proposed_households = connection.scalar(
                text("SELECT count(*) FROM households WHERE status = 'proposed'")
            )
    finally:
        engine.dispose()
    status = round_status(served, round_id)["status"]
    assert (status, proposals) in {("solved", 0), ("published", matches)}
    assert proposed_households == proposed_units == proposals  # one candidate per unit


def test_a_database_taken_away_and_restored_is_a_503_then_service_again(served: Served) -> None:
    """The schema renamed away under the live server (as a dropped database looks to it):
    /healthz and the API say 503 as problem+json (the API said 500); renamed back, the
    same server answers again without a restart."""
    schema = served.database_url.rsplit("%3D", 1)[1]
    engine = make_engine(served.database_url.split("?")[0])
    try:
        with engine.begin() as connection:
            connection.execute(text(f'ALTER SCHEMA "{schema}" RENAME TO "{schema}_away"'))
        health = httpx.get(f"{served.url}/healthz")
        units = httpx.get(f"{served.url}/v1/units", headers=served.landlord)
        assert health.status_code == 503
        assert units.status_code == 503, units.text
        assert units.headers["content-type"] == "application/problem+json"
        assert "Retry-After" in units.headers
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'ALTER SCHEMA "{schema}_away" RENAME TO "{schema}"'))
        engine.dispose()
    assert httpx.get(f"{served.url}/healthz").status_code == 200
    assert httpx.get(f"{served.url}/v1/units", headers=served.landlord).status_code == 200


@pytest.mark.parametrize("role", ["-", "landlord", "coordinator"])
def test_the_served_api_keeps_its_openapi_promises(served: Served, role: str) -> None:
    """Schemathesis against the document the served process publishes, over HTTP: four
    generated requests per operation, no 5xx, every response as documented."""
    schema = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    headers = {"-": {}, "landlord": served.landlord, "coordinator": served.coordinator}[role]
    assert problems_of(schema, headers, examples=4, base_url=served.url) == []
