"""Administration, audit, move-in, deadlines and operational endpoints over HTTP."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Proposal
from services.geocoding import GazetteerGeocoder
from services.proposals import expire_overdue
from tests.api import STUDIO, assert_problem, auth, published_proposal


def test_admin_registers_a_landlord_and_issues_its_key(
    client: TestClient, keys: dict[str, str]
) -> None:
    """An admin creates a landlord and a key for it; the key works once, revoked it stops."""
    created = client.post(
        "/v1/landlords", json={"name": "Allier Habitat"}, headers=auth(keys, "admin")
    )
    assert created.status_code == 201, created.text
    assert_problem(
        client.post("/v1/landlords", json={"name": "Allier Habitat"}, headers=auth(keys, "admin")),
        409,
    )
    issued = client.post(
        "/v1/keys",
        json={"role": "landlord", "owner": "allier-erp", "landlord": "Allier Habitat"},
        headers=auth(keys, "admin"),
    ).json()
    headers = {"Authorization": f"Bearer {issued['key']}"}
    assert client.post("/v1/units", json=STUDIO, headers=headers).status_code == 201
    listed = client.get("/v1/keys", headers=auth(keys, "admin")).json()
    assert all("key" not in k and "key_hash" not in k for k in listed)
    client.post(f"/v1/keys/{issued['prefix']}/revoke", headers=auth(keys, "admin"))
    assert_problem(client.get("/v1/units", headers=headers), 401)
    assert_problem(
        client.post("/v1/landlords", json={"name": "X"}, headers=auth(keys, "coordinator")), 403
    )


def test_audit_trail_records_who_did_what(client: TestClient, keys: dict[str, str]) -> None:
    """Every state change is in the audit trail, with its actor; health data is left out."""
    ids = published_proposal(client, keys)
    trail = client.get("/v1/audit", headers=auth(keys, "coordinator")).json()["items"]
    actions = [(e["action"], e["actor"]) for e in trail]
    assert ("unit.posted", "landlord:dome") in actions
    assert ("household.created", "coordinator:prefecture") in actions
    assert ("round.published", "coordinator:prefecture") in actions
    household_events = client.get(
        f"/v1/audit?entity=household&entity_id={ids['household']}",
        headers=auth(keys, "coordinator"),
    ).json()["items"]
    assert household_events
    for event in household_events:
        assert not any(key.startswith(("needs", "care_site")) for key in event["after"] or {})
    assert_problem(client.get("/v1/audit", headers=auth(keys, "dome")), 403)


def test_move_in_checklist_after_the_lease(client: TestClient, keys: dict[str, str]) -> None:
    """A signed lease opens the checklist; the household is settled when every step is dated."""
    ids = published_proposal(client, keys)
    path = f"/v1/households/{ids['household']}/move-in"
    assert_problem(client.get(path, headers=auth(keys, "coordinator")), 404)
    pid = ids["proposal"]
    client.post(
        f"/v1/proposals/{pid}/decision", json={"decision": "approved"}, headers=auth(keys, "dome")
    )
    client.post(
        f"/v1/proposals/{pid}/household-response",
        json={"answer": "accepted"},
        headers=auth(keys, "coordinator"),
    )
    client.post(f"/v1/proposals/{pid}/lease-signed", headers=auth(keys, "dome"))
    assert client.get(path, headers=auth(keys, "coordinator")).json()["settled"] is False
    steps = {
        "meters_opened_on": "2027-01-04",
        "home_insurance_on": "2027-01-04",
        "housing_benefit_filed_on": "2027-01-05",
        "essential_furniture_on": "2027-01-06",
    }
    partly = client.patch(path, json=steps, headers=auth(keys, "coordinator")).json()
    assert partly["settled"] is False
    done = client.patch(
        path, json={"first_support_visit_on": "2027-01-12"}, headers=auth(keys, "coordinator")
    ).json()
    assert done["settled"] is True
    assert done["meters_opened_on"] == "2027-01-04"


def test_overdue_proposals_expire_and_stalled_lists_them(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    """A proposal near its deadline is listed as stalled; past it, it expires and household
    and unit return to the pool without an exclusion."""
    ids = published_proposal(client, keys)
    session.execute(
        update(Proposal)
        .where(Proposal.id == ids["proposal"])
        .values(respond_by=date.today() + timedelta(days=1))
    )
    session.commit()
    stalled = client.get("/v1/proposals/stalled", headers=auth(keys, "coordinator")).json()
    assert [p["id"] for p in stalled] == [ids["proposal"]]
    assert expire_overdue(session, date.today() + timedelta(days=2)) == [ids["proposal"]]
    session.commit()
    proposal = session.scalars(select(Proposal).where(Proposal.id == ids["proposal"])).one()
    assert proposal.status == "expired"
    unit = client.get(f"/v1/units/{ids['unit']}", headers=auth(keys, "dome")).json()
    assert unit["status"] == "vacant"
    household = client.get(
        f"/v1/households/{ids['household']}", headers=auth(keys, "coordinator")
    ).json()
    assert household["status"] == "waiting"


def test_healthz_reports_the_database(client: TestClient) -> None:
    """/healthz answers without a key and says whether the database is reachable."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_healthz_and_the_api_say_when_the_database_is_unusable(
    geocoder: GazetteerGeocoder, tmp_path: Path
) -> None:
    """A database that exists but is not migrated: /healthz is 503 and says to upgrade. One
    that cannot be reached: /healthz is 503, and so is the API, as problem+json with
    Retry-After (it was a 500)."""
    from api.app import create_app
    from services.settings import Settings

    empty = Settings(database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}", run_worker=False)
    with TestClient(create_app(empty, geocoder=geocoder)) as test_client:
        health = test_client.get("/healthz")
    assert health.status_code == 503
    assert "run `housing-match db upgrade`" in health.json()["database"]

    gone = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/test", run_worker=False)
    with TestClient(
        create_app(gone, geocoder=geocoder), raise_server_exceptions=False
    ) as test_client:
        health = test_client.get("/healthz")
        units = test_client.get("/v1/units", headers={"Authorization": "Bearer hm_x"})
    assert health.status_code == 503
    assert health.json()["database"] == "unreachable"
    assert assert_problem(units, 503)["detail"] == "the database cannot be reached: retry later"
    assert units.headers["retry-after"] == "5"


