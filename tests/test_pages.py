"""The pages (api/pages/), through FastAPI's TestClient: signing in, CSRF, roles, escaping,
security headers, forms that show their errors, and what a landlord may see."""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.pages.text import TEXT
from services.reasons import REASONS, REASONS_FR
from tests.api import SINGLE, STUDIO, auth, published_proposal, solved_round

HOSTILE = "<script>alert(1)</script>"


def signed_in(client: TestClient, keys: dict[str, str], who: str) -> str:
    """Sign in with the key of `who`; the CSRF token of the session."""
    token = keys[who].removeprefix("Bearer ")
    response = client.post("/ui/sign-in", data={"api_key": token, "next": "/ui"})
    assert response.status_code == 200, response.text
    return csrf_of(client.get("/ui/units").text)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "no form with a CSRF token on the page"
    return found.group(1)


def test_both_languages_say_everything() -> None:
    assert TEXT["fr"].keys() == TEXT["en"].keys()
    assert REASONS_FR.keys() == REASONS.keys()


def test_signing_in_sets_a_strict_cookie_and_signing_out_ends_it(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A page asks for a key first; a good key gives an HttpOnly, SameSite=Strict session
    cookie; a bad one is refused; after signing out the session is gone."""
    first = client.get("/ui/households", follow_redirects=False)
    assert (first.status_code, first.headers["location"]) == (
        303,
        "/ui/sign-in?next=/ui/households",
    )
    refused = client.post("/ui/sign-in", data={"api_key": "hm_wrong"})
    assert refused.status_code == 401
    token = keys["coordinator"].removeprefix("Bearer ")
    accepted = client.post(
        "/ui/sign-in", data={"api_key": token, "next": "//evil.example"}, follow_redirects=False
    )
    assert accepted.headers["location"] == "/ui"  # never sent to another site
    cookie = accepted.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/ui" in cookie
    csrf = csrf_of(client.get("/ui").text)
    client.post("/ui/sign-out", data={"csrf": csrf})
    client.cookies.set("hm_session", accepted.cookies["hm_session"], path="/ui")
    assert client.get("/ui", follow_redirects=False).status_code == 303


def test_every_page_carries_the_security_headers(client: TestClient, keys: dict[str, str]) -> None:
    signed_in(client, keys, "coordinator")
    for path in ("/ui", "/ui/households", "/ui/rounds", "/ui/audit", "/ui/sign-in", "/ui/x"):
        headers = client.get(path).headers
        assert headers["content-security-policy"].startswith(
            "default-src 'none'; script-src 'self'"
        )
        assert headers["x-content-type-options"] == "nosniff"


def test_a_form_without_the_session_token_changes_nothing(
    client: TestClient, keys: dict[str, str]
) -> None:
    signed_in(client, keys, "coordinator")
    forged = client.post("/ui/rounds", data={"csrf": "forged"})
    assert forged.status_code == 403
    rounds = client.get("/v1/rounds", headers=auth(keys, "coordinator")).json()["items"]
    assert rounds == []


def test_a_landlord_gets_404_on_every_coordinator_page(
    client: TestClient, keys: dict[str, str]
) -> None:
    signed_in(client, keys, "dome")
    for path in ("/ui/households", "/ui/households/1", "/ui/rounds", "/ui/rounds/1", "/ui/audit"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert TEXT["fr"]["not_found"].replace("'", "&#39;") in page.text


def test_user_text_is_escaped(client: TestClient, keys: dict[str, str]) -> None:
    client.post(
        "/v1/households", json=SINGLE | {"reference": HOSTILE}, headers=auth(keys, "coordinator")
    )
    signed_in(client, keys, "coordinator")
    page = client.get("/ui/households").text
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_import_shows_each_bad_cell_and_imports_nothing(
    client: TestClient, keys: dict[str, str]
) -> None:
    csrf = signed_in(client, keys, "coordinator")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Référence", "Adultes", "Ressources mensuelles", "Inscrit le"])
    sheet.append(["HH-1", 1, 900, "10/01/2026"])
    sheet.append(["HH-2", "deux", 900, "32/01/2026"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    files = {"file": ("menages.xlsx", buffer.getvalue(), "application/octet-stream")}
    refused = client.post("/ui/households/import", data={"csrf": csrf}, files=files)
    assert refused.status_code == 422
    rows = re.findall(
        r"<tr><td class=\"n\">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>", refused.text
    )
    assert set(rows) == {("3", "Adultes", "deux"), ("3", "Inscrit le", "32/01/2026")}
    assert "HH-1" not in client.get("/ui/households").text


def test_a_round_form_names_its_bad_field(client: TestClient, keys: dict[str, str]) -> None:
    """The form's defaults queue a round; a bad value is named, alone, and kept."""
    csrf = signed_in(client, keys, "coordinator")
    form = dict(
        re.findall(r'<input id="(\w+)" name="\w+" value="([^"]*)"', client.get("/ui/rounds").text)
    )
    assert form["max_effort_rate"] == "0.35"
    page = client.post("/ui/rounds", data={"csrf": csrf, **form, "max_effort_rate": "3"})
    assert page.status_code == 422
    assert re.findall(r'aria-describedby="(\w+)-error"', page.text) == ["max_effort_rate"]
    assert 'id="max_effort_rate" name="max_effort_rate" value="3"' in page.text
    queued = client.post("/ui/rounds", data={"csrf": csrf, **form}, follow_redirects=False)
    assert queued.status_code == 303
    round_id = int(queued.headers["location"].rsplit("/", 1)[-1])
    stored = client.get(f"/v1/rounds/{round_id}", headers=auth(keys, "coordinator")).json()
    assert stored["policy"]["max_effort_rate"] == 0.35
    assert form["weight_urgent"] == "2000.0"  # every weight shows its default too
    bad_weight = client.post("/ui/rounds", data={"csrf": csrf, **form, "weight_urgent": "-1"})
    assert re.findall(r'aria-describedby="(\w+)-error"', bad_weight.text) == ["weight_urgent"]
    weighted = client.post(
        "/ui/rounds", data={"csrf": csrf, **form, "weight_urgent": "3000"}, follow_redirects=False
    )
    round_id = int(weighted.headers["location"].rsplit("/", 1)[-1])
    stored = client.get(f"/v1/rounds/{round_id}", headers=auth(keys, "coordinator")).json()
    assert stored["policy"]["weights"]["urgent"] == 3000


def test_a_round_form_scopes_the_round_to_a_territory(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Départements and communes are typed as lists separated by ';'; the round keeps them
    and its page says which territory it read; a code that is no département is named."""
    csrf = signed_in(client, keys, "coordinator")
    territory = {"territory_departements": "63; 3", "territory_communes": "Riom;Volvic"}
    queued = client.post("/ui/rounds", data={"csrf": csrf, **territory}, follow_redirects=False)
    assert queued.status_code == 303
    round_id = int(queued.headers["location"].rsplit("/", 1)[-1])
    stored = client.get(f"/v1/rounds/{round_id}", headers=auth(keys, "coordinator")).json()
    assert stored["policy"]["territory"] == {
        "departements": ["63", "03"],
        "communes": ["Riom", "Volvic"],
    }
    assert "63, 03 (Riom, Volvic)" in client.get(f"/ui/rounds/{round_id}").text
    refused = client.post("/ui/rounds", data={"csrf": csrf, "territory_departements": "20"})
    assert refused.status_code == 422
    errors = re.findall(r'aria-describedby="(\w+)-error"', refused.text)
    assert errors == ["territory_departements"]


def test_a_coordinator_runs_and_publishes_a_round(client: TestClient, keys: dict[str, str]) -> None:
    """The round's page shows the figures of its result; publishing makes the proposals."""
    client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome"))
    client.post("/v1/households", json=SINGLE, headers=auth(keys, "coordinator"))
    round_id = solved_round(client, keys)
    csrf = signed_in(client, keys, "coordinator")
    page = client.get(f"/ui/rounds/{round_id}").text
    result = client.get(f"/v1/rounds/{round_id}/result", headers=auth(keys, "coordinator")).json()
    assert f'<b id="matched">{result["stats"]["matched"]}</b>' in page
    published = client.post(f"/ui/rounds/{round_id}/publish", data={"csrf": csrf})
    assert TEXT["fr"]["published"].format(count=1) in published.text
    proposals: list[dict[str, Any]] = client.get(
        "/v1/proposals", headers=auth(keys, "coordinator")
    ).json()["items"]
    assert [p["household_reference"] for p in proposals] == ["HH-A"]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_landlord_sees_its_proposals_minimised_and_decides(
    client: TestClient, keys: dict[str, str], language: str
) -> None:
    """No health data, workplace or free text of the household in the landlord's page; the
    other landlord sees none of it; the decision is recorded."""
    ids = published_proposal(client, keys)
    csrf = signed_in(client, keys, "dome")
    if language == "en":
        client.post("/ui/language", data={"csrf": csrf, "language": "en", "back": "/ui"})
    page = client.get("/ui/proposals").text
    main = page.split("<main")[1].split("</main>")[0]
    assert "LOT-S" in main
    assert "HH-A" in main  # the household consented to share its reference
    # its workplace's commune, its care site, its needs: none of it
    for private in ("Clermont-Ferrand", "45.76", "mobilit", "lieu de soins", "care", "wheelchair"):
        assert private not in main, private
    decided = client.post(
        f"/ui/proposals/{ids['proposal']}/decision",
        data={"csrf": csrf, "decision": "approved"},
    )
    assert decided.status_code == 200
    state = client.get(f"/v1/proposals/{ids['proposal']}", headers=auth(keys, "dome")).json()
    assert state["commission_answer"] == "approved"
    signed_in(client, keys, "volcans")
    assert "LOT-S" not in client.get("/ui/proposals").text


def form_of(page: str) -> dict[str, str]:
    """A record form's fields as the page fills them (text inputs and selected options)."""
    fields = dict(re.findall(r'<input id="field-(\w+)" name="\w+" value="([^"]*)"', page))
    for name, options in re.findall(
        r'<select id="field-(\w+)" name="\w+"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        fields[name] = chosen.group(1) if chosen else ""
    return fields


def test_a_household_is_created_and_edited_with_the_import_columns(
    client: TestClient, keys: dict[str, str]
) -> None:
    """The form reads as a spreadsheet row (French figures, a workplace by commune, a care
    site); saving it unchanged changes nothing; a stale version is refused."""
    csrf = signed_in(client, keys, "coordinator")
    bad = client.post(
        "/ui/households/new", data={"csrf": csrf, "reference": "HH-F", "adults": "deux"}
    )
    assert bad.status_code == 422
    assert set(re.findall(r'id="field-(\w+)-error"', bad.text)) == {
        "adults",
        "monthly_resources_eur",
        "registered_on",
    }
    created = client.post(
        "/ui/households/new",
        data={
            "csrf": csrf,
            "reference": "HH-F",
            "adults": "2",
            "couple": "oui",
            "monthly_resources_eur": "1 450,50",
            "registered_on": "2026-09-15",
            "workplace_1_commune": "Issoire",
            "care_site_commune": "Riom",
            "care_site_max_km": "15",
            "needs_reduced_mobility": "oui",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    household_id = int(created.headers["location"].rsplit("/", 1)[-1])
    stored = client.get(f"/v1/households/{household_id}", headers=auth(keys, "coordinator")).json()
    assert stored["monthly_resources_eur"] == 1450.5
    assert [w["commune"] for w in stored["workplaces"]] == ["Issoire"]
    assert stored["needs_reduced_mobility"] is True
    assert stored["care_site_max_km"] == 15
    edit = client.get(f"/ui/households/{household_id}/edit").text
    form = form_of(edit) | {"csrf": csrf, "version": "1"}
    same = client.post(f"/ui/households/{household_id}/edit", data=form, follow_redirects=False)
    assert same.status_code == 303
    again = client.get(f"/v1/households/{household_id}", headers=auth(keys, "coordinator")).json()
    assert again == stored  # unchanged, version included
    client.post(
        f"/ui/households/{household_id}/edit", data=form | {"adults": "3"}, follow_redirects=False
    )
    stale = client.post(f"/ui/households/{household_id}/edit", data=form | {"adults": "4"})
    assert stale.status_code == 422
    assert "version 2, not 1" in stale.text


def test_a_landlord_posts_and_edits_a_unit(client: TestClient, keys: dict[str, str]) -> None:
    csrf = signed_in(client, keys, "dome")
    posted = client.post(
        "/ui/units/new",
        data={
            "csrf": csrf,
            "reference": "LOT-F",
            "commune": "Riom",
            "postcode": "63200",
            "rooms": "3",
            "surface_m2": "61,5",
            "rent_eur": "355",
            "available_from": "2026-12-01",
            "elevator": "oui",
            "lease_kind": "sliding",
        },
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    (unit,) = client.get("/v1/units", headers=auth(keys, "dome")).json()["items"]
    assert (unit["surface_m2"], unit["elevator"], unit["lease_kind"]) == (61.5, True, "sliding")
    form = form_of(client.get(f"/ui/units/{unit['id']}/edit").text)
    assert form["surface_m2"] == "61.50"
    client.post(f"/ui/units/{unit['id']}/edit", data=form | {"csrf": csrf, "rent_eur": "360"})
    changed = client.get(f"/v1/units/{unit['id']}", headers=auth(keys, "dome")).json()
    assert (changed["rent_eur"], changed["version"]) == (360, 2)
    signed_in(client, keys, "volcans")
    assert client.get(f"/ui/units/{unit['id']}/edit").status_code == 404


def test_standing_overrides_are_kept_until_removed(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A pin needs a reason; it is listed with its author, applied to the next round and
    removed on request; each step is in the audit trail."""
    client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome"))
    client.post("/v1/households", json=SINGLE, headers=auth(keys, "coordinator"))
    csrf = signed_in(client, keys, "coordinator")
    pin = {"csrf": csrf, "kind": "pin", "household": "HH-A", "unit": "Dome Habitat/LOT-S"}
    refused = client.post("/ui/overrides", data=pin | {"reason": "  "})
    assert refused.status_code == 422
    unknown = client.post("/ui/overrides", data=pin | {"unit": "Dome/LOT-S", "reason": "x"})
    assert "no unit &#39;Dome/LOT-S&#39;" in unknown.text
    client.post("/ui/overrides", data=pin | {"reason": "works next door"})
    page = client.get("/ui/overrides").text
    assert "works next door" in page
    assert "coordinator:prefecture" in page
    round_id = solved_round(client, keys)
    result = client.get(f"/v1/rounds/{round_id}/result", headers=auth(keys, "coordinator")).json()
    assert result["pins"] == [
        {"household": "HH-A", "unit": "Dome Habitat/LOT-S", "applied": True, "reason": "pinned"}
    ]
    override_id = re.search(r"/ui/overrides/(\d+)/remove", page)
    assert override_id is not None
    client.post(f"/ui/overrides/{override_id.group(1)}/remove", data={"csrf": csrf})
    assert "works next door" not in client.get("/ui/overrides").text
    actions = [
        e["action"]
        for e in client.get("/v1/audit", headers=auth(keys, "coordinator")).json()["items"]
    ]
    assert {"override.pin", "override.removed"} <= set(actions)


def test_a_forbidden_pair_is_never_proposed(client: TestClient, keys: dict[str, str]) -> None:
    client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome"))
    client.post("/v1/households", json=SINGLE, headers=auth(keys, "coordinator"))
    csrf = signed_in(client, keys, "coordinator")
    client.post(
        "/ui/overrides",
        data={
            "csrf": csrf,
            "kind": "forbid",
            "household": "HH-A",
            "unit": "Dome Habitat/LOT-S",
            "reason": "former neighbour conflict",
        },
    )
    round_id = solved_round(client, keys)
    result = client.get(f"/v1/rounds/{round_id}/result", headers=auth(keys, "coordinator")).json()
    assert result["matches"] == []


def test_a_move_in_is_followed_step_by_step_until_settled(
    client: TestClient, keys: dict[str, str]
) -> None:
    ids = published_proposal(client, keys)
    pid = ids["proposal"]
    client.post(
        f"/v1/proposals/{pid}/household-response",
        json={"answer": "accepted"},
        headers=auth(keys, "coordinator"),
    )
    client.post(
        f"/v1/proposals/{pid}/decision", json={"decision": "approved"}, headers=auth(keys, "dome")
    )
    assert client.post(f"/v1/proposals/{pid}/lease-signed", headers=auth(keys, "dome")).is_success
    csrf = signed_in(client, keys, "coordinator")
    assert "HH-A — en cours" in client.get("/ui/move-ins").text
    steps = {
        "meters_opened_on": "2026-12-03",
        "home_insurance_on": "2026-12-03",
        "housing_benefit_filed_on": "2026-12-04",
        "essential_furniture_on": "2026-12-05",
        "first_support_visit_on": "2026-12-10",
    }
    path = f"/ui/move-ins/{ids['household']}"
    bad = client.post(path, data={"csrf": csrf, **steps, "home_insurance_on": "3/12"})
    assert bad.status_code == 422
    client.post(path, data={"csrf": csrf, **steps})
    assert "HH-A — terminé" in client.get("/ui/move-ins").text


def test_units_are_filtered_and_mapped(client: TestClient, keys: dict[str, str]) -> None:
    """Filters by landlord, size and accessibility narrow both the table and the map; a
    filter left on "all" (an empty field) filters nothing."""
    client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome"))
    larger = STUDIO | {"reference": "LOT-L", "rooms": 4, "surface_m2": 80}
    client.post(
        "/v1/units", json=larger | {"wheelchair_accessible": True}, headers=auth(keys, "dome")
    )
    client.post("/v1/units", json=larger | {"reference": "LOT-V"}, headers=auth(keys, "volcans"))
    signed_in(client, keys, "coordinator")

    def shown(query: str) -> tuple[set[str], int]:
        page = client.get(f"/ui/units?{query}")
        assert page.status_code == 200, page.text
        table = page.text.split('<table id="units">')[1]
        return set(re.findall(r"<tr><td>(LOT-\w+)</td>", table)), page.text.count("<circle")

    assert shown("status=&landlord_id=&min_rooms=&accessible=") == ({"LOT-S", "LOT-L", "LOT-V"}, 3)
    assert shown("min_rooms=3") == ({"LOT-L", "LOT-V"}, 2)
    assert shown("min_rooms=3&accessible=true") == ({"LOT-L"}, 1)
    dome = re.search(r'<option value="(\d+)" >Dome Habitat</option>', client.get("/ui/units").text)
    assert dome is not None
    assert shown(f"landlord_id={dome.group(1)}")[0] == {"LOT-S", "LOT-L"}


def test_a_stale_round_lists_what_changed_and_can_publish_the_rest(
    client: TestClient, keys: dict[str, str]
) -> None:
    client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome"))
    household = client.post("/v1/households", json=SINGLE, headers=auth(keys, "coordinator"))
    round_id = solved_round(client, keys)
    client.patch(
        f"/v1/households/{household.json()['id']}",
        json={"adults": 2},
        headers=auth(keys, "coordinator"),
    )
    csrf = signed_in(client, keys, "coordinator")
    stale = client.post(f"/ui/rounds/{round_id}/publish", data={"csrf": csrf})
    assert stale.status_code == 409
    listed = re.search(r'<div class="alert" role="alert" id="stale">(.*?)</div>', stale.text, re.S)
    assert listed is not None
    assert "HH-A" in listed.group(1)
    assert 'name="skip_changed"' in stale.text
    rest = client.post(
        f"/ui/rounds/{round_id}/publish", data={"csrf": csrf, "skip_changed": "true"}
    )
    assert TEXT["fr"]["published"].format(count=0) in rest.text


def test_a_household_record_shows_refusals_and_exclusions(
    client: TestClient, keys: dict[str, str]
) -> None:
    ids = published_proposal(client, keys)
    client.post(
        f"/v1/proposals/{ids['proposal']}/decision",
        json={"decision": "rejected", "reason_code": "commission_file_incomplete"},
        headers=auth(keys, "dome"),
    )
    signed_in(client, keys, "coordinator")
    record = client.get(f"/ui/households/{ids['household']}").text
    assert REASONS_FR["commission_file_incomplete"] in record
    exclusions = re.search(r'<ul id="exclusions">(.*?)</ul>', record, re.S)
    assert exclusions is not None
    assert "Dome Habitat/LOT-S" in exclusions.group(1)


def test_households_are_filtered_by_territory(client: TestClient, keys: dict[str, str]) -> None:
    """The filter offers the départements in use and "none"; each shows its households."""
    for reference, territory in [("HH-63", "63"), ("HH-03", "03"), ("HH-0", None)]:
        body = SINGLE | {"reference": reference, "territory": territory}
        client.post("/v1/households", json=body, headers=auth(keys, "coordinator"))
    signed_in(client, keys, "coordinator")
    page = client.get("/ui/households", params={"territory": "none"}).text
    offered = page.split('id="territory"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w*)"', offered) == ["", "03", "63", "none"]
    assert '<option value="none" selected>' in offered
    assert "HH-0<" in page
    assert "HH-63" not in page
    assert "HH-03" in client.get("/ui/households", params={"territory": "03"}).text
