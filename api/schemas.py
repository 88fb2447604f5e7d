"""Response bodies. Request bodies are the validated records of services.records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models import HouseholdStatus, LeaseKind, UnitStatus
from services.imports import Imported
from services.proposals import ProposalForCoordinator, ProposalForLandlord


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
    """An import's outcome: rows written (created + updated), and each kind; `ids` of every
    row's record, created first."""

    imported: int
    created: int
    updated: int
    unchanged: int
    ids: list[int]

    @classmethod
    def of(cls, imported: Imported[Any]) -> ImportResult:
        return cls(
            imported=len(imported.created) + len(imported.updated),
            created=len(imported.created),
            updated=len(imported.updated),
            unchanged=len(imported.unchanged),
            ids=imported.ids,
        )


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` names each bad field (a refused import: the first
    100 bad cells, and `error_count` all of them)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, object]] | None = None
    error_count: int | None = None


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


class PlaceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    address: str | None
    commune: str | None
    postcode: str | None
    lat: float
    lon: float


class HouseholdOut(BaseModel):
    """Everything about a household: for coordinators only (health data, workplaces)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    adults: int
    couple: bool
    children_ages: list[int]
    monthly_resources_eur: float
    housing_benefit_eur: float
    workplaces: list[PlaceOut]
    needs_wheelchair: bool
    needs_reduced_mobility: bool
    care_site_label: str | None
    care_site_lat: float | None
    care_site_lon: float | None
    care_site_max_km: float | None
    preferred_communes: list[str]
    excluded_communes: list[str]
    accepted_lease_kinds: list[str]
    registered_on: date
    urgent: bool
    urgent_reason: str | None
    urgent_deadline: date | None
    application_number: str | None
    consent_to_share: bool
    territory: str | None
    status: HouseholdStatus
    version: int
    created_at: datetime
    updated_at: datetime


class HouseholdPage(BaseModel):
    items: list[HouseholdOut]
    next_cursor: str | None


HOUSEHOLD_EXAMPLE = {
    "reference": "HH-2026-0412",
    "adults": 2,
    "couple": True,
    "children_ages": [3, 8, 12],
    "monthly_resources_eur": 1610.0,
    "housing_benefit_eur": 390.0,
    "workplaces": [{"commune": "Clermont-Ferrand", "postcode": "63000"}],
    "needs": {"reduced_mobility": False},
    "preferred_communes": ["Clermont-Ferrand"],
    "registered_on": "2026-09-14",
    "urgent": True,
    "urgent_reason": "leaving an emergency reception centre (CAO) that closes",
    "urgent_deadline": "2027-01-15",
    "consent_to_share": True,
    "territory": "63",
}


class RoundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    progress: str = ""
    policy: dict[str, object]
    statistics: dict[str, object] | None
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    published_at: datetime | None


class RoundPage(BaseModel):
    items: list[RoundOut]
    next_cursor: str | None


class ProposalPage(BaseModel):
    items: list[ProposalForCoordinator] | list[ProposalForLandlord]
    next_cursor: str | None


# Free text about a person's choice: bounded (a 10 MB reason was once stored).
ReasonText = Annotated[str, Field(max_length=1000)]


class HouseholdAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Literal["accepted", "refused"]
    reason_code: Annotated[str, Field(max_length=64)] | None = None
    reason_text: ReasonText | None = None


class CommissionDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approved", "rejected"]
    reason_code: Annotated[str, Field(max_length=64)] | None = None
    reason_text: ReasonText | None = None


class LandlordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    siren: str | None
    contact_email: str | None


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    prefix: str
    role: str
    owner: str
    landlord_id: int | None
    revoked: bool
    created_at: datetime


class NewKey(KeyOut):
    key: str  # shown once


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["landlord", "coordinator", "admin"]
    owner: str
    landlord: str | None = None


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, object] | None
    after: dict[str, object] | None


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None


class MoveInOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    household_id: int
    proposal_id: int
    meters_opened_on: date | None
    home_insurance_on: date | None
    housing_benefit_filed_on: date | None
    essential_furniture_on: date | None
    first_support_visit_on: date | None
    notes: str | None
    settled: bool


class MoveInUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    meters_opened_on: date | None = None
    home_insurance_on: date | None = None
    housing_benefit_filed_on: date | None = None
    essential_furniture_on: date | None = None
    first_support_visit_on: date | None = None
    notes: str | None = None


def problem(description: str) -> dict[str, object]:
    """An OpenAPI response documented as application/problem+json (RFC 9457)."""
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
    }
