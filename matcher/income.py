"""Who counts as low-income for the income quota, and whether a set of matches meets it.

Solver-agnostic (no OR-tools), so that check.py can verify a result with it.
"""

from __future__ import annotations

from collections.abc import Iterable

from matcher.types import Household, IncomeQuota, Unit


def consumption_units(household: Household) -> float:
    """OECD-modified scale: 1 for the first adult, 0.5 per other person aged 14 or more,
    0.3 per child under 14."""
    return (
        1.0
        + 0.5 * (household.adults - 1)
        + sum(0.5 if age >= 14 else 0.3 for age in household.children_ages)
    )


def is_low_income(household: Household, quota: IncomeQuota) -> bool:
    """Annual resources per consumption unit below the policy's threshold."""
    annual_per_unit = 12 * household.monthly_resources_eur / consumption_units(household)
    return annual_per_unit < quota.threshold_eur_per_consumption_unit


def quota_shortfall(quota: IncomeQuota, matches: Iterable[tuple[Household, Unit]]) -> float:
    """How many more low-income matches outside priority neighbourhoods the quota needs
    (0 when it is met)."""
    outside = [h for h, u in matches if not u.in_priority_neighbourhood]
    low = sum(1 for h in outside if is_low_income(h, quota))
    return max(0.0, quota.share * len(outside) - low)
