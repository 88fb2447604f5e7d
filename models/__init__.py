"""Persistence: the schema (SQLAlchemy 2.x), sessions and Alembic migrations.

The enums load alone (models/enums.py); the mapped classes load with SQLAlchemy the first
time one is asked for, so a command that never touches the database does not pay for it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from models.enums import (
    ApiRole,
    HouseholdStatus,
    LeaseKind,
    OverrideKind,
    ProposalStatus,
    RoundStatus,
    UnitStatus,
)

if TYPE_CHECKING:
    from models.entities import (
        ApiKey,
        AuditEvent,
        Base,
        Exclusion,
        Household,
        IdempotentRequest,
        Landlord,
        MatchRound,
        MoveInChecklist,
        Override,
        Proposal,
        Unit,
        WebSession,
        Workplace,
    )

ENTITIES = frozenset(
    {
        "ApiKey",
        "AuditEvent",
        "Base",
        "Exclusion",
        "Household",
        "IdempotentRequest",
        "Landlord",
        "MatchRound",
        "MoveInChecklist",
        "Override",
        "Proposal",
        "Unit",
        "WebSession",
        "Workplace",
    }
)


def __getattr__(name: str) -> Any:
    if name in ENTITIES:
        return getattr(importlib.import_module("models.entities"), name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")


__all__ = [
    "ApiKey",
    "ApiRole",
    "AuditEvent",
    "Base",
    "Exclusion",
    "Household",
    "HouseholdStatus",
    "IdempotentRequest",
    "Landlord",
    "LeaseKind",
    "MatchRound",
    "MoveInChecklist",
    "Override",
    "OverrideKind",
    "Proposal",
    "ProposalStatus",
    "RoundStatus",
    "Unit",
    "UnitStatus",
    "WebSession",
    "Workplace",
]
