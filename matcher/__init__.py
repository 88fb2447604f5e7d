"""The optimisation core: a pure function from households, units and a policy to a round.

No database, no HTTP, no geocoding, no clock: everything arrives resolved, as the frozen
dataclasses of `matcher.types`, so the core can be tested and benchmarked alone.
"""

from matcher.flow import SolverError
from matcher.solving import solve
from matcher.types import (
    CareSite,
    Household,
    IncomeQuota,
    Instance,
    Match,
    Needs,
    Phase,
    PinOutcome,
    Point,
    Policy,
    QuotaEffect,
    RoundResult,
    RoundStats,
    Status,
    Tuning,
    Unit,
    Unmatched,
    Weights,
)

__all__ = [
    "CareSite",
    "Household",
    "IncomeQuota",
    "Instance",
    "Match",
    "Needs",
    "Phase",
    "PinOutcome",
    "Point",
    "Policy",
    "QuotaEffect",
    "RoundResult",
    "RoundStats",
    "SolverError",
    "Status",
    "Tuning",
    "Unit",
    "Unmatched",
    "Weights",
    "solve",
]
