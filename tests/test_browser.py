"""The pages in a real browser: Debian's chromium, headless, driven by Playwright, against
`housing-match serve` (with its round worker) on the embedded SQLite default and the shipped
fixtures. Screenshots of the main pages go to out/screenshots/ as artefacts of the run."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import select

from models import Household, migrate
from models.db import make_engine, session_factory
from services import templates
from services.geocoding import GazetteerGeocoder, load_gazetteer
from services.imports import load_fixtures
from services.settings import Settings
from tests.conftest import EmptyDatabase
from tests.served import Served

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).parent.parent / "out" / "screenshots"
HOSTILE = '<img src=x onerror="window.pwned=1">'

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true", reason="no chromium on this machine"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The shipped fixtures on a fresh SQLite file, served with a round worker."""
    database = EmptyDatabase("sqlite", tmp_path_factory.mktemp("browser"))
    migrate.upgrade(database.url)
    engine = make_engine(database.url)
    settings = Settings()
    geocoder = GazetteerGeocoder(load_gazetteer(settings.gazetteer_path))
    with session_factory(engine)() as session, session.begin():
        load_fixtures(session, settings.fixtures_dir, geocoder)
        server = Served.of(database.url, session)
    engine.dispose()
    server.start()
    try:
        yield server
    finally:
        server.kill()


