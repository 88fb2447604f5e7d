"""The landlords' unit endpoints, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditEvent, Unit
from services.access import KeyCache, revoke_key
from tests.api import assert_problem, auth
from tests.factories import CLOCK

UNIT: dict[str, Any] = {
    "reference": "LOT-1",
    "commune": "Riom",
    "postcode": "63200",
    "rooms": 3,
    "surface_m2": 61.5,
    "floor": 1,
    "rent_eur": 355,
    "charges_eur": 80,
    "available_from": "2026-12-01",
}


def test_landlord_posts_and_reads_its_unit(client: TestClient, keys: dict[str, str]) -> None:
    """POST geocodes the commune; GET returns it to its landlord and to coordinators."""
    created = client.post("/v1/units", json=UNIT, headers=auth(keys, "dome"))
    assert created.status_code == 201, created.text
    unit = created.json()
    assert unit["status"] == "vacant"
    assert unit["lat"] == pytest.approx(45.89, abs=0.01)
    for who in ("dome", "coordinator"):
        fetched = client.get(f"/v1/units/{unit['id']}", headers=auth(keys, who))
        assert fetched.status_code == 200
        assert fetched.json()["reference"] == "LOT-1"


def test_another_landlords_unit_is_not_found(client: TestClient, keys: dict[str, str]) -> None:
    """A landlord asking for another landlord's unit gets 404, never 403."""
    unit = client.post("/v1/units", json=UNIT, headers=auth(keys, "dome")).json()
    for method, path in [
        ("GET", f"/v1/units/{unit['id']}"),
        ("PATCH", f"/v1/units/{unit['id']}"),
        ("POST", f"/v1/units/{unit['id']}/withdraw"),
    ]:
        response = client.request(method, path, json={}, headers=auth(keys, "volcans"))
        assert_problem(response, 404)
    listed = client.get("/v1/units", headers=auth(keys, "volcans")).json()
    assert listed["items"] == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer hm_nonsense"}, 401),
        ({"Authorization": "Basic x"}, 401),
    ],
)
def test_missing_or_unknown_key(client: TestClient, headers: dict[str, str], status: int) -> None:
    """No usable key: 401 problem with a WWW-Authenticate challenge."""
    response = client.get("/v1/units", headers=headers)
    assert_problem(response, status)
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_key_revoked_elsewhere_is_refused_once_its_cache_entry_expires(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    """Revoked in the database (the command line, another server process), a key this
    process has just seen still works until `key_cache_seconds` have passed, then never."""
    elapsed = [0.0]
    client.app.state.keys = KeyCache(5.0, monotonic=lambda: elapsed[0])  # type: ignore[attr-defined]
    assert client.get("/v1/units", headers=auth(keys, "dome")).status_code == 200
    revoke_key(session, keys["dome"].split()[1][:10], CLOCK.now())
    session.commit()
    elapsed[0] = 4.9
    assert client.get("/v1/units", headers=auth(keys, "dome")).status_code == 200
    elapsed[0] = 5.0
    assert_problem(client.get("/v1/units", headers=auth(keys, "dome")), 401)
    elapsed[0] = 60.0
    assert_problem(client.get("/v1/units", headers=auth(keys, "dome")), 401)


@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_only_landlords_post_units(client: TestClient, keys: dict[str, str], who: str) -> None:
    """Coordinators read units but do not post them: 403 problem."""
    assert_problem(client.post("/v1/units", json=UNIT, headers=auth(keys, who)), 403)


def test_invalid_fields_are_named(client: TestClient, keys: dict[str, str]) -> None:
    """Every bad field is named in `errors`, with its location."""
    response = client.post(
        "/v1/units",
        json={**UNIT, "rooms": 0, "surface_m2": "big", "lease_kind": "rent-to-own"},
        headers=auth(keys, "dome"),
    )
    fields = {e["field"] for e in assert_problem(response, 422)["errors"]}
    assert fields == {"body.rooms", "body.surface_m2", "body.lease_kind"}


def test_unknown_commune_is_a_422_naming_it(client: TestClient, keys: dict[str, str]) -> None:
    """A commune the geocoder does not know is refused with close names."""
    response = client.post(
        "/v1/units",
        json={**UNIT, "commune": "Rion", "postcode": "63999"},
        headers=auth(keys, "dome"),
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "body.commune"


def test_reposting_a_reference_is_a_conflict(client: TestClient, keys: dict[str, str]) -> None:
    """The same reference twice: 409 naming it, and still one unit."""
    assert client.post("/v1/units", json=UNIT, headers=auth(keys, "dome")).status_code == 201
    body = assert_problem(client.post("/v1/units", json=UNIT, headers=auth(keys, "dome")), 409)
    assert "LOT-1" in body["detail"]
    assert len(client.get("/v1/units", headers=auth(keys, "dome")).json()["items"]) == 1


def test_idempotent_retry_returns_the_first_result(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    """A retried POST with the same Idempotency-Key returns the first unit, creates no other;
    the same key with another body is refused."""
    headers = {**auth(keys, "dome"), "Idempotency-Key": "retry-1"}
    first = client.post("/v1/units", json=UNIT, headers=headers)
    second = client.post("/v1/units", json=UNIT, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert session.scalar(select(func.count()).select_from(Unit)) == 1
    other = client.post("/v1/units", json={**UNIT, "reference": "LOT-2"}, headers=headers)
    assert_problem(other, 409)


def test_cursor_pagination_walks_every_unit_once(client: TestClient, keys: dict[str, str]) -> None:
    """Pages of two, following next_cursor, list all five units once, in order."""
    for n in range(5):
        client.post("/v1/units", json={**UNIT, "reference": f"LOT-{n}"}, headers=auth(keys, "dome"))
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/units", params=params, headers=auth(keys, "dome")).json()
        seen += [u["reference"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"LOT-{n}" for n in range(5)]
    assert_problem(client.get("/v1/units?cursor=%%%", headers=auth(keys, "dome")), 422)


def test_filters_by_status_and_commune(client: TestClient, keys: dict[str, str]) -> None:
    """status and commune filter the list."""
    first = client.post("/v1/units", json=UNIT, headers=auth(keys, "dome")).json()
    client.post(
        "/v1/units",
        json={**UNIT, "reference": "LOT-2", "commune": "Issoire", "postcode": "63500"},
        headers=auth(keys, "dome"),
    )
    client.post(f"/v1/units/{first['id']}/withdraw", headers=auth(keys, "dome"))
    vacant = client.get("/v1/units?status=vacant", headers=auth(keys, "dome")).json()["items"]
    assert [u["reference"] for u in vacant] == ["LOT-2"]
    riom = client.get("/v1/units?commune=Riom", headers=auth(keys, "dome")).json()["items"]
    assert [u["status"] for u in riom] == ["withdrawn"]


def test_patch_with_a_stale_version_changes_nothing(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    """PATCH applies the given fields, bumps the version and is audited; a stale version
    is a 409 and leaves the unit as it was."""
    unit = client.post("/v1/units", json=UNIT, headers=auth(keys, "dome")).json()
    path = f"/v1/units/{unit['id']}"
    changed = client.patch(path, json={"rent_eur": 370, "version": 1}, headers=auth(keys, "dome"))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["rent_eur"], changed.json()["version"]) == (370.0, 2)
    stale = client.patch(path, json={"rent_eur": 999, "version": 1}, headers=auth(keys, "dome"))
    assert_problem(stale, 409)
    assert client.get(path, headers=auth(keys, "dome")).json()["rent_eur"] == 370.0
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "unit")).all()
    assert actions == ["unit.posted", "unit.updated"]


def test_patch_moving_the_unit_geocodes_again(client: TestClient, keys: dict[str, str]) -> None:
    """Changing commune and postcode without coordinates places the unit in the new commune."""
    unit = client.post("/v1/units", json=UNIT, headers=auth(keys, "dome")).json()
    moved = client.patch(
        f"/v1/units/{unit['id']}",
        json={"commune": "Issoire", "postcode": "63500"},
        headers=auth(keys, "dome"),
    ).json()
    assert moved["lat"] == pytest.approx(45.54, abs=0.02)


def test_import_is_all_or_nothing(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    """A CSV with one bad row imports nothing and lists the row and field; a good one imports."""
    header = "reference,commune,postcode,rooms,surface_m2,rent_eur,available_from\n"
    good = "LOT-7,Riom,63200,3,61,355,2026-12-01\n"
    bad = "LOT-8,Riom,63200,3,-4,355,2026-12-01\n"
    headers = {**auth(keys, "dome"), "Content-Type": "text/csv"}
    refused = client.post("/v1/units/import", content=header + good + bad, headers=headers)
    body = assert_problem(refused, 422)
    assert body["errors"] == [
        {
            "row": 3,
            "field": "surface_m2",
            "message": "Input should be greater than 0",
            "column": "surface_m2",
            "value": "-4",
        }
    ]
    assert session.scalar(select(func.count()).select_from(Unit)) == 0
    imported = client.post("/v1/units/import", content=header + good, headers=headers)
    assert imported.status_code == 201, imported.text
    assert imported.json()["imported"] == 1


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    """Even a wrong URL answers in problem+json."""
    assert_problem(client.get("/v1/nowhere"), 404)


def test_openapi_documents_every_body_with_an_example(client: TestClient) -> None:
    """/docs is complete: every request body of the API has an example, but a spreadsheet,
    a binary file that cannot be written inline (the CSV beside it shows its columns)."""
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            for kind, media in body["content"].items():
                if media["schema"].get("format") == "binary":
                    assert "text/csv" in body["content"], f"{method} {path}"
                    continue
                assert "example" in media or "examples" in media, f"{method} {path} {kind}"


def test_a_body_over_the_limit_is_refused_unread(client: TestClient, keys: dict[str, str]) -> None:
    """A declared body over the limit is a 413 problem before the app reads it; so is a
    chunked one (no Content-Length) as soon as it passes the limit. Nothing is stored."""
    limit = client.app.state.settings.max_request_bytes  # type: ignore[attr-defined]
    padded = UNIT | {"address": "x" * (limit + 1)}
    declared = client.post("/v1/units", json=padded, headers=auth(keys, "dome"))
    assert "over the limit" in assert_problem(declared, 413)["detail"]

    def chunks() -> Any:
        body = json.dumps(padded).encode()
        for start in range(0, len(body), 65_536):
            yield body[start : start + 65_536]

    chunked = client.post(
        "/v1/units",
        content=chunks(),
        headers=auth(keys, "dome") | {"Content-Type": "application/json"},
    )
    assert_problem(chunked, 413)
    assert client.get("/v1/units", headers=auth(keys, "dome")).json()["items"] == []


def test_an_import_refuses_hostile_json_with_a_clear_error(
    client: TestClient, keys: dict[str, str]
) -> None:
    """JSON nested 1,000 deep and a 5,000-digit integer were 500s on the import routes."""
    headers = auth(keys, "dome") | {"Content-Type": "application/json"}
    for body, expected in (
        ("[" * 1000 + "]" * 1000, "nested too deeply"),
        ("[" + "9" * 5000 + "]", "a number too long"),
    ):
        response = client.post("/v1/units/import", content=body, headers=headers)
        assert expected in assert_problem(response, 422)["errors"][0]["message"]


def test_an_import_is_read_in_its_encoding_or_refused_never_stored_garbled(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A Windows-1252 CSV (French Excel's) was stored with replacement characters
    ("Ch\\ufffdtel-Guyon"): it is read in its encoding, as is UTF-8 with a byte-order mark;
    a file in another encoding (Cyrillic Windows-1251) is refused, naming it."""
    csv = "reference,commune,postcode,rooms,surface_m2,rent_eur,available_from\n"
    headers = auth(keys, "dome") | {"Content-Type": "text/csv"}
    for reference, encoding in (("LOT-9", "cp1252"), ("LOT-10", "utf-8-sig")):
        row = f"{reference},Châtel-Guyon,63140,2,45,300,2026-12-01\n"
        imported = client.post(
            "/v1/units/import", content=(csv + row).encode(encoding), headers=headers
        )
        assert imported.status_code == 201, imported.text
    units = client.get("/v1/units", headers=auth(keys, "dome")).json()["items"]
    assert [u["commune"] for u in units] == ["Châtel-Guyon", "Châtel-Guyon"]
    cyrillic = csv + "ЛОТ-1,Москва,63140,2,45,300,2026-12-01\n"
    refused = client.post("/v1/units/import", content=cyrillic.encode("cp1251"), headers=headers)
    assert "neither UTF-8 nor Windows-1252" in assert_problem(refused, 422)["errors"][0]["message"]


def test_a_refused_import_lists_the_first_errors_and_counts_them_all(
    client: TestClient, keys: dict[str, str]
) -> None:
    rows = [UNIT | {"reference": f"LOT-{i}", "rooms": 0} for i in range(150)]
    response = client.post("/v1/units/import", json=rows, headers=auth(keys, "dome"))
    body = assert_problem(response, 422)
    assert body["error_count"] == 150
    assert len(body["errors"]) == 100
    assert "first 100 listed" in body["detail"]
