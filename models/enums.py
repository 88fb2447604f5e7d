"""The states and kinds the schema stores, apart from the schema itself: the command line
and the matcher's callers name them without loading SQLAlchemy."""

from __future__ import annotations

import enum


class LeaseKind(enum.StrEnum):
    DIRECT = "direct"
    SLIDING = "sliding"  # "bail glissant": an association holds the lease, then hands it over
    INTERMEDIATION = "intermediation"  # rental intermediation (sub-letting by an association)


class UnitStatus(enum.StrEnum):
    VACANT = "vacant"
    PROPOSED = "proposed"
    LET = "let"
    WITHDRAWN = "withdrawn"


class HouseholdStatus(enum.StrEnum):
    WAITING = "waiting"
    PROPOSED = "proposed"
    HOUSED = "housed"
    WITHDRAWN = "withdrawn"


class RoundStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SOLVED = "solved"
    PUBLISHED = "published"
    FAILED = "failed"


class ProposalStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"  # by the household
    REFUSED = "refused"  # by the household, with a reason
    APPROVED = "approved"  # by the landlord's attribution commission
    REJECTED = "rejected"  # by the commission, with a reason
    SIGNED = "signed"
    EXPIRED = "expired"


class ApiRole(enum.StrEnum):
    LANDLORD = "landlord"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class OverrideKind(enum.StrEnum):
    PIN = "pin"  # propose this unit to this household whenever both are in a round
    FORBID = "forbid"  # never propose this unit to this household
