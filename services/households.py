"""Use cases of the households waiting for housing (coordinators only: health data inside)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import (
    ApiRole,
    Exclusion,
    Household,
    HouseholdStatus,
    Landlord,
    LeaseKind,
    MoveInChecklist,
    Unit,
)
from services import audit
from services.access import Actor
from services.errors import Conflict, InvalidInput, NotFound
from services.geocoding import Geocoder
from services.imports import (
    HOUSEHOLD_EDITABLE,
    Imported,
    apply_household_changes,
    build_household,
    household_changes,
    import_households,
)
from services.pages import after_id, next_cursor
from services.records import HouseholdRecord, NeedsRecord, PlaceRecord
from services.territories import NO_TERRITORY


class HouseholdChanges(BaseModel):
    """The fields a coordinator may change on a household; absent fields stay as they are.
    Bounds are the record's: the household is validated as a whole once changed."""

    model_config = ConfigDict(extra="forbid")

    reference: str | None = None  # given, it must be the household's own
    adults: int | None = None
    couple: bool | None = None
    children_ages: list[int] | None = None
    monthly_resources_eur: Decimal | None = None
    housing_benefit_eur: Decimal | None = None
    workplaces: list[PlaceRecord] | None = None
    needs: NeedsRecord | None = None
    preferred_communes: list[str] | None = None
    excluded_communes: list[str] | None = None
    accepted_lease_kinds: list[LeaseKind] | None = None
    registered_on: date | None = None
    urgent: bool | None = None
    urgent_reason: str | None = None
    urgent_deadline: date | None = None
    application_number: str | None = None
    consent_to_share: bool | None = None
    territory: str | None = None
    version: int | None = None  # when given, the update applies only to that version


def as_record(household: Household) -> dict[str, Any]:
    """The household as the fields of a HouseholdRecord (the inverse of build_household)."""
    site = None
    if household.care_site_lat is not None and household.care_site_lon is not None:
        site = {
            "label": household.care_site_label,
            "lat": household.care_site_lat,
            "lon": household.care_site_lon,
            "max_km": household.care_site_max_km,
        }
    return {
        **{
            name: getattr(household, name)
            for name in HouseholdRecord.model_fields
            if name not in {"workplaces", "needs"}
        },
        "workplaces": [
            {
                "address": w.address,
                "commune": w.commune,
                "postcode": w.postcode,
                "lat": w.lat,
                "lon": w.lon,
            }
            for w in household.workplaces
        ],
        "needs": {
            "wheelchair": household.needs_wheelchair,
            "reduced_mobility": household.needs_reduced_mobility,
            "care_site": site,
        },
    }


def _audit_created(session: Session, actor: Actor, household: Household) -> None:
    audit.record(
        session,
        actor,
        "household.created",
        "household",
        household.id,
        after=audit.view(household),
    )


def create_household(
    session: Session, actor: Actor, record: HouseholdRecord, geocoder: Geocoder
) -> Household:
    actor.require(ApiRole.COORDINATOR)
    existing = session.scalars(
        select(Household.id).where(Household.reference == record.reference)
    ).first()
    if existing is not None:
        raise Conflict(
            f"household {record.reference!r} already exists (id {existing})", field="reference"
        )
    household, problems = build_household(record, geocoder)
    if problems:
        field, message = problems[0]
        raise InvalidInput(field, message)
    session.add(household)
    session.flush()
    _audit_created(session, actor, household)
    return household


def get_household(session: Session, actor: Actor, household_id: int) -> Household:
    actor.require(ApiRole.COORDINATOR)
    household = session.scalars(
        select(Household)
        .where(Household.id == household_id)
        .options(selectinload(Household.workplaces))
    ).first()
    if household is None:
        raise NotFound("household", household_id)
    return household


def exclusions_of(session: Session, actor: Actor, household_id: int) -> list[tuple[str, str]]:
    """The units never to be proposed to the household again, by key, with the reason."""
    actor.require(ApiRole.COORDINATOR)
    rows = session.execute(
        select(Landlord.name, Unit.reference, Exclusion.reason)
        .join(Unit, Unit.id == Exclusion.unit_id)
        .join(Landlord, Landlord.id == Unit.landlord_id)
        .where(Exclusion.household_id == household_id)
        .order_by(Exclusion.id)
    ).all()
    return [(f"{landlord}/{reference}", reason) for landlord, reference, reason in rows]


