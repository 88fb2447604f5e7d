"""Who counts as low-income for the income quota, and whether a set of matches meets it.

Solver-agnostic (no OR-tools), so that check.py can verify a result with it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

from matcher.types import Household, IncomeQuota, Unit


def consumption_units(household: Household) -> float:
    """OECD-modified scale: 1 for the first adult, 0.5 per other person aged 14 or more,
    0.3 per child under 14."""
    return (
        1.0
        + 0.5 * (household.adults - 1)
        + sum(0.5 if age >= 14 else 0.3 for age in household.children_ages)
    )


def annual_resources_per_unit(household: Household) -> float:
    return 12 * household.monthly_resources_eur / consumption_units(household)


def with_threshold(quota: IncomeQuota, households: Sequence[Household]) -> IncomeQuota:
    """The quota with its threshold in euros: a first-quartile quota takes the threshold
    that puts the round's poorest quarter under it (ceil(n / 4) households, and any tied
    with the last of them), so that every rule downstream compares with one number."""
    if not quota.first_quartile:
        return quota
    if not households:
        return replace(quota, threshold_eur_per_consumption_unit=0.0, first_quartile=False)
    values = sorted(annual_resources_per_unit(h) for h in households)
    boundary = values[math.ceil(len(values) / 4) - 1]
    return replace(
        quota,
        threshold_eur_per_consumption_unit=math.nextafter(boundary, math.inf),
        first_quartile=False,
    )


def is_low_income(household: Household, quota: IncomeQuota) -> bool:
    """Annual resources per consumption unit below the quota's threshold (a quota given as
    the first quartile must be resolved with `with_threshold` first)."""
    threshold = quota.threshold_eur_per_consumption_unit
    assert threshold is not None, "resolve a first-quartile quota with with_threshold"
    return annual_resources_per_unit(household) < threshold


def quota_shortfall(quota: IncomeQuota, matches: Iterable[tuple[Household, Unit]]) -> float:
    """How many more low-income matches outside priority neighbourhoods the quota needs
    (0 when it is met)."""
    outside = [h for h, u in matches if not u.in_priority_neighbourhood]
    low = sum(1 for h in outside if is_low_income(h, quota))
    return max(0.0, quota.share * len(outside) - low)
