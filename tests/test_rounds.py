"""Match rounds over the database: the snapshot, the stored result, refusals."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent, Exclusion, Household, MatchRound, RoundStatus, Unit, UnitStatus
from services.geocoding import GazetteerGeocoder
from services.imports import load_fixtures
from services.roundfile import PolicyIn
from services.rounds import run_round, take_snapshot

POLICY = PolicyIn.model_validate({"round_date": "2026-12-01"})


def test_round_on_the_fixtures_is_stored_with_its_statistics(
    session: Session, fixtures_dir: Path, geocoder: GazetteerGeocoder
) -> None:
    """A round reads every waiting household and vacant unit and stores result and stats."""
    counts = load_fixtures(session, fixtures_dir, geocoder)
    match_round = run_round(session, POLICY, created_by="coordinator@test")
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
    first = run_round(session, POLICY, created_by="test")
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
    assert len(snapshot.instance.units) == len(first.result["snapshot"]["unit_versions"]) - 1
    second = run_round(session, POLICY, created_by="test")
    assert second.result is not None
    pairs = {(m["household"], m["unit"]) for m in second.result["matches"]}
    assert (match["household"], match["unit"]) not in pairs


def test_refused_policy_marks_the_round_failed(
    session: Session, fixtures_dir: Path, geocoder: GazetteerGeocoder
) -> None:
    """A policy the core cannot honour fails the round with the reason, and proposes nothing."""
    load_fixtures(session, fixtures_dir, geocoder)
    policy = PolicyIn.model_validate(
        {
            "round_date": "2026-12-01",
            "income_quota": {"share": 0.25, "threshold_eur_per_consumption_unit": 9000},
        }
    )
    match_round = run_round(session, policy, created_by="test")
    assert match_round.status is RoundStatus.FAILED
    assert match_round.error is not None
    assert "income_quota" in match_round.error
    assert match_round.result is None