def test_the_api_docs_work_offline(client: TestClient) -> None:
    """/docs loads Swagger UI from the package, not from a CDN (it was blank offline), and
    asks no other origin for anything."""
    page = client.get("/docs")
    assert page.status_code == 200
    assert re.findall(r"https?://", page.text) == []
    assets = re.findall(r"(/static/[^\"']+)", page.text)
    assert len(assets) == 3  # script, stylesheet, icon
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert '"validatorUrl": null' in page.text


def test_reason_codes_are_documented() -> None:
    """docs/reasons.md lists every reason code with its side (regenerate it if not)."""
    from pathlib import Path

    from services.reasons import REASONS, reasons_markdown

    document = (Path(__file__).resolve().parent.parent / "docs" / "reasons.md").read_text()
    assert document == reasons_markdown()
    assert all(f"`{code}`" in document for code in REASONS)


def test_unexpected_errors_leave_no_trace(geocoder: GazetteerGeocoder) -> None:
    """A bug answers 500 problem+json with a generic detail: no message, no stack trace."""
    from api.app import create_app
    from services.settings import Settings

    app = create_app(Settings(database_url="sqlite://", run_worker=False), geocoder=geocoder)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("household HH-1 has diabetes")

    # raise_server_exceptions=True: the error must not even reach the server, which would
    # log its traceback and message.
    with TestClient(app, raise_server_exceptions=True) as test_client:
        response = test_client.get("/boom")
    body = assert_problem(response, 500)
    assert body["detail"] == "an unexpected error occurred"
    assert "diabetes" not in response.text
    assert "Traceback" not in response.text
