"""Validated input records for landlords, units and households (imports, fixtures, API bodies).

The rules here mirror the database CHECK constraints, so bad input is refused with a message
naming the field before it ever reaches the database; the constraints stay as the last line.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from models import LeaseKind
from services.territories import Departement

Money = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Commune = Annotated[str, Field(min_length=1, max_length=100)]
Postcode = Annotated[str, Field(pattern=r"^\d{5}$")]


def _no_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text cannot contain a NUL character")
    if isinstance(value, list):
        for item in value:
            _no_nul(item)
    return value


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # PostgreSQL text cannot hold NUL; refuse it here, naming the field, not at the database.
    _text_without_nul = field_validator("*", mode="before")(_no_nul)


class LandlordRecord(Record):
    name: Name
    siren: Annotated[str, Field(pattern=r"^\d{9}$")] | None = None
    contact_email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None


class UnitRecord(Record):
    """A vacant unit as a landlord posts it. lat/lon are geocoded from commune + postcode
    (and address) when absent."""

    landlord: Name | None = None  # in a fixture or admin import; a landlord's own key implies it
    reference: Annotated[str, Field(min_length=1, max_length=64)]
    address: Annotated[str, Field(max_length=300)] | None = None
    commune: Commune
    postcode: Postcode
    lat: Latitude | None = None
    lon: Longitude | None = None
    rooms: Annotated[int, Field(ge=1, le=20)]
    surface_m2: Annotated[Decimal, Field(gt=0, le=1000, max_digits=7, decimal_places=2)]
    floor: Annotated[int, Field(ge=-1, le=60)] = 0
    elevator: bool = False
    wheelchair_accessible: bool = False
    rent_eur: Money
    charges_eur: Money = Decimal(0)
    available_from: date
    building_id: Annotated[str, Field(max_length=64)] | None = None
    in_priority_neighbourhood: bool = False
    lease_kind: LeaseKind = LeaseKind.DIRECT

    @model_validator(mode="after")
    def _both_coordinates_or_none(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither (to geocode the commune)")
        return self


class PlaceRecord(Record):
    """A place given by coordinates, or by commune and postcode (geocoded)."""

    address: Annotated[str, Field(max_length=300)] | None = None
    commune: Commune | None = None
    postcode: Postcode | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None

    @model_validator(mode="after")
    def _locatable(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.lat is None and self.commune is None and self.postcode is None:
            raise ValueError("give lat and lon, or a commune and postcode")
        return self


class CareSiteRecord(PlaceRecord):
    """A care site the household must live near: a place (coordinates, or a commune and
    postcode) and the longest distance in km."""

    label: Annotated[str, Field(max_length=200)] | None = None
    max_km: Annotated[float, Field(gt=0, le=500)]


class NeedsRecord(Record):
    wheelchair: bool = False
    reduced_mobility: bool = False
    care_site: CareSiteRecord | None = None


class HouseholdRecord(Record):
    reference: Annotated[str, Field(min_length=1, max_length=64)]
    adults: Annotated[int, Field(ge=1, le=20)]
    couple: bool = False
    # Lists are bounded like the strings: 500 children and a 10 MB text were once stored.
    children_ages: list[Annotated[int, Field(ge=0, le=18)]] = Field(
        default_factory=list, max_length=20
    )
    monthly_resources_eur: Money
    housing_benefit_eur: Money = Decimal(0)
    workplaces: list[PlaceRecord] = Field(default_factory=list, max_length=20)
    needs: NeedsRecord = Field(default_factory=NeedsRecord)
    preferred_communes: list[Commune] = Field(default_factory=list, max_length=100)
    excluded_communes: list[Commune] = Field(default_factory=list, max_length=100)
    accepted_lease_kinds: list[LeaseKind] = Field(default_factory=list, max_length=3)
    registered_on: date
    urgent: bool = False
    urgent_reason: Annotated[str | None, Field(max_length=300, validate_default=True)] = None
    urgent_deadline: date | None = None
    application_number: Annotated[str, Field(max_length=32)] | None = None
    consent_to_share: bool = False
    territory: Departement | None = None  # the département that follows it (scoped rounds)

    # Field validators rather than one model validator, so each error names its field.
    @field_validator("couple")
    @classmethod
    def _couple_has_two_adults(cls, couple: bool, info: ValidationInfo) -> bool:
        if couple and info.data.get("adults", 2) < 2:
            raise ValueError("a couple needs at least two adults")
        return couple

    @field_validator("workplaces")
    @classmethod
    def _no_more_workplaces_than_adults(
        cls, workplaces: list[PlaceRecord], info: ValidationInfo
    ) -> list[PlaceRecord]:
        if len(workplaces) > info.data.get("adults", len(workplaces)):
            raise ValueError("more workplaces than adults")
        return workplaces

    @field_validator("urgent_reason")
    @classmethod
    def _urgent_has_a_reason(cls, reason: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("urgent") and not reason:
            raise ValueError("an urgent household needs an urgent_reason")
        return reason
