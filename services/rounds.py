"""Match rounds over the database: snapshot the waiting households and vacant units, solve,
store the result on the MatchRound. Publishing proposals is a separate step (the API issue)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import matcher
from models import (
    AuditEvent,
    Exclusion,
    Household,
    HouseholdStatus,
    Landlord,
    MatchRound,
    RoundStatus,
    Unit,
    UnitStatus,
)
from services.roundfile import PolicyIn, result_to_json, to_policy


def unit_key(unit: Unit, landlord_name: str) -> str:
    """The unit's id in a round: readable by a coordinator, unique across landlords."""
    return f"{landlord_name}/{unit.reference}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a round read: the instance, and the versions to detect later changes."""

    instance: matcher.Instance
    household_versions: dict[str, int]
    unit_versions: dict[str, int]
    excluded_pairs: frozenset[tuple[str, str]]


def to_matcher_household(household: Household) -> matcher.Household:
    site = None
    if (
        household.care_site_lat is not None
        and household.care_site_lon is not None
        and household.care_site_max_km is not None
    ):
        site = matcher.CareSite(
            household.care_site_lat, household.care_site_lon, household.care_site_max_km
        )
    return matcher.Household(
        id=household.reference,
        adults=household.adults,
        couple=household.couple,
        children_ages=tuple(household.children_ages),
        monthly_resources_eur=float(household.monthly_resources_eur),
        housing_benefit_eur=float(household.housing_benefit_eur),
        workplaces=tuple(matcher.Point(w.lat, w.lon) for w in household.workplaces),
        needs=matcher.Needs(
            wheelchair=household.needs_wheelchair,
            reduced_mobility=household.needs_reduced_mobility,
            care_site=site,
        ),
        preferred_communes=frozenset(household.preferred_communes),
        excluded_communes=frozenset(household.excluded_communes),
        registered_on=household.registered_on,
        urgent=household.urgent,
        accepted_lease_kinds=frozenset(household.accepted_lease_kinds),
    )


def to_matcher_unit(unit: Unit, landlord_name: str) -> matcher.Unit:
    return matcher.Unit(
        id=unit_key(unit, landlord_name),
        landlord=landlord_name,
        building_id=unit.building_id,
        commune=unit.commune,
        postcode=unit.postcode,
        lat=unit.lat,
        lon=unit.lon,
        rooms=unit.rooms,
        surface_m2=float(unit.surface_m2),
        floor=unit.floor,
        elevator=unit.elevator,
        wheelchair_accessible=unit.wheelchair_accessible,
        rent_eur=float(unit.rent_eur),
        charges_eur=float(unit.charges_eur),
        in_priority_neighbourhood=unit.in_priority_neighbourhood,
        lease_kind=str(unit.lease_kind),
        available_from=unit.available_from,
    )


def take_snapshot(session: Session) -> Snapshot:
    """Waiting households and vacant units, read in the caller's transaction."""
    households = session.scalars(
        select(Household)
        .where(Household.status == HouseholdStatus.WAITING)
        .options(selectinload(Household.workplaces))
        .order_by(Household.reference)
    ).all()
    rows = session.execute(
        select(Unit, Landlord.name)
        .join(Unit.landlord)
        .where(Unit.status == UnitStatus.VACANT)
        .order_by(Unit.id)
    ).all()
    reference_of_household = {h.id: h.reference for h in households}
    key_of_unit = {unit.id: unit_key(unit, name) for unit, name in rows}
    exclusions = session.execute(select(Exclusion.household_id, Exclusion.unit_id)).all()
    return Snapshot(
        instance=matcher.Instance(
            tuple(to_matcher_household(h) for h in households),
            tuple(to_matcher_unit(unit, name) for unit, name in rows),
        ),
        household_versions={h.reference: h.version for h in households},
        unit_versions={key_of_unit[unit.id]: unit.version for unit, _ in rows},
        excluded_pairs=frozenset(
            (reference_of_household[h], key_of_unit[u])
            for h, u in exclusions
            if h in reference_of_household and u in key_of_unit
        ),
    )


def run_round(session: Session, policy_in: PolicyIn, created_by: str) -> MatchRound:
    """Solve a round on the current snapshot and store its result (status SOLVED)."""
    started = datetime.now(UTC)
    match_round = MatchRound(
        policy=policy_in.model_dump(mode="json"),
        status=RoundStatus.RUNNING,
        created_by=created_by,
        started_at=started,
    )
    session.add(match_round)
    session.flush()
    snapshot = take_snapshot(session)
    policy = to_policy(policy_in)
    policy = replace(policy, excluded_pairs=policy.excluded_pairs | snapshot.excluded_pairs)
    result = matcher.solve(snapshot.instance, policy)
    document: dict[str, Any] = result_to_json(result)
    document["snapshot"] = {
        "household_versions": snapshot.household_versions,
        "unit_versions": snapshot.unit_versions,
    }
    match_round.result = document
    match_round.statistics = document["stats"]
    match_round.status = RoundStatus.SOLVED
    match_round.finished_at = datetime.now(UTC)
    session.add(
        AuditEvent(
            actor=created_by,
            action="round.solved",
            entity="match_round",
            entity_id=str(match_round.id),
            after={"status": "solved", "matched": result.stats.matched},
        )
    )
    session.flush()
    return match_round
