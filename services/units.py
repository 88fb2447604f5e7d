"""Use cases of a landlord's vacant units: post, list, read, update, withdraw, import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Row, Select, select, true
from sqlalchemy.orm import Session

from models import ApiRole, Landlord, LeaseKind, Unit, UnitStatus
from services import audit
from services.access import Actor
from services.errors import Conflict, InvalidInput, NotFound
from services.geocoding import Geocoder, GeocodingError
from services.imports import UNIT_EDITABLE, Imported, import_units
from services.pages import after_id, next_cursor
from services.records import Money, UnitRecord


class UnitChanges(BaseModel):
    """The fields a landlord may change on a unit; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    address: str | None = None
    commune: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    rooms: int | None = None
    surface_m2: Decimal | None = None
    floor: int | None = None
    elevator: bool | None = None
    wheelchair_accessible: bool | None = None
    rent_eur: Decimal | None = None
    charges_eur: Decimal | None = None
    available_from: date | None = None
    building_id: str | None = None
    in_priority_neighbourhood: bool | None = None
    lease_kind: LeaseKind | None = None
    version: int | None = None  # when given, the update applies only to that version


class UnitDefaults(BaseModel):
    """Values for the columns an imported file lacks (an RPLS extract has no availability
    date, lease kind, elevator or charges); a file's own cells win."""

    model_config = ConfigDict(extra="forbid")

    available_from: date | None = None
    lease_kind: LeaseKind | None = None
    elevator: bool | None = None
    charges_eur: Money | None = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def _landlord(session: Session, actor: Actor) -> Landlord:
    actor.require(ApiRole.LANDLORD)
    landlord = session.get(Landlord, actor.landlord_id)
    if landlord is None:
        raise NotFound("landlord", actor.landlord_id)
    return landlord


def _geocoded(record: UnitRecord, geocoder: Geocoder) -> tuple[float, float]:
    if record.lat is not None and record.lon is not None:
        return record.lat, record.lon
    parts = (record.address and f"{record.address},", record.postcode, record.commune)
    try:
        return geocoder.locate(" ".join(p for p in parts if p))
    except GeocodingError as error:
        raise InvalidInput("commune", str(error)) from None


def post_unit(session: Session, actor: Actor, record: UnitRecord, geocoder: Geocoder) -> Unit:
    landlord = _landlord(session, actor)
    existing = session.scalars(
        select(Unit.id).where(Unit.landlord_id == landlord.id, Unit.reference == record.reference)
    ).first()
    if existing is not None:
        raise Conflict(
            f"unit {record.reference!r} already exists (id {existing})", field="reference"
        )
    lat, lon = _geocoded(record, geocoder)
    unit = Unit(
        landlord_id=landlord.id,
        lat=lat,
        lon=lon,
        **record.model_dump(exclude={"landlord", "lat", "lon"}),
    )
    session.add(unit)
    session.flush()
    audit.record(session, actor, "unit.posted", "unit", unit.id, after=audit.snapshot(unit))
    return unit


def sees(actor: Actor, unit: Unit) -> bool:
    """A landlord sees only its own units; coordinators and admins see all."""
    return actor.role is not ApiRole.LANDLORD or unit.landlord_id == actor.landlord_id


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """The condition on units that `sees` says, for a query."""
    return Unit.landlord_id == actor.landlord_id if actor.role is ApiRole.LANDLORD else true()


def get_unit(session: Session, actor: Actor, unit_id: int) -> Unit:
    """A landlord sees only its own units (another's is 'not found', so ids cannot be
    probed); coordinators and admins see all."""
    actor.require(ApiRole.LANDLORD, ApiRole.COORDINATOR, ApiRole.ADMIN)
    unit = session.get(Unit, unit_id)
    if unit is None or not sees(actor, unit):
        raise NotFound("unit", unit_id)
    return unit


QueryT = TypeVar("QueryT", bound=Select)  # type: ignore[type-arg]  # any columns


@dataclass(frozen=True, slots=True)
class UnitFilter:
    """Which units a list shows; empty fields filter nothing."""

    status: UnitStatus | None = None
    commune: str | None = None
    landlord_id: int | None = None
    min_rooms: int | None = None
    wheelchair_accessible: bool | None = None

    def applied(self, query: QueryT, actor: Actor) -> QueryT:
        query = query.where(visible_to(actor))
        if self.status is not None:
            query = query.where(Unit.status == self.status)
        if self.commune:
            query = query.where(Unit.commune == self.commune)
        if self.landlord_id is not None:
            query = query.where(Unit.landlord_id == self.landlord_id)
        if self.min_rooms is not None:
            query = query.where(Unit.rooms >= self.min_rooms)
        if self.wheelchair_accessible is not None:
            query = query.where(Unit.wheelchair_accessible == self.wheelchair_accessible)
        return query


