"""The persistent domain: landlords, units, households, match rounds and what follows them.

Constraints are declared here so that the database itself refuses impossible data (a unit of
0 m2, a negative rent): Python validation at the edges is the first line, the schema the last.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from models.enums import (
    ApiRole,
    HouseholdStatus,
    LeaseKind,
    OverrideKind,
    ProposalStatus,
    RoundStatus,
    UnitStatus,
)

# Stable constraint names, so that migrations can name what they alter or drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(10, 2)


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are UTC and timezone-aware on every backend: SQLite stores no offset and
    would hand back naive datetimes, which JSON clients cannot place in time."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as text with a CHECK rather than a native PostgreSQL enum: adding a value later is
    # then an ordinary constraint change on both databases.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class Landlord(TimestampMixin, Base):
    __tablename__ = "landlords"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    siren: Mapped[str | None] = mapped_column(String(9))
    contact_email: Mapped[str | None] = mapped_column(String(254))

    units: Mapped[list[Unit]] = relationship(back_populates="landlord", lazy="raise")


class Unit(TimestampMixin, Base):
    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("landlord_id", "reference"),
        CheckConstraint("surface_m2 > 0", name="surface_positive"),
        CheckConstraint("rooms >= 1", name="rooms_at_least_one"),
        CheckConstraint("rent_eur >= 0", name="rent_not_negative"),
        CheckConstraint("charges_eur >= 0", name="charges_not_negative"),
        CheckConstraint("floor >= -1", name="floor_at_least_minus_one"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        Index("ix_units_status_commune", "status", "commune"),
        # A landlord's units a page at a time, in id order: without it, listing one page
        # read and sorted all of a landlord's units (6 ms of PostgreSQL at 23,000 units).
        Index("ix_units_landlord_id_id", "landlord_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="RESTRICT"))
    reference: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(300))
    commune: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(10))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    rooms: Mapped[int] = mapped_column(Integer)
    surface_m2: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    floor: Mapped[int] = mapped_column(Integer)
    elevator: Mapped[bool] = mapped_column(Boolean, default=False)
    wheelchair_accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    rent_eur: Mapped[Decimal] = mapped_column(Money)
    charges_eur: Mapped[Decimal] = mapped_column(Money)
    available_from: Mapped[date] = mapped_column(Date)
    building_id: Mapped[str | None] = mapped_column(String(64))
    in_priority_neighbourhood: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_kind: Mapped[LeaseKind] = mapped_column(
        _enum(LeaseKind, "lease_kind"), default=LeaseKind.DIRECT
    )
    status: Mapped[UnitStatus] = mapped_column(
        _enum(UnitStatus, "unit_status"), default=UnitStatus.VACANT
    )
    version: Mapped[int] = mapped_column(Integer, default=1)

    landlord: Mapped[Landlord] = relationship(back_populates="units", lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it)


class Household(TimestampMixin, Base):
    """A household waiting for housing. Health fields are special-category data."""

    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint("adults >= 1", name="adults_at_least_one"),
        CheckConstraint("NOT couple OR adults >= 2", name="couple_needs_two_adults"),
        CheckConstraint("monthly_resources_eur >= 0", name="resources_not_negative"),
        CheckConstraint("housing_benefit_eur >= 0", name="benefit_not_negative"),
        CheckConstraint("care_site_max_km IS NULL OR care_site_max_km > 0", name="care_km"),
        CheckConstraint(
            "(care_site_lat IS NULL) = (care_site_lon IS NULL)", name="care_site_both_coords"
        ),
        CheckConstraint("NOT urgent OR urgent_reason IS NOT NULL", name="urgent_has_reason"),
        Index("ix_households_status", "status"),
        # A territory's waiting households, for its rounds (services/territories.py).
        Index("ix_households_territory_status", "territory", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)  # pseudonymous
    adults: Mapped[int] = mapped_column(Integer)
    couple: Mapped[bool] = mapped_column(Boolean, default=False)
    children_ages: Mapped[list[int]] = mapped_column(JSON, default=list)
    monthly_resources_eur: Mapped[Decimal] = mapped_column(Money)
    housing_benefit_eur: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    needs_wheelchair: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_reduced_mobility: Mapped[bool] = mapped_column(Boolean, default=False)
    care_site_label: Mapped[str | None] = mapped_column(String(200))
    care_site_lat: Mapped[float | None] = mapped_column(Float)
    care_site_lon: Mapped[float | None] = mapped_column(Float)
    care_site_max_km: Mapped[float | None] = mapped_column(Float)
    preferred_communes: Mapped[list[str]] = mapped_column(JSON, default=list)
    excluded_communes: Mapped[list[str]] = mapped_column(JSON, default=list)
    accepted_lease_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty = any
    registered_on: Mapped[date] = mapped_column(Date)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent_reason: Mapped[str | None] = mapped_column(String(300))
    urgent_deadline: Mapped[date | None] = mapped_column(Date)
    application_number: Mapped[str | None] = mapped_column(String(32))  # national (NUR)
    consent_to_share: Mapped[bool] = mapped_column(Boolean, default=False)
    # The territory whose service follows the household (a département in France).
    territory: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[HouseholdStatus] = mapped_column(
        _enum(HouseholdStatus, "household_status"), default=HouseholdStatus.WAITING
    )
    version: Mapped[int] = mapped_column(Integer, default=1)

    workplaces: Mapped[list[Workplace]] = relationship(
        back_populates="household",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="Workplace.id",
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it)

    # Never copied into the audit trail: health data (special category), free text about the
    # person and the national application number.
    PRIVATE_COLUMNS: ClassVar[frozenset[str]] = frozenset(
        {
            "needs_wheelchair",
            "needs_reduced_mobility",
            "care_site_label",
            "care_site_lat",
            "care_site_lon",
            "care_site_max_km",
            "urgent_reason",
            "application_number",
        }
    )

    @property
    def size(self) -> int:
        return self.adults + len(self.children_ages)


class Workplace(Base):
    """Where one working adult of a household works (coordinators only)."""

    __tablename__ = "workplaces"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    address: Mapped[str | None] = mapped_column(String(300))
    commune: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(10))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    household: Mapped[Household] = relationship(back_populates="workplaces", lazy="raise")


class MatchRound(TimestampMixin, Base):
    __tablename__ = "match_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[RoundStatus] = mapped_column(
        _enum(RoundStatus, "round_status"), default=RoundStatus.QUEUED
    )
    statistics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Loaded when used: megabytes each (a round of 1,000 households: 2 MB of result).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)  # the public one
    # What the round read: each household's and unit's id and version, to publish it.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    worker: Mapped[str | None] = mapped_column(String(100))  # who claimed the round
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    proposals: Mapped[list[Proposal]] = relationship(back_populates="round", lazy="raise")


class Proposal(TimestampMixin, Base):
    __tablename__ = "proposals"
    __table_args__ = (
        UniqueConstraint("round_id", "household_id", "unit_id"),
        CheckConstraint("rank >= 1", name="rank_at_least_one"),
        Index("ix_proposals_unit_status", "unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("match_rounds.id", ondelete="RESTRICT"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="RESTRICT"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    score_breakdown: Mapped[dict[str, int]] = mapped_column(JSON)
    status: Mapped[ProposalStatus] = mapped_column(
        _enum(ProposalStatus, "proposal_status"), default=ProposalStatus.PROPOSED
    )
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason_text: Mapped[str | None] = mapped_column(Text)
    respond_by: Mapped[date | None] = mapped_column(Date)  # the deadline of the current stage
    household_answer: Mapped[str | None] = mapped_column(String(16))  # accepted | refused
    commission_answer: Mapped[str | None] = mapped_column(String(16))  # approved | rejected
    version: Mapped[int] = mapped_column(Integer, default=1)

    round: Mapped[MatchRound] = relationship(back_populates="proposals", lazy="raise")
    household: Mapped[Household] = relationship(lazy="raise")
    unit: Mapped[Unit] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it)


class Exclusion(Base):
    """A household-unit pair never to be proposed again (an earlier refusal or rejection)."""

    __tablename__ = "exclusions"
    __table_args__ = (UniqueConstraint("household_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), server_default=func.now(), nullable=False
    )


class Override(Base):
    """A coordinator's standing decision about a pair, with its reason and author, applied to
    every round until it is removed."""

    __tablename__ = "overrides"
    __table_args__ = (UniqueConstraint("household_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OverrideKind] = mapped_column(_enum(OverrideKind, "override_kind"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(300))
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), server_default=func.now(), nullable=False
    )


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now(), nullable=False)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "(role = 'landlord') = (landlord_id IS NOT NULL)", name="landlord_key_has_landlord"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # shown in lists, not secret
    key_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[ApiRole] = mapped_column(_enum(ApiRole, "api_role"))
    owner: Mapped[str] = mapped_column(String(200))
    landlord_id: Mapped[int | None] = mapped_column(ForeignKey("landlords.id"))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), server_default=func.now(), nullable=False
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class IdempotentRequest(Base):
    """The first response to a POST sent with an Idempotency-Key, replayed on a retry."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), server_default=func.now(), nullable=False
    )


class WebSession(Base):
    """A person signed in to the pages with an API key: the cookie holds a random token,
    stored here as its SHA-256 hash, so that every process of a deployment knows it, signing
    out ends it, and revoking the key ends every session it opened."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2), default="fr")
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), server_default=func.now(), nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MoveInChecklist(TimestampMixin, Base):
    """Preparing a household's move once its lease is signed; settled when every step is done."""

    __tablename__ = "move_in_checklists"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), unique=True
    )
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="RESTRICT"))
    meters_opened_on: Mapped[date | None] = mapped_column(Date)
    home_insurance_on: Mapped[date | None] = mapped_column(Date)
    housing_benefit_filed_on: Mapped[date | None] = mapped_column(Date)
    essential_furniture_on: Mapped[date | None] = mapped_column(Date)
    first_support_visit_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    STEPS = (
        "meters_opened_on",
        "home_insurance_on",
        "housing_benefit_filed_on",
        "essential_furniture_on",
        "first_support_visit_on",
    )

    @property
    def settled(self) -> bool:
        return all(getattr(self, step) is not None for step in self.STEPS)
