"""The round report (services/report.py): self-contained, faithful to the stored result,
escaped, in French or English, and only for coordinators."""

from __future__ import annotations

import os
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from models import ApiRole
from services.access import Actor
from services.geocoding import GazetteerGeocoder
from services.imports import load_fixtures
from services.report import build_report, render_report
from services.rounds import run_round
from services.territories import ScopedPolicyIn
from tests import factories
from tests.api import SINGLE, STUDIO, assert_problem, auth, solved_round

COORDINATOR = Actor(None, ApiRole.COORDINATOR, "test")
HOSTILE = "<script>alert(1)</script>"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Page(HTMLParser):
    """What a browser would fetch or run, and the rows of each table."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []
        self.tags: set[str] = set()
        self.rows: dict[str, int] = {}
        self._table: str | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        self.fetched += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "action")]
        if tag == "table":
            self._table = values.get("id") or "?"
            self.rows[self._table] = 0
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table:
            self.rows[self._table] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False


def parsed(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


@pytest.fixture
def demo_round(session: Session, geocoder: GazetteerGeocoder, fixtures_dir: Path) -> int:
    """The demo's round on the shipped fixtures, with a household whose reference is HTML."""
    load_fixtures(session, fixtures_dir, geocoder)
    session.add(factories.household(reference=HOSTILE, adults=1))
    session.flush()
    policy = ScopedPolicyIn.model_validate_json((fixtures_dir / "demo_policy.json").read_text())
    return run_round(session, policy, "test", factories.CLOCK).id


def test_the_report_loads_nothing_and_runs_nothing(session: Session, demo_round: int) -> None:
    """No script, no stylesheet link, no image, no address of any kind: it opens offline."""
    for language in ("fr", "en"):
        html = render_report(session, COORDINATOR, demo_round, language)
        page = parsed(html)
        assert page.fetched == []
        assert not page.tags & {"script", "link", "img", "iframe", "object", "embed"}
        assert "url(" not in html
        assert "http" not in html
        assert "<svg" in html


def test_the_report_shows_the_stored_result(session: Session, demo_round: int) -> None:
    """Its figures and tables are those of the round's result; the comparison is computed."""
    from models import MatchRound

    stored = session.get(MatchRound, demo_round)
    assert stored is not None
    assert stored.result is not None
    result: dict[str, Any] = stored.result
    html = render_report(session, COORDINATOR, demo_round, "en")
    page = parsed(html)
    assert page.rows["matches"] == len(result["matches"]) > 0
    assert page.rows["unmatched"] == len(result["unmatched"]) > 0
    stats = result["stats"]
    assert f"{stats['matched']:,} / {stats['households']:,}" in html
    assert "On the same feasible pairs, serving households in order of registration" in html
    report = build_report(session, COORDINATOR, demo_round, "en")
    assert report.greedy is not None
    assert report.greedy[0] <= stats["matched"]  # the round houses as many as possible
    assert report.greedy[1] <= report.urgent_housed == report.urgent_total
    french = render_report(session, COORDINATOR, demo_round, "fr")
    assert "Comparaison avec le premier arrivé, premier servi" in french
    assert "logement(s) avec" in french  # a relaxation, in French


def test_user_text_is_escaped(session: Session, demo_round: int) -> None:
    html = render_report(session, COORDINATOR, demo_round, "fr")
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_api_serves_it_to_coordinators_only(client: TestClient, keys: dict[str, str]) -> None:
    """HTML with a policy that forbids loading anything; landlords are refused; a round not
    solved yet is a 409."""
    client.post("/v1/units", json=STUDIO, headers=auth(keys, "dome"))
    client.post("/v1/households", json=SINGLE, headers=auth(keys, "coordinator"))
    round_id = solved_round(client, keys)
    path = f"/v1/rounds/{round_id}/report"
    page = client.get(path, params={"lang": "en"}, headers=auth(keys, "coordinator"))
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "HH-A" in page.text
    assert_problem(client.get(path, headers=auth(keys, "dome")), 403)
    queued = client.post("/v1/rounds", json={}, headers=auth(keys, "coordinator")).json()["id"]
    assert_problem(
        client.get(f"/v1/rounds/{queued}/report", headers=auth(keys, "coordinator")), 409
    )


@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true", reason="no chromium on this machine"
)
def test_chromium_opens_the_report_without_a_single_request(
    session: Session, demo_round: int, tmp_path: Path
) -> None:
    """Opened from disk in headless Chromium, the report asks for nothing but itself."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "chromium is required in CI (.ci/run installs it)"
    report = tmp_path / "report.html"
    report.write_text(render_report(session, COORDINATOR, demo_round, "fr"), encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(report.as_uri())
        assert page.locator("svg circle").count() > 0
        assert page.locator("#matches tbody tr").count() > 0
        pdf = page.pdf(format="A4")  # the print stylesheet renders
        browser.close()
    assert requested == [report.as_uri()]
    assert pdf.startswith(b"%PDF")
