"""The coordinators' household endpoints, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.schemas import HOUSEHOLD_EXAMPLE
from models import AuditEvent
from tests.api import SINGLE, assert_problem, auth


def created(client: TestClient, keys: dict[str, str]) -> dict[str, object]:
    response = client.post(
        "/v1/households", json=HOUSEHOLD_EXAMPLE, headers=auth(keys, "coordinator")
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_coordinator_changes_a_households_workplaces(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    """PATCH with new workplaces (the OpenAPI example's shape) replaces them, geocoded; the
    household keeps its other fields, and the audit trail records the change without the
    workplaces themselves. It was a 500 ("Workplace not in session") every time."""
    household = created(client, keys)
    path = f"/v1/households/{household['id']}"
    changes = {
        "workplaces": [
            {"commune": "Riom", "postcode": "63200"},
            {"commune": "Issoire", "postcode": "63500"},
        ],
        "version": household["version"],
    }
    changed = client.patch(path, json=changes, headers=auth(keys, "coordinator"))
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert [w["commune"] for w in body["workplaces"]] == ["Riom", "Issoire"]
    assert all(w["lat"] is not None and w["lon"] is not None for w in body["workplaces"])
    assert body["version"] == household["version"] + 1  # type: ignore[operator]
    assert body["children_ages"] == HOUSEHOLD_EXAMPLE["children_ages"]
    read = client.get(path, headers=auth(keys, "coordinator")).json()
    assert read["workplaces"] == body["workplaces"]
    again = client.patch(path, json={"workplaces": []}, headers=auth(keys, "coordinator"))
    assert again.status_code == 200, again.text
    assert again.json()["workplaces"] == []
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "household.updated")
    ).all()
    assert len(events) == 2
    assert all("Riom" not in str(event.before) + str(event.after) for event in events)


def test_a_stale_version_is_refused_and_changes_nothing(
    client: TestClient, keys: dict[str, str]
) -> None:
    household = created(client, keys)
    path = f"/v1/households/{household['id']}"
    stale = client.patch(
        path,
        json={"workplaces": [{"commune": "Riom", "postcode": "63200"}], "version": 99},
        headers=auth(keys, "coordinator"),
    )
    assert assert_problem(stale, 409)["errors"][0]["field"] == "body.version"
    read = client.get(path, headers=auth(keys, "coordinator")).json()
    assert [w["commune"] for w in read["workplaces"]] == ["Clermont-Ferrand"]


def test_a_households_territory_is_given_and_changed(
    client: TestClient, keys: dict[str, str]
) -> None:
    """The département that follows a household is stored as a code (the Ain's 1 as 01),
    moved by PATCH, and a code that names no département is a 422 naming the field."""
    household = created(client, keys)
    assert household["territory"] == "63"
    path = f"/v1/households/{household['id']}"
    moved = client.patch(path, json={"territory": "1"}, headers=auth(keys, "coordinator"))
    assert moved.status_code == 200, moved.text
    assert moved.json()["territory"] == "01"
    refused = client.patch(path, json={"territory": "20"}, headers=auth(keys, "coordinator"))
    assert "body.territory" in [e["field"] for e in assert_problem(refused, 422)["errors"]]
    assert client.get(path, headers=auth(keys, "coordinator")).json()["territory"] == "01"


def test_households_are_listed_by_territory(client: TestClient, keys: dict[str, str]) -> None:
    """A département's households, or those followed by none (no scoped round reads them);
    a code that is no département is a 422 naming the parameter."""
    for reference, territory in [("HH-63", "63"), ("HH-03", "03"), ("HH-0", None)]:
        body = SINGLE | {"reference": reference, "territory": territory}
        created = client.post("/v1/households", json=body, headers=auth(keys, "coordinator"))
        assert created.status_code == 201, created.text

    def listed(territory: str) -> list[str]:
        page = client.get(
            "/v1/households", params={"territory": territory}, headers=auth(keys, "coordinator")
        )
        assert page.status_code == 200, page.text
        return [h["reference"] for h in page.json()["items"]]

    assert listed("63") == ["HH-63"]
    assert listed("none") == ["HH-0"]
    refused = client.get("/v1/households?territory=20", headers=auth(keys, "coordinator"))
    assert "query.territory" in [e["field"] for e in assert_problem(refused, 422)["errors"]]