def households_workbook() -> bytes:
    """The households template with two households of our own, one named with markup."""
    workbook = openpyxl.load_workbook(io.BytesIO(templates.as_xlsx("households")))
    sheet = workbook["households"]
    example = [cell.value for cell in sheet[2]]
    sheet.cell(row=2, column=1, value="HH-BROWSER-1")
    sheet.append([HOSTILE, *example[1:]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# The fields of a page that a screen reader could not name (no <label>, no aria-label).
UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea')].filter(
    (field) => field.labels.length === 0 && !field.getAttribute('aria-label')).map(
    (field) => location.pathname + ' ' + (field.name || field.id))"""


def fields_without_label(page: Any) -> list[str]:
    if page.url.endswith("/report"):  # the report is a document: no form
        return []
    found: list[str] = page.evaluate(UNLABELLED)
    return found


def key_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_a_coordinator_and_a_landlord_do_their_job_in_the_browser(
    served: Served, tmp_path: Path
) -> None:
    """From a households spreadsheet to a settled move-in, in French, each person with their
    own browser context; the landlord sees only its own proposals, minimised."""
    from playwright.sync_api import Page, expect, sync_playwright

    assert CHROMIUM is not None, "chromium is required in CI (.ci/run installs it)"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    origin = served.url
    requested: list[str] = []
    unlabelled: list[str] = []

    def watch(page: Page) -> Page:
        page.on("request", lambda request: requested.append(request.url))
        page.on("load", lambda loaded: unlabelled.extend(fields_without_label(loaded)))
        return page

    def sign_in(page: Page, key: str) -> None:
        page.goto(f"{origin}/ui")
        expect(page).to_have_url(f"{origin}/ui/sign-in?next=/ui")
        page.get_by_label("Clé d'API").fill(key)
        page.get_by_role("button", name="Se connecter").click()

    workbook = tmp_path / "menages.xlsx"
    workbook.write_bytes(households_workbook())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)

        # The coordinator: sign in, import households, run a round, read it, publish it.
        coordinator = watch(browser.new_context().new_page())
        sign_in(coordinator, key_of(served.coordinator))
        expect(coordinator.get_by_role("heading", name="Tableau de bord")).to_be_visible()
        coordinator.screenshot(path=SCREENSHOTS / "coordinator-dashboard.png", full_page=True)

        coordinator.get_by_role("link", name="Ménages").first.click()
        coordinator.get_by_role("link", name="Importer un tableur").click()
        coordinator.get_by_label("Fichier").set_input_files(workbook)
        coordinator.get_by_role("button", name="Envoyer").click()
        expect(coordinator.locator("#imported")).to_contain_text("2 créé(s)")
        coordinator.goto(f"{origin}/ui/households?q=img")
        expect(coordinator.locator("#households")).to_contain_text(HOSTILE)  # shown as text
        assert coordinator.evaluate("window.pwned") is None  # ...and never run
        coordinator.screenshot(path=SCREENSHOTS / "coordinator-households.png", full_page=True)

        coordinator.get_by_role("link", name="Tours").click()
        coordinator.get_by_label("Date du tour").fill("2026-12-01")
        coordinator.get_by_role("button", name="Lancer").click()
        status = coordinator.locator("#round-status")
        expect(status).to_have_attribute("data-status", "solved", timeout=60_000)
        round_id = coordinator.url.rsplit("/", 1)[-1]
        result = httpx.get(
            f"{origin}/v1/rounds/{round_id}/result", headers=served.coordinator
        ).json()
        expect(coordinator.locator("#matched")).to_have_text(str(result["stats"]["matched"]))
        expect(coordinator.locator("#unmatched-count")).to_have_text(str(len(result["unmatched"])))
        assert coordinator.locator("#matches tbody tr").count() == len(result["matches"])
        coordinator.screenshot(path=SCREENSHOTS / "coordinator-round.png", full_page=True)

        coordinator.get_by_role("link", name="Rapport (à imprimer)").click()
        expect(coordinator.locator("svg")).to_be_visible()
        coordinator.screenshot(path=SCREENSHOTS / "coordinator-report.png", full_page=True)
        coordinator.go_back()

        coordinator.get_by_role("button", name="Publier les propositions").click()
        expect(coordinator.locator("#published")).to_contain_text(
            f"{len(result['matches'])} proposition(s) publiée(s)"
        )

        # The landlord: only its own proposals, minimised; a decision; no coordinator page.
        landlord = watch(browser.new_context().new_page())
        sign_in(landlord, key_of(served.landlord))
        expect(landlord).to_have_url(f"{origin}/ui/proposals")
        rows = landlord.locator("#proposals tbody tr")
        dome_matches = [m for m in result["matches"] if m["unit"].startswith("Dome Habitat/")]
        expect(rows).to_have_count(len(dome_matches))
        html = landlord.content()
        engine = make_engine(served.database_url)
        with session_factory(engine)() as session:
            proposed = session.scalars(
                select(Household).where(
                    Household.reference.in_([m["household"] for m in dome_matches])
                )
            ).all()
            private = [h.urgent_reason for h in proposed] + [h.care_site_label for h in proposed]
        engine.dispose()
        for text in filter(None, private):
            assert text not in html
        for word in ("fauteuil", "mobilité réduite", "lieu de soins", "Travail"):
            assert word not in html
        landlord.screenshot(path=SCREENSHOTS / "landlord-proposals.png", full_page=True)
        first = rows.first
        first.get_by_label("Décision de la commission").select_option("rejected")
        first.get_by_label("Motif").select_option("commission_other_candidate")
        first.get_by_role("button", name="Enregistrer").click()
        expect(landlord.locator("#proposals")).to_contain_text("rejeté en commission")
        # The next one goes all the way: approved, accepted, lease signed, moved in.
        second = rows.nth(1)
        second.get_by_label("Décision de la commission").select_option("approved")
        second.get_by_role("button", name="Enregistrer").click()
        coordinator.goto(f"{origin}/ui/proposals?status=approved")
        answer = coordinator.locator("#proposals tbody tr").first
        answer.get_by_label("Réponse").select_option("accepted")
        answer.get_by_role("button", name="Enregistrer").click()
        landlord.goto(f"{origin}/ui/proposals?status=approved")
        landlord.get_by_role("button", name="Bail signé").click()
        expect(landlord.locator("#proposals")).to_contain_text("bail signé")
        coordinator.goto(f"{origin}/ui/move-ins")
        checklist = coordinator.locator("section.checklist").first
        for label in (
            "Compteurs ouverts le",
            "Assurance habitation le",
            "Demande d'aide au logement déposée le",
            "Mobilier de première nécessité le",
            "Première visite d'accompagnement le",
        ):
            checklist.get_by_label(label).fill("2026-12-10")
        checklist.get_by_role("button", name="Enregistrer").click()
        expect(coordinator.locator("section.checklist h2").first).to_contain_text("terminé")
        coordinator.screenshot(path=SCREENSHOTS / "coordinator-move-ins.png", full_page=True)

        landlord.goto(f"{origin}/ui/households")
        expect(landlord.get_by_role("heading", name="Erreur 404")).to_be_visible()

        # The English switch.
        landlord.goto(f"{origin}/ui/proposals")
        landlord.get_by_role("button", name="English").click()
        expect(landlord.get_by_role("heading", name="Proposals")).to_be_visible()
        browser.close()

    foreign = [url for url in requested if not url.startswith((origin, "data:", "about:"))]
    assert foreign == []
    assert unlabelled == []  # every field of every page opened has a label
    assert {path.name for path in SCREENSHOTS.glob("*.png")} >= {
        "coordinator-dashboard.png",
        "coordinator-round.png",
        "landlord-proposals.png",
    }
