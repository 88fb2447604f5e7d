"""Response bodies. Request bodies are the validated records of services.records."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from models import LeaseKind, UnitStatus


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    address: str | None
    commune: str
    postcode: str
    lat: float
    lon: float
    rooms: int
    surface_m2: float
    floor: int
    elevator: bool
    wheelchair_accessible: bool
    rent_eur: float
    charges_eur: float
    available_from: date
    building_id: str | None
    in_priority_neighbourhood: bool
    lease_kind: LeaseKind
    status: UnitStatus
    version: int
    created_at: datetime
    updated_at: datetime


class UnitPage(BaseModel):
    items: list[UnitOut]
    next_cursor: str | None


class ImportResult(BaseModel):
    imported: int
    ids: list[int]


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` names each bad field."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, object]] | None = None


UNIT_EXAMPLE = {
    "reference": "LOT-2041",
    "address": "12 rue des Volcans",
    "commune": "Clermont-Ferrand",
    "postcode": "63000",
    "rooms": 3,
    "surface_m2": 64.5,
    "floor": 2,
    "elevator": True,
    "wheelchair_accessible": False,
    "rent_eur": 389.0,
    "charges_eur": 85.0,
    "available_from": "2026-12-15",
    "building_id": "DOME-63000-04",
    "in_priority_neighbourhood": False,
    "lease_kind": "direct",
}
