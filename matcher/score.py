"""The score of a feasible pair: integer points, higher is better, with a breakdown.

Cardinality comes first (the solver maximises households housed before the score), so the
score only decides *which* households and *which* units when there is a choice. Components:

- waiting: points per day since registration, capped, so the longest-waiting go first;
- urgent: a flat bonus (e.g. leaving an emergency reception centre by a deadline);
- commute: per working adult, full points at 0 km, falling linearly to none at the maximum;
- size_fit: full when the unit has the rooms the household needs, less for each extra or
  missing room, so large units are kept for large families;
- affordability: the share of the household's effort budget left after the net cost, in
  whole steps (tenths by default);
- preferred_commune: the household asked for this commune;
- care_proximity: full at the care site, none at its maximum distance.

The same formulas are vectorised below, over rows of the unit table; the tests check that
the two agree.
"""

from __future__ import annotations

import math

import numpy as np

from matcher.geo import haversine_km
from matcher.masks import PairChecks
from matcher.rules import (
    fits_as_studio,
    needed_rooms,
    net_housing_cost_eur,
    normalise_commune,
)
from matcher.types import Household, Policy, Unit, Weights
from matcher.unit_table import BoolArray, FloatArray, IntArray, Rows, UnitTable

STEP_TOLERANCE = 1e-9

COMPONENTS = (
    "waiting",
    "urgent",
    "commute",
    "size_fit",
    "affordability",
    "preferred_commune",
    "care_proximity",
)


def priority_points(household: Household, policy: Policy) -> dict[str, int]:
    """The part of the score that depends on the household alone (its claim to go first)."""
    weights = policy.weights
    days = max(0, (policy.round_date - household.registered_on).days)
    return {
        "waiting": round(weights.waiting_per_day * min(days, weights.waiting_cap_days)),
        "urgent": round(weights.urgent) if household.urgent else 0,
    }


def room_mismatch(household: Household, unit: Unit) -> int:
    if fits_as_studio(household.size, unit.rooms, unit.surface_m2):
        return 0  # a studio is a fit for one person
    return abs(unit.rooms - needed_rooms(household))


def affordability_steps_left(share_left: float, weights: Weights) -> float:
    """The share of the effort budget left, clipped to [0, 1] and rounded down to whole
    steps. The small tolerance keeps a share of exactly 0.7 at 0.7 whatever float error
    the division made (its vectorised twin, affordability_points, does the same)."""
    steps = weights.affordability_steps
    return math.floor(min(1.0, max(0.0, share_left)) * steps + STEP_TOLERANCE) / steps


def score_breakdown(household: Household, unit: Unit, policy: Policy) -> dict[str, int]:
    weights = policy.weights
    breakdown = priority_points(household, policy)
    breakdown["commute"] = round(
        sum(
            weights.commute
            * max(0.0, 1 - haversine_km(unit.lat, unit.lon, w.lat, w.lon) / policy.max_commute_km)
            for w in household.workplaces
        )
    )
    breakdown["size_fit"] = round(
        max(0.0, weights.size_fit - weights.extra_room_penalty * room_mismatch(household, unit))
    )
    budget = policy.max_effort_rate * household.monthly_resources_eur
    margin = budget - net_housing_cost_eur(household, unit)
    breakdown["affordability"] = (
        round(weights.affordability * affordability_steps_left(margin / budget, weights))
        if budget > 0
        else 0
    )
    preferred = {normalise_commune(c) for c in household.preferred_communes}
    breakdown["preferred_commune"] = (
        round(weights.preferred_commune) if normalise_commune(unit.commune) in preferred else 0
    )
    site = household.needs.care_site
    breakdown["care_proximity"] = (
        round(
            weights.care_proximity
            * max(0.0, 1 - haversine_km(unit.lat, unit.lon, site.lat, site.lon) / site.max_km)
        )
        if site
        else 0
    )
    return breakdown


def score(household: Household, unit: Unit, policy: Policy) -> int:
    return sum(score_breakdown(household, unit, policy).values())


# The same formulas vectorised, over rows of the unit table: they must give the same points
# as score_breakdown, pair for pair (the tests check that they do).


def size_fit_points(
    household: Household, rooms: IntArray, surface: FloatArray, policy: Policy
) -> FloatArray:
    """size_fit points of units of these rooms and surfaces: score_breakdown's, vectorised."""
    weights = policy.weights
    mismatch = np.abs(rooms - needed_rooms(household))
    if household.size == 1:
        mismatch = np.where(fits_as_studio(1, rooms, surface), 0, mismatch)
    points: FloatArray = np.rint(
        np.maximum(0.0, weights.size_fit - weights.extra_room_penalty * mismatch)
    )
    return points


def affordability_points(household: Household, cost: FloatArray, policy: Policy) -> FloatArray:
    """affordability points of units of these costs: score_breakdown's, vectorised."""
    weights = policy.weights
    budget = policy.max_effort_rate * household.monthly_resources_eur
    if budget <= 0:
        return np.zeros(cost.size)
    margin = budget - (cost - household.housing_benefit_eur)
    with np.errstate(over="ignore"):  # a tiny budget: the share left is capped at 1 anyway
        share_left = np.clip(margin / budget, 0.0, 1.0)
    steps = weights.affordability_steps
    share_left = np.floor(share_left * steps + STEP_TOLERANCE) / steps
    points: FloatArray = np.rint(weights.affordability * share_left)
    return points


def pair_scores(
    household: Household,
    table: UnitTable,
    rows: Rows,
    checks: PairChecks,
    keep: BoolArray,
    policy: Policy,
) -> IntArray:
    """Scores of the kept rows: score.score_breakdown, vectorised (same formulas, same rounding)."""
    weights = policy.weights
    total = np.full(int(keep.sum()), sum(priority_points(household, policy).values()), np.float64)
    if checks.workplace_km:
        commute = np.zeros_like(total)
        for km in checks.workplace_km:
            commute += weights.commute * np.maximum(0.0, 1 - km[keep] / policy.max_commute_km)
        total += np.rint(commute)
    total += size_fit_points(household, table.rooms[rows][keep], table.surface[rows][keep], policy)
    total += affordability_points(household, table.cost[rows][keep], policy)
    preferred = table.codes_of_communes(household.preferred_communes)
    if preferred.size:
        hit = np.isin(table.commune_code[rows][keep], preferred)
        total += np.where(hit, round(weights.preferred_commune), 0)
    site = household.needs.care_site
    if site is not None and checks.care_km is not None:
        total += np.rint(
            weights.care_proximity * np.maximum(0.0, 1 - checks.care_km[keep] / site.max_km)
        )
    return total.astype(np.int64)