def list_units(
    session: Session,
    actor: Actor,
    *,
    status: UnitStatus | None = None,
    commune: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    among: UnitFilter | None = None,
) -> tuple[Sequence[Row[Any]], str | None]:
    """A page of units in id order, and the cursor of the next page (None at the end).

    Rows, read only: their fields are the unit's (`row.reference`); without the ORM's
    identity map a page of 50 takes a fifth less of the server's time (the most read
    page of the API, docs/benchmarks.md)."""
    actor.require(ApiRole.LANDLORD, ApiRole.COORDINATOR, ApiRole.ADMIN)
    chosen = among or UnitFilter(status=status, commune=commune)
    query = (
        select(Unit.__table__).where(Unit.id > after_id(cursor)).order_by(Unit.id).limit(limit + 1)
    )
    rows = session.execute(chosen.applied(query, actor)).all()
    return rows[:limit], next_cursor(rows, limit)


def unit_places(
    session: Session, actor: Actor, among: UnitFilter, most: int
) -> Sequence[tuple[str, float, float, UnitStatus]]:
    """Commune, position and status of (at most `most` of) the units a filter shows: a map."""
    actor.require(ApiRole.LANDLORD, ApiRole.COORDINATOR, ApiRole.ADMIN)
    query = select(Unit.commune, Unit.lat, Unit.lon, Unit.status).order_by(Unit.id).limit(most)
    return [
        (commune, lat, lon, status)
        for commune, lat, lon, status in session.execute(among.applied(query, actor))
    ]


def update_unit(
    session: Session, actor: Actor, unit_id: int, changes: UnitChanges, geocoder: Geocoder
) -> Unit:
    actor.require(ApiRole.LANDLORD)
    unit = get_unit(session, actor, unit_id)
    if changes.version is not None and changes.version != unit.version:
        raise Conflict(
            f"unit {unit_id} is at version {unit.version}, not {changes.version}: reload it",
            field="version",
        )
    if unit.status not in UNIT_EDITABLE:
        raise Conflict(f"unit {unit_id} is {unit.status}: it cannot be changed now", field="status")
    before = audit.snapshot(unit)
    given = changes.model_dump(exclude_unset=True, exclude={"version"})
    merged: dict[str, Any] = {
        **{k: v for k, v in before.items() if k in UnitRecord.model_fields},
        **given,
    }
    moved = {"address", "commune", "postcode"} & given.keys() and not {"lat", "lon"} & given.keys()
    if moved:
        merged.pop("lat", None)
        merged.pop("lon", None)
    record = UnitRecord.model_validate(merged)
    lat, lon = _geocoded(record, geocoder)
    for name, value in record.model_dump(exclude={"landlord", "lat", "lon"}).items():
        setattr(unit, name, value)
    unit.lat, unit.lon = lat, lon
    session.flush()
    audit.record(
        session, actor, "unit.updated", "unit", unit.id, before=before, after=audit.snapshot(unit)
    )
    return unit


def withdraw_unit(session: Session, actor: Actor, unit_id: int) -> Unit:
    actor.require(ApiRole.LANDLORD)
    unit = get_unit(session, actor, unit_id)
    if unit.status is UnitStatus.WITHDRAWN:
        return unit
    if unit.status is not UnitStatus.VACANT:
        raise Conflict(
            f"unit {unit_id} is {unit.status}: only a vacant unit can be withdrawn",
            field="status",
        )
    unit.status = UnitStatus.WITHDRAWN
    session.flush()
    audit.record(
        session,
        actor,
        "unit.withdrawn",
        "unit",
        unit.id,
        before={"status": "vacant"},
        after={"status": "withdrawn"},
    )
    return unit


def import_landlord_units(
    session: Session,
    actor: Actor,
    source: str,
    data: str | bytes,
    geocoder: Geocoder,
    defaults: dict[str, Any] | None = None,
    *,
    today: date,
) -> Imported[Unit]:
    """All or nothing: InvalidImport lists every bad cell. New references are posted,
    changed ones updated (audited like a PATCH), the rest left as they are; `defaults` fill
    the columns the file lacks (an RPLS extract's units are available from `today`)."""
    landlord = _landlord(session, actor)
    imported = import_units(
        session, source, data, geocoder, landlord=landlord, defaults=defaults, today=today
    )
    for unit in imported.created:
        audit.record(session, actor, "unit.posted", "unit", unit.id, after=audit.snapshot(unit))
    for unit, before in imported.updated:
        audit.record(
            session,
            actor,
            "unit.updated",
            "unit",
            unit.id,
            before=before,
            after=audit.snapshot(unit),
        )
    return imported
