"""Match rounds over the database: the snapshot, the stored result, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher import IncomeQuota
from matcher.income import is_low_income
from models import (
    ApiRole,
    AuditEvent,
    Exclusion,
    Household,
    MatchRound,
    Proposal,
    RoundStatus,
    Unit,
    UnitStatus,
)
from services.access import Actor
from services.geocoding import GazetteerGeocoder
from services.imports import load_fixtures
from services.rounds import publish_round, run_round, take_snapshot
from services.territories import ScopedPolicyIn
from tests import factories
from tests.factories import CLOCK

POLICY = ScopedPolicyIn.model_validate({"round_date": "2026-12-01"})
COORDINATOR = Actor(key_id=None, role=ApiRole.COORDINATOR, name="test")


def test_round_on_the_fixtures_is_stored_with_its_statistics(
    session: Session, fixtures_dir: Path, geocoder: GazetteerGeocoder
) -> None:
    """A round reads every waiting household and vacant unit and stores result and stats."""
    counts = load_fixtures(session, fixtures_dir, geocoder)
    match_round = run_round(session, POLICY, "coordinator@test", CLOCK)
    assert match_round.status is RoundStatus.SOLVED
    assert match_round.result is not None
    stats = match_round.result["stats"]
    assert (stats["households"], stats["units"]) == (counts["households"], counts["units"])
    assert stats["matched"] == len(match_round.result["matches"]) > 0
    assert stats["matched"] + len(match_round.result["unmatched"]) == stats["households"]
    stored = session.get(MatchRound, match_round.id)
    assert stored is not None
    assert stored.statistics == stats
    assert session.scalars(select(AuditEvent.action)).all() == ["round.solved"]


def test_snapshot_leaves_out_let_units_and_honours_exclusions(
    session: Session, fixtures_dir: Path, geocoder: GazetteerGeocoder
) -> None:
    """Only vacant units are offered, and an excluded pair is never proposed again."""
    load_fixtures(session, fixtures_dir, geocoder)
    first = run_round(session, POLICY, "test", CLOCK)
    assert first.result is not None
    match = first.result["matches"][0]
    household = session.scalars(
        select(Household).where(Household.reference == match["household"])
    ).one()
    unit_reference = match["unit"].split("/", 1)[1]
    unit = session.scalars(select(Unit).where(Unit.reference == unit_reference)).first()
    assert unit is not None
    session.add(Exclusion(household_id=household.id, unit_id=unit.id, reason="refused"))
    let = session.scalars(select(Unit).where(Unit.id != unit.id)).first()
    assert let is not None
    let.status = UnitStatus.LET
    session.flush()

    snapshot = take_snapshot(session)
    assert (household.reference, match["unit"]) in snapshot.excluded_pairs
    assert first.snapshot is not None
    assert len(snapshot.instance.units) == len(first.snapshot["units"]) - 1
    second = run_round(session, POLICY, "test", CLOCK)
    assert second.result is not None
    pairs = {(m["household"], m["unit"]) for m in second.result["matches"]}
    assert (match["household"], match["unit"]) not in pairs


def test_round_with_the_income_quota_meets_it(
    session: Session, fixtures_dir: Path, geocoder: GazetteerGeocoder
) -> None:
    """With the French 25% quota, a quarter of the matches outside priority neighbourhoods
    go to households under the income threshold."""
    load_fixtures(session, fixtures_dir, geocoder)
    policy = ScopedPolicyIn.model_validate(
        {
            "round_date": "2026-12-01",
            "income_quota": {"share": 0.25, "threshold_eur_per_consumption_unit": 9000},
        }
    )
    match_round = run_round(session, policy, "test", CLOCK)
    assert match_round.result is not None
    snapshot = take_snapshot(session)
    households = {h.id: h for h in snapshot.instance.households}
    units = {u.id: u for u in snapshot.instance.units}
    outside = [
        m for m in match_round.result["matches"] if not units[m["unit"]].in_priority_neighbourhood
    ]
    low = [m for m in outside if is_low_income(households[m["household"]], QUOTA)]
    assert outside
    assert len(low) >= 0.25 * len(outside)


QUOTA = IncomeQuota(share=0.25, threshold_eur_per_consumption_unit=9000)


def _two_territories(session: Session) -> None:
    """Households followed in 63, 03, 2A and nowhere yet; units in Riom and Clermont (63),
    Montluçon (03), Ajaccio (2A) and Bastia (2B)."""
    owner = factories.landlord(session)
    for reference, commune, postcode in [
        ("RIOM", "Riom", "63200"),
        ("CLERMONT", "Clermont-Ferrand", "63000"),
        ("MONTLUCON", "Montluçon", "03100"),
        ("AJACCIO", "Ajaccio", "20000"),
        ("BASTIA", "Bastia", "20200"),
    ]:
        session.add(factories.unit(owner, reference=reference, commune=commune, postcode=postcode))
    for reference, territory in [("HH-63", "63"), ("HH-03", "03"), ("HH-2A", "2A"), ("HH-0", None)]:
        session.add(factories.household(reference=reference, territory=territory))
    session.flush()


@pytest.mark.parametrize(
    ("territory", "households", "units"),
    [
        (
            None,
            ["HH-0", "HH-03", "HH-2A", "HH-63"],
            ["RIOM", "CLERMONT", "MONTLUCON", "AJACCIO", "BASTIA"],
        ),
        ({"departements": ["63"]}, ["HH-63"], ["RIOM", "CLERMONT"]),
        ({"departements": ["63", "03"]}, ["HH-03", "HH-63"], ["RIOM", "CLERMONT", "MONTLUCON"]),
        ({"departements": ["63"], "communes": ["clermont ferrand"]}, ["HH-63"], ["CLERMONT"]),
        ({"departements": ["2A"]}, ["HH-2A"], ["AJACCIO"]),
        ({"departements": ["2B"]}, [], ["BASTIA"]),
    ],
)
def test_a_round_scoped_to_a_territory_reads_only_it(
    session: Session,
    territory: dict[str, list[str]] | None,
    households: list[str],
    units: list[str],
) -> None:
    """A territory's round reads the households its départements follow and the vacant
    units of its départements (or of its communes); a household without a territory is
    only in rounds over everything."""
    _two_territories(session)
    policy = ScopedPolicyIn.model_validate({"round_date": "2026-12-01", "territory": territory})
    match_round = run_round(session, policy, "test", CLOCK)
    assert match_round.result is not None
    read = match_round.snapshot
    assert read is not None
    assert sorted(read["households"]) == households
    assert [key.split("/")[1] for key in read["units"]] == units
    assert match_round.result["stats"]["households"] == len(households)


def test_publishing_moves_exactly_the_matched_rows_on(
    session: Session, fixtures_dir: Path, geocoder: GazetteerGeocoder
) -> None:
    """One proposal per match, ranked from 1 on each unit; each matched household and unit
    is proposed and one version on (so a round that read it before is stale); every other
    row is as it was."""
    load_fixtures(session, fixtures_dir, geocoder)
    policy = ScopedPolicyIn.model_validate({"round_date": "2026-12-01", "candidates_per_unit": 2})
    match_round = run_round(session, policy, "test", CLOCK)
    assert match_round.result is not None
    assert match_round.snapshot is not None
    read = match_round.snapshot
    matches = match_round.result["matches"]
    published = publish_round(session, COORDINATOR, match_round.id, CLOCK, 10)
    assert len(published.proposal_ids) == len(matches) > 0
    session.expire_all()
    proposals = session.scalars(select(Proposal).order_by(Proposal.unit_id, Proposal.rank)).all()
    assert sorted(p.id for p in proposals) == sorted(published.proposal_ids)
    ranks: dict[int, list[int]] = {}
    for proposal in proposals:
        ranks.setdefault(proposal.unit_id, []).append(proposal.rank)
    assert all(r == list(range(1, len(r) + 1)) for r in ranks.values())
    assert max(len(r) for r in ranks.values()) == 2
    matched = {read["households"][m["household"]][0] for m in matches}
    for household in session.scalars(select(Household)):
        _, version = read["households"][household.reference]
        if household.id in matched:
            assert (household.status, household.version) == ("proposed", version + 1)
        else:
            assert (household.status, household.version) == ("waiting", version)
    proposed_units = {read["units"][m["unit"]][0] for m in matches}
    for unit in session.scalars(select(Unit)):
        assert (unit.status == UnitStatus.PROPOSED) == (unit.id in proposed_units)


def test_a_listed_commune_without_units_is_named_in_the_notes(session: Session) -> None:
    """A misspelt commune selects no unit: the round says so instead of staying silent."""
    _two_territories(session)
    territory = {"departements": ["63"], "communes": ["Clermont-Ferrand", "Clermont-Ferand"]}
    policy = ScopedPolicyIn.model_validate({"round_date": "2026-12-01", "territory": territory})
    match_round = run_round(session, policy, "test", CLOCK)
    assert match_round.result is not None
    assert match_round.result["notes"][-1] == (
        "territory: no vacant unit in Clermont-Ferand (communes are matched by name)"
    )
    everywhere = run_round(session, POLICY, "test", CLOCK)
    assert everywhere.result is not None
    assert not any(note.startswith("territory") for note in everywhere.result["notes"])
