"""The income quota: one side constraint on the round's flow (problem.py), met by a
multiplier search over min-cost flows (search.py), improved by blending the two flows either
side of it (blend.py) and proven by closing the last gap exactly (close.py)."""

from matcher.quota.problem import SCALE, QuotaProblem, ValuedFlow, quota_met, quota_weights
from matcher.quota.search import (
    MultiplierSearch,
    QuotaOutcome,
    multipliers_fit,
    solve_with_quota,
)

__all__ = [
    "SCALE",
    "MultiplierSearch",
    "QuotaOutcome",
    "QuotaProblem",
    "ValuedFlow",
    "multipliers_fit",
    "quota_met",
    "quota_weights",
    "solve_with_quota",
]