def list_households(
    session: Session,
    actor: Actor,
    *,
    status: HouseholdStatus | None = None,
    urgent: bool | None = None,
    reference_contains: str | None = None,
    territory: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[Sequence[Household], str | None]:
    """Households in id order; `territory` a département, or NO_TERRITORY for those that
    no scoped round reads."""
    actor.require(ApiRole.COORDINATOR)
    query = (
        select(Household)
        .where(Household.id > after_id(cursor))
        .options(selectinload(Household.workplaces))
        .order_by(Household.id)
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(Household.status == status)
    if urgent is not None:
        query = query.where(Household.urgent == urgent)
    if reference_contains:
        query = query.where(Household.reference.contains(reference_contains, autoescape=True))
    if territory == NO_TERRITORY:
        query = query.where(Household.territory.is_(None))
    elif territory is not None:
        query = query.where(Household.territory == territory)
    rows = session.scalars(query).all()
    return rows[:limit], next_cursor(rows, limit)


def territories_in_use(session: Session, actor: Actor) -> list[str]:
    """The départements that follow at least one household, for a filter to offer."""
    actor.require(ApiRole.COORDINATOR)
    found = session.scalars(
        select(Household.territory).where(Household.territory.is_not(None)).distinct()
    )
    return sorted(code for code in found if code is not None)


def update_household(
    session: Session,
    actor: Actor,
    household_id: int,
    changes: HouseholdChanges,
    geocoder: Geocoder,
) -> Household:
    """Apply the given fields (validated as a whole record); workplaces, when given, are
    replaced and geocoded again."""
    household = get_household(session, actor, household_id)
    if changes.version is not None and changes.version != household.version:
        raise Conflict(
            f"household {household_id} is at version {household.version}, not {changes.version}",
            field="version",
        )
    if household.status not in HOUSEHOLD_EDITABLE:
        raise Conflict(
            f"household {household_id} is {household.status}: it cannot be changed now",
            field="status",
        )
    given = changes.model_dump(exclude_unset=True, exclude={"version"})
    if "reference" in given and given["reference"] != household.reference:
        raise InvalidInput("reference", "the reference of a household cannot change")
    before = audit.view(household)
    record = HouseholdRecord.model_validate({**as_record(household), **given})
    rebuilt, problems = build_household(record, geocoder)
    if problems:
        field, message = problems[0]
        raise InvalidInput(field, message)
    apply_household_changes(household, household_changes(household, rebuilt))
    session.flush()
    audit.record(
        session,
        actor,
        "household.updated",
        "household",
        household.id,
        before=before,
        after=audit.view(household),
    )
    return household


def withdraw_household(session: Session, actor: Actor, household_id: int) -> Household:
    household = get_household(session, actor, household_id)
    if household.status is HouseholdStatus.WITHDRAWN:
        return household
    if household.status is not HouseholdStatus.WAITING:
        raise Conflict(
            f"household {household_id} is {household.status}: answer its proposal first",
            field="status",
        )
    household.status = HouseholdStatus.WITHDRAWN
    session.flush()
    audit.record(
        session,
        actor,
        "household.withdrawn",
        "household",
        household.id,
        before={"status": "waiting"},
        after={"status": "withdrawn"},
    )
    return household


def import_coordinator_households(
    session: Session, actor: Actor, source: str, data: str | bytes, geocoder: Geocoder
) -> Imported[Household]:
    """All or nothing: InvalidImport lists every bad cell. New references are created,
    changed ones updated (audited like a PATCH), the rest left as they are."""
    actor.require(ApiRole.COORDINATOR)
    imported = import_households(session, source, data, geocoder)
    for household in imported.created:
        _audit_created(session, actor, household)
    for household, before in imported.updated:
        audit.record(
            session,
            actor,
            "household.updated",
            "household",
            household.id,
            before=before,
            after=audit.view(household),
        )
    return imported


def move_ins(session: Session, actor: Actor) -> list[tuple[MoveInChecklist, str]]:
    """Every move-in checklist with its household's reference, those still open first."""
    actor.require(ApiRole.COORDINATOR)
    rows = session.execute(
        select(MoveInChecklist, Household.reference)
        .join(Household, Household.id == MoveInChecklist.household_id)
        .order_by(MoveInChecklist.id.desc())
    ).all()
    return sorted(
        ((checklist, reference) for checklist, reference in rows), key=lambda r: r[0].settled
    )


def move_in(session: Session, actor: Actor, household_id: int) -> MoveInChecklist:
    actor.require(ApiRole.COORDINATOR)
    checklist = session.scalars(
        select(MoveInChecklist).where(MoveInChecklist.household_id == household_id)
    ).first()
    if checklist is None:
        raise NotFound("move-in checklist of household", household_id)
    return checklist


def update_move_in(
    session: Session,
    actor: Actor,
    household_id: int,
    steps: dict[str, date | None],
    notes: str | None,
) -> MoveInChecklist:
    checklist = move_in(session, actor, household_id)
    before = audit.snapshot(checklist)
    for step, done_on in steps.items():
        setattr(checklist, step, done_on)
    if notes is not None:
        checklist.notes = notes
    session.flush()
    after = audit.snapshot(checklist)
    audit.record(
        session,
        actor,
        "move_in.updated",
        "move_in_checklist",
        checklist.id,
        before=before,
        after={**after, "settled": checklist.settled},
    )
    return checklist
