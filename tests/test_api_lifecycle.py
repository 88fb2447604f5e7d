"""The whole proposal lifecycle over HTTP, on SQLite and PostgreSQL: a landlord posts, a
coordinator runs and publishes a round, the commission approves, the household accepts, the
lease is signed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.schemas import HOUSEHOLD_EXAMPLE
from models import Exclusion, MoveInChecklist
from tests.api import (
    HEALTH_OR_WORK,
    SINGLE,
    STUDIO,
    assert_problem,
    auth,
    every_key,
    run_worker,
    solved_round,
)


@pytest.fixture
def posted(client: TestClient, keys: dict[str, str]) -> dict[str, int]:
    unit = client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome")).json()
    household = client.post("/v1/households", json=SINGLE, headers=auth(keys, "coordinator"))
    assert household.status_code == 201, household.text
    return {"unit": unit["id"], "household": household.json()["id"]}


def test_the_whole_lifecycle(
    client: TestClient, keys: dict[str, str], posted: dict[str, int], session: Session
) -> None:
    """Posted -> solved -> published -> approved -> accepted -> signed: unit let, household
    housed, a move-in checklist opened."""
    round_id = solved_round(client, keys)
    result = client.get(f"/v1/rounds/{round_id}/result", headers=auth(keys, "coordinator")).json()
    assert [(m["household"], m["unit"]) for m in result["matches"]] == [
        ("HH-A", "Dome Habitat/LOT-S")
    ]
    published = client.post(f"/v1/rounds/{round_id}/publish", headers=auth(keys, "coordinator"))
    assert published.json() == {"round_id": round_id, "proposals": 1, "left_out": []}
    unit = client.get(f"/v1/units/{posted['unit']}", headers=auth(keys, "dome")).json()
    assert unit["status"] == "proposed"

    landlord_view = client.get("/v1/proposals", headers=auth(keys, "dome")).json()
    (proposal,) = landlord_view["items"]
    assert proposal["household"]["reference"] == "HH-A"
    assert proposal["household"]["unit_meets_accessibility_needs"] is True
    assert not every_key(landlord_view) & HEALTH_OR_WORK

    pid = proposal["id"]
    approved = client.post(
        f"/v1/proposals/{pid}/decision", json={"decision": "approved"}, headers=auth(keys, "dome")
    )
    assert approved.json()["status"] == "approved"
    assert_problem(
        client.post(f"/v1/proposals/{pid}/lease-signed", headers=auth(keys, "dome")), 409
    )
    accepted = client.post(
        f"/v1/proposals/{pid}/household-response",
        json={"answer": "accepted"},
        headers=auth(keys, "coordinator"),
    )
    assert accepted.json()["household_answer"] == "accepted"
    signed = client.post(f"/v1/proposals/{pid}/lease-signed", headers=auth(keys, "dome"))
    assert signed.json()["status"] == "signed"
    single = client.get(f"/v1/proposals/{pid}", headers=auth(keys, "dome")).json()
    for landlord_response in (approved.json(), signed.json(), single):
        assert not every_key(landlord_response) & HEALTH_OR_WORK
    assert (
        client.get(f"/v1/units/{posted['unit']}", headers=auth(keys, "dome")).json()["status"]
        == "let"
    )
    household = client.get(
        f"/v1/households/{posted['household']}", headers=auth(keys, "coordinator")
    ).json()
    assert household["status"] == "housed"
    assert session.scalars(select(MoveInChecklist.household_id)).all() == [posted["household"]]


def test_without_consent_landlords_see_anonymised_data(
    client: TestClient, keys: dict[str, str]
) -> None:
    """No consent to share: no reference or application number for the landlord."""
    client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome"))
    client.post(
        "/v1/households",
        json={**SINGLE, "consent_to_share": False},
        headers=auth(keys, "coordinator"),
    )
    round_id = solved_round(client, keys)
    client.post(f"/v1/rounds/{round_id}/publish", headers=auth(keys, "coordinator"))
    (proposal,) = client.get("/v1/proposals", headers=auth(keys, "dome")).json()["items"]
    assert proposal["household"]["reference"] is None
    assert proposal["household"]["application_number"] is None
    assert proposal["household"]["size"] == 1


def test_stale_round_publishes_nothing(
    client: TestClient, keys: dict[str, str], posted: dict[str, int]
) -> None:
    """A unit changed after the round read it: 409 naming it, no proposal, statuses kept."""
    round_id = solved_round(client, keys)
    client.patch(f"/v1/units/{posted['unit']}", json={"rent_eur": 250}, headers=auth(keys, "dome"))
    refused = client.post(f"/v1/rounds/{round_id}/publish", headers=auth(keys, "coordinator"))
    body = assert_problem(refused, 409)
    assert body["changed"] == ["unit Dome Habitat/LOT-S"]
    assert client.get("/v1/proposals", headers=auth(keys, "coordinator")).json()["items"] == []
    unit = client.get(f"/v1/units/{posted['unit']}", headers=auth(keys, "dome")).json()
    assert unit["status"] == "vacant"
    state = client.get(f"/v1/rounds/{round_id}", headers=auth(keys, "coordinator")).json()
    assert state["status"] == "solved"


def test_refusal_excludes_the_pair_and_frees_both(
    client: TestClient, keys: dict[str, str], posted: dict[str, int], session: Session
) -> None:
    """A refusal needs a household-side reason; it records an exclusion, the household waits
    again, the unit is vacant again, and the next round does not propose the pair."""
    round_id = solved_round(client, keys)
    client.post(f"/v1/rounds/{round_id}/publish", headers=auth(keys, "coordinator"))
    (proposal,) = client.get("/v1/proposals", headers=auth(keys, "coordinator")).json()["items"]
    path = f"/v1/proposals/{proposal['id']}/household-response"
    wrong_side = client.post(
        path,
        json={"answer": "refused", "reason_code": "commission_file_incomplete"},
        headers=auth(keys, "coordinator"),
    )
    assert assert_problem(wrong_side, 422)["errors"][0]["field"] == "body.reason_code"
    refused = client.post(
        path,
        json={"answer": "refused", "reason_code": "too_far_from_school"},
        headers=auth(keys, "coordinator"),
    )
    assert refused.json()["status"] == "refused"
    assert session.scalars(select(Exclusion.reason)).all() == [
        "refused by the household: too_far_from_school"
    ]
    assert (
        client.get(f"/v1/units/{posted['unit']}", headers=auth(keys, "dome")).json()["status"]
        == "vacant"
    )
    second = solved_round(client, keys)
    result = client.get(f"/v1/rounds/{second}/result", headers=auth(keys, "coordinator")).json()
    assert result["matches"] == []


def test_failed_round_is_marked_failed(
    client: TestClient, keys: dict[str, str], posted: dict[str, int]
) -> None:
    """A round the core refuses is failed with the reason, and a result is a 409."""
    queued = client.post(
        "/v1/rounds",
        json={
            "round_date": "2026-12-01",
            "candidates_per_unit": 1,
            "pinned_pairs": [["HH-A", "x"]],
        },
        headers=auth(keys, "coordinator"),
    ).json()
    run_worker(client)
    state = client.get(f"/v1/rounds/{queued['id']}", headers=auth(keys, "coordinator")).json()
    assert state["status"] == "solved"  # an unknown pinned unit is reported, not fatal
    result = client.get(
        f"/v1/rounds/{queued['id']}/result", headers=auth(keys, "coordinator")
    ).json()
    assert result["pins"] == [
        {"household": "HH-A", "unit": "x", "applied": False, "reason": "unknown unit"}
    ]


FAMILY_FLAT: dict[str, Any] = STUDIO | {
    "reference": "LOT-F",
    "rooms": 4,
    "surface_m2": 82,
    "rent_eur": 420,
}
FAMILY: dict[str, Any] = HOUSEHOLD_EXAMPLE | {"reference": "HH-F"}


def two_pair_round(client: TestClient, keys: dict[str, str], **policy: Any) -> dict[str, int]:
    """The single in the studio, the family in the four-room flat: a solved round of two
    matches, with the ids of both units."""
    studio = client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome")).json()["id"]
    flat = client.post("/v1/units", json=FAMILY_FLAT, headers=auth(keys, "dome")).json()["id"]
    for household in (SINGLE, FAMILY):
        created = client.post("/v1/households", json=household, headers=auth(keys, "coordinator"))
        assert created.status_code == 201, created.text
    queued = client.post(
        "/v1/rounds", json={"round_date": "2026-12-01", **policy}, headers=auth(keys, "coordinator")
    )
    run_worker(client)
    round_id: int = queued.json()["id"]
    result = client.get(f"/v1/rounds/{round_id}/result", headers=auth(keys, "coordinator")).json()
    assert {(m["household"], m["unit"]) for m in result["matches"]} == {
        ("HH-A", "Dome Habitat/LOT-S"),
        ("HH-F", "Dome Habitat/LOT-F"),
    }
    return {"round": round_id, "studio": studio, "flat": flat}


def test_a_round_can_be_published_without_what_changed(
    client: TestClient, keys: dict[str, str]
) -> None:
    """skip_changed=true: the pair of the changed unit is left out and listed, the other
    published; the changed unit stays vacant, its household waiting."""
    ids = two_pair_round(client, keys)
    client.patch(f"/v1/units/{ids['flat']}", json={"rent_eur": 430}, headers=auth(keys, "dome"))
    published = client.post(
        f"/v1/rounds/{ids['round']}/publish?skip_changed=true", headers=auth(keys, "coordinator")
    )
    assert published.status_code == 200, published.text
    assert published.json() == {
        "round_id": ids["round"],
        "proposals": 1,
        "left_out": ["unit Dome Habitat/LOT-F"],
    }
    (proposal,) = client.get("/v1/proposals", headers=auth(keys, "coordinator")).json()["items"]
    assert (proposal["unit_id"], proposal["rank"]) == (ids["studio"], 1)
    flat = client.get(f"/v1/units/{ids['flat']}", headers=auth(keys, "dome")).json()
    assert flat["status"] == "vacant"
    families = client.get("/v1/households?status=waiting", headers=auth(keys, "coordinator"))
    assert [h["reference"] for h in families.json()["items"]] == ["HH-F"]


def test_leaving_out_what_changed_may_not_break_the_income_quota(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Half the matches must go to households under 10,000 EUR per consumption unit: only
    the family is. Without its pair the quota fails, so nothing is published."""
    quota = {"income_quota": {"share": 0.5, "threshold_eur_per_consumption_unit": 10_000}}
    ids = two_pair_round(client, keys, **quota)
    client.patch(f"/v1/units/{ids['flat']}", json={"rent_eur": 430}, headers=auth(keys, "dome"))
    refused = client.post(
        f"/v1/rounds/{ids['round']}/publish?skip_changed=true", headers=auth(keys, "coordinator")
    )
    assert "would break the income quota" in assert_problem(refused, 409)["detail"]
    assert client.get("/v1/proposals", headers=auth(keys, "coordinator")).json()["items"] == []
