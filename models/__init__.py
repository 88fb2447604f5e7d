"""Persistence: the schema (SQLAlchemy 2.x), sessions and Alembic migrations."""

from models.entities import (
    ApiKey,
    ApiRole,
    AuditEvent,
    Base,
    Exclusion,
    Household,
    HouseholdStatus,
    Landlord,
    LeaseKind,
    MatchRound,
    Proposal,
    ProposalStatus,
    RoundStatus,
    Unit,
    UnitStatus,
    Workplace,
)

__all__ = [
    "ApiKey",
    "ApiRole",
    "AuditEvent",
    "Base",
    "Exclusion",
    "Household",
    "HouseholdStatus",
    "Landlord",
    "LeaseKind",
    "MatchRound",
    "Proposal",
    "ProposalStatus",
    "RoundStatus",
    "Unit",
    "UnitStatus",
    "Workplace",
]
