"""Erasure on request and retention (services/erasure.py), over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import AuditEvent, Household, HouseholdStatus, MatchRound, Proposal, Workplace
from services.erasure import purge_closed
from tests.api import SINGLE, assert_problem, auth, published_proposal


def refused_proposal(client: TestClient, keys: dict[str, str]) -> dict[str, int]:
    """HH-A (workplace, care site, reduced mobility) proposed the studio, refused with a
    free-text reason: its data is in the record, the audit trail, a proposal and a round."""
    ids = published_proposal(client, keys)
    refused = client.post(
        f"/v1/proposals/{ids['proposal']}/household-response",
        json={
            "answer": "refused",
            "reason_code": "too_far_from_school",
            "reason_text": "HH-A's daughter is treated at the hospital in Riom",
        },
        headers=auth(keys, "coordinator"),
    )
    assert refused.status_code == 200, refused.text
    return ids


def test_erasure_removes_the_household_everywhere_and_keeps_the_history(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    ids = refused_proposal(client, keys)
    erased = client.post(
        f"/v1/households/{ids['household']}/erase", headers=auth(keys, "coordinator")
    )
    assert erased.status_code == 200, erased.text
    record = erased.json()
    assert record["reference"] == f"erased-{ids['household']}"
    assert record["workplaces"] == []
    assert (record["needs_reduced_mobility"], record["care_site_lat"]) == (False, None)
    assert record["registered_on"] == "2026-01-01"  # kept to the month
    assert record["status"] == "withdrawn"
    assert (record["adults"], record["monthly_resources_eur"]) == (1, 1100)  # statistics
    assert session.scalars(select(Workplace)).all() == []

    proposal = session.get(Proposal, ids["proposal"])
    assert proposal is not None
    assert (proposal.status, proposal.reason_code, proposal.reason_text) == (
        "refused",
        "too_far_from_school",
        None,
    )
    for event in session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "household", AuditEvent.entity_id == str(ids["household"])
        )
    ):
        assert (event.before, event.after) == (None, None), event.action
    match_round = session.get(MatchRound, ids["round"])
    assert match_round is not None
    stored = "".join(
        json.dumps(document)
        for document in (match_round.result, match_round.snapshot, match_round.policy)
    )
    assert "HH-A" not in stored
    assert f"erased-{ids['household']}" in stored

    again = client.post(
        f"/v1/households/{ids['household']}/erase", headers=auth(keys, "coordinator")
    )
    assert again.json() == record  # erasing twice changes nothing


def test_a_household_with_a_live_proposal_is_not_erased_yet(
    client: TestClient, keys: dict[str, str]
) -> None:
    ids = published_proposal(client, keys)
    refused = client.post(
        f"/v1/households/{ids['household']}/erase", headers=auth(keys, "coordinator")
    )
    assert assert_problem(refused, 409)["errors"][0]["field"] == "body.status"
    household = client.get(f"/v1/households/{ids['household']}", headers=auth(keys, "coordinator"))
    assert household.json()["reference"] == "HH-A"
    assert_problem(
        client.post(f"/v1/households/{ids['household']}/erase", headers=auth(keys, "dome")), 403
    )


def test_audit_payloads_hold_no_private_field_and_admins_see_no_household_content(
    client: TestClient, keys: dict[str, str]
) -> None:
    """urgent_reason and application_number were in the payloads, and admins read them."""
    urgent = SINGLE | {"urgent": True, "urgent_reason": "leaving a shelter that closes"}
    created = client.post("/v1/households", json=urgent, headers=auth(keys, "coordinator"))
    household_id = created.json()["id"]
    trail = client.get(
        "/v1/audit",
        params={"entity": "household", "entity_id": str(household_id)},
        headers=auth(keys, "coordinator"),
    ).json()["items"]
    (event,) = trail
    assert event["after"]["reference"] == "HH-A"
    assert not {"urgent_reason", "application_number", "needs_reduced_mobility"} & set(
        event["after"]
    )
    client.post("/v1/landlords", json={"name": "Auvergne Habitat"}, headers=auth(keys, "admin"))
    seen = client.get("/v1/audit", headers=auth(keys, "admin")).json()["items"]
    by_entity = {e["entity"]: e for e in seen}
    assert (by_entity["household"]["before"], by_entity["household"]["after"]) == (None, None)
    assert by_entity["household"]["action"] == "household.created"
    assert by_entity["landlord"]["after"]["name"] == "Auvergne Habitat"


def test_closed_cases_are_erased_after_the_retention_period(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    """Withdrawn (or housed) households untouched for longer than the retention period are
    erased by the worker's daily pass; waiting ones, and recent ones, are kept."""
    made = {}
    for reference in ("HH-OLD", "HH-RECENT", "HH-WAITING"):
        posted = client.post(
            "/v1/households",
            json=SINGLE | {"reference": reference},
            headers=auth(keys, "coordinator"),
        )
        made[reference] = posted.json()["id"]
    for reference in ("HH-OLD", "HH-RECENT"):
        client.post(f"/v1/households/{made[reference]}/withdraw", headers=auth(keys, "coordinator"))
    long_ago = datetime(2024, 1, 1, tzinfo=UTC)
    session.execute(
        update(Household)
        .where(Household.id.in_([made["HH-OLD"], made["HH-WAITING"]]))
        .values(updated_at=long_ago)
    )
    erased = purge_closed(session, date(2026, 12, 2), retention_days=730)
    assert erased == [made["HH-OLD"]]
    references = dict(session.execute(select(Household.id, Household.reference)).all())
    assert references[made["HH-OLD"]] == f"erased-{made['HH-OLD']}"
    assert references[made["HH-RECENT"]] == "HH-RECENT"
    assert references[made["HH-WAITING"]] == "HH-WAITING"
    status = session.get(Household, made["HH-WAITING"])
    assert status is not None
    assert status.status is HouseholdStatus.WAITING
