"""The coordinators' round endpoints, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy.orm import Session

from api.routes.rounds import XLSX
from models import MatchRound
from services import rounds
from services.clock import FixedClock
from services.settings import Settings
from tests.api import SINGLE, STUDIO, assert_problem, auth, published_proposal, solved_round


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


def test_a_result_is_streamed_as_it_is_stored(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    """The JSON result is the stored document, read from the database a chunk at a time (the
    API holds a chunk, not the document), with no trace of the rows' ids and versions."""
    client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome"))
    client.post("/v1/households", json=SINGLE, headers=auth(keys, "coordinator"))
    round_id = solved_round(client, keys)
    response = client.get(f"/v1/rounds/{round_id}/result", headers=auth(keys, "coordinator"))
    assert response.headers["content-type"] == "application/json"
    stored = session.get(MatchRound, round_id)
    assert stored is not None
    assert response.json() == stored.result
    assert response.json()["stats"]["matched"] == 1
    assert "snapshot" not in response.json()
    pieces = list(rounds.stored_result(client.app.state.test_sessions, round_id, chunk=100))  # type: ignore[attr-defined]
    assert len(pieces) > 1
    assert all(len(piece) <= 100 for piece in pieces)
    assert json.loads("".join(pieces)) == stored.result


def test_a_result_is_served_as_a_spreadsheet_when_asked(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Accept: the XLSX media type gives both tables; text/csv one of them (proposals by
    default), with a byte-order mark for Excel; JSON otherwise. Landlords get none of it."""
    client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome"))
    client.post("/v1/households", json=SINGLE, headers=auth(keys, "coordinator"))
    round_id = solved_round(client, keys)
    path = f"/v1/rounds/{round_id}/result"
    xlsx = client.get(path, headers=auth(keys, "coordinator") | {"Accept": XLSX})
    assert xlsx.headers["content-type"] == XLSX
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(xlsx.content))
    proposals = workbook.get_sheet_by_name("proposals").to_python()
    assert proposals[1][:3] == ["HH-A", "Dome Habitat/LOT-S", 1]
    csv_text = client.get(
        path,
        params={"table": "unmatched"},
        headers=auth(keys, "coordinator") | {"Accept": "text/csv"},
    )
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert csv_text.content.startswith("\ufeffhousehold,why,feasible_units".encode())
    assert (
        client.get(path, headers=auth(keys, "coordinator")).json()["matches"][0]["household"]
        == "HH-A"
    )
    assert_problem(client.get(path, headers=auth(keys, "dome") | {"Accept": XLSX}), 403)


def test_the_app_reads_the_time_from_its_clock(client: TestClient, keys: dict[str, str]) -> None:
    """A round without a date is the clock's day, and a proposal's deadline counts from it
    (services/clock.py): stopped far from today, the clock alone gives these dates."""
    stopped = FixedClock(datetime(2031, 5, 4, 9, tzinfo=UTC))
    client.app.state.clock = stopped  # type: ignore[attr-defined]
    ids = published_proposal(client, keys)
    proposal = client.get(f"/v1/proposals/{ids['proposal']}", headers=auth(keys, "coordinator"))
    days = Settings().household_response_days
    assert proposal.json()["respond_by"] == (date(2031, 5, 4) + timedelta(days=days)).isoformat()
    undated = client.post("/v1/rounds", json={}, headers=auth(keys, "coordinator"))
    assert undated.json()["policy"]["round_date"] == "2031-05-04"
