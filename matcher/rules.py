"""The hard rules: one function each on a single (household, unit) pair, and one table.

Each function returns None when the pair passes, or a Violation saying why not and, for the
rules whose threshold is a policy parameter, the value that parameter would need for the pair
to pass (the raw material of "2 units fit if max commute were 55 km"). The table `RULES` says
the rest of what the matcher knows of a rule: its phrase in explanations, its scope (what its
verdict depends on, which lets alike units and alike households be handled together) and how
it is relaxed. The vectorised masks in `masks.py` must agree with these functions
exactly; the tests check that they do, and that the scopes are true.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from matcher.geo import haversine_km
from matcher.types import Household, Policy, Unit

# A tolerance for float comparisons of distances and money, so that a value computed by the
# vectorised path and by this scalar path cannot land on different sides of a threshold.
EPSILON = 1e-9


class Rule(StrEnum):
    SURFACE = "surface"
    MIN_ROOMS = "min_rooms"
    MAX_ROOMS = "max_rooms"
    WHEELCHAIR = "wheelchair"
    STEP_FREE = "step_free"
    CARE_DISTANCE = "care_distance"
    COMMUTE = "commute"
    AFFORDABILITY = "affordability"
    EXCLUDED_COMMUNE = "excluded_commune"
    EXCLUDED_PAIR = "excluded_pair"
    LEASE_KIND = "lease_kind"
    AVAILABILITY = "availability"


@dataclass(frozen=True, slots=True)
class Violation:
    rule: Rule
    message: str
    needed: float | None = None  # the policy value that would let the pair pass, if any


def required_surface_m2(size: int) -> float:
    """French decency / housing-benefit norm: 9 m2 for one person, 16 for two, +9 each,
    capped at 70 m2 from eight persons on."""
    if size == 1:
        return 9.0
    return float(min(16 + 9 * (size - 2), 70))


def needed_rooms(household: Household) -> int:
    """INSEE occupancy norm, simplified: a living room, a room for the couple, one per other
    adult, one per two children."""
    adults_apart = household.adults - 2 if household.couple else household.adults
    return (
        1
        + (1 if household.couple else 0)
        + adults_apart
        + math.ceil(len(household.children_ages) / 2)
    )


SINGLE_STUDIO_MIN_M2 = 25.0


def fits_as_studio(size: int, rooms: Any, surface_m2: Any) -> Any:
    """The single-person studio exception: one room of at least SINGLE_STUDIO_MIN_M2 fits a
    person alone, whatever the room norm says. Scalars or numpy arrays of rooms and surfaces
    (then a mask): the rules, the score and the vectorised masks all ask here."""
    return (size == 1) & (rooms == 1) & (surface_m2 + EPSILON >= SINGLE_STUDIO_MIN_M2)


def normalise_commune(name: str) -> str:
    return " ".join(name.replace("-", " ").casefold().split())


def surface(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    required = required_surface_m2(household.size)
    if unit.surface_m2 + EPSILON >= required:
        return None
    return Violation(Rule.SURFACE, f"{unit.surface_m2:g} m2 is under the {required:g} m2 norm")


def min_rooms(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    needed = needed_rooms(household)
    if fits_as_studio(household.size, unit.rooms, unit.surface_m2):
        return None
    if unit.rooms >= needed - policy.room_shortfall_allowed:
        return None
    return Violation(
        Rule.MIN_ROOMS,
        f"{unit.rooms} rooms, {needed} needed",
        needed=float(needed - unit.rooms),
    )


def max_rooms(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    if unit.rooms <= household.size + 1:
        return None
    return Violation(
        Rule.MAX_ROOMS, f"{unit.rooms} rooms for {household.size} persons (under-occupied)"
    )


def wheelchair(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    if not household.needs.wheelchair or unit.wheelchair_accessible:
        return None
    return Violation(Rule.WHEELCHAIR, "not wheelchair accessible")


def step_free(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    if not household.needs.step_free or unit.floor <= 0 or unit.elevator:
        return None
    return Violation(Rule.STEP_FREE, f"floor {unit.floor} without elevator")


def care_distance(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    site = household.needs.care_site
    if site is None:
        return None
    distance = haversine_km(unit.lat, unit.lon, site.lat, site.lon)
    if distance <= site.max_km + EPSILON:
        return None
    return Violation(
        Rule.CARE_DISTANCE,
        f"{distance:.1f} km from the care site (max {site.max_km:g})",
        needed=distance,
    )


def commute(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    if not household.workplaces:
        return None
    farthest = max(haversine_km(unit.lat, unit.lon, w.lat, w.lon) for w in household.workplaces)
    if farthest <= policy.max_commute_km + EPSILON:
        return None
    return Violation(
        Rule.COMMUTE,
        f"{farthest:.1f} km from a workplace (max {policy.max_commute_km:g})",
        needed=farthest,
    )


def net_housing_cost_eur(household: Household, unit: Unit) -> float:
    return unit.monthly_cost_eur - household.housing_benefit_eur


def affordability(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    cost = net_housing_cost_eur(household, unit)
    if cost <= policy.max_effort_rate * household.monthly_resources_eur + EPSILON:
        return None
    needed = cost / household.monthly_resources_eur if household.monthly_resources_eur else math.inf
    return Violation(
        Rule.AFFORDABILITY,
        f"net cost {cost:.0f} EUR is over {policy.max_effort_rate:.0%} of resources",
        needed=needed,
    )


def excluded_commune(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    excluded = {normalise_commune(c) for c in household.excluded_communes}
    if normalise_commune(unit.commune) not in excluded:
        return None
    return Violation(Rule.EXCLUDED_COMMUNE, f"{unit.commune} is excluded by the household")


def excluded_pair(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    pair = (household.id, unit.id)
    if pair in policy.excluded_pairs:
        return Violation(Rule.EXCLUDED_PAIR, "refused or rejected earlier")
    if pair in policy.forbidden_pairs:
        return Violation(Rule.EXCLUDED_PAIR, "forbidden by the coordinator")
    return None


def lease_kind(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    if not household.accepted_lease_kinds or unit.lease_kind in household.accepted_lease_kinds:
        return None
    kinds = ", ".join(sorted(household.accepted_lease_kinds))
    return Violation(Rule.LEASE_KIND, f"{unit.lease_kind} lease, household needs {kinds}")


def availability(household: Household, unit: Unit, policy: Policy) -> Violation | None:
    if unit.available_from <= policy.round_date + timedelta(days=policy.horizon_days):
        return None
    days = (unit.available_from - policy.round_date).days
    return Violation(
        Rule.AVAILABILITY,
        f"available in {days} days (horizon {policy.horizon_days})",
        needed=float(days),
    )


RuleCheck = Callable[[Household, Unit, Policy], Violation | None]


class Scope(StrEnum):
    """What a rule's verdict on a unit depends on, besides the household."""

    # The unit's class (matcher/chains.py): the same for all the units of a class, so a
    # household accepts or refuses a class whole. Unavailable units are in no class.
    CLASS = "class"
    # The unit's cost alone, passing up to some cost: chains are sorted by cost, so a
    # household passes a prefix of each, found by binary search (profiles.runs_by_cost).
    COST = "cost"
    # Where the unit is (distance to a workplace, a care site).
    PLACE = "place"
    # The unit itself (its commune, its history with the household): leaves holes in a class.
    UNIT = "unit"


@dataclass(frozen=True, slots=True)
class Relaxable:
    """How explanations relax a rule: the least value of `parameter` that would let a unit
    pass, from the values its units need (Violation.needed, or the vectorised `needed`)."""

    parameter: str  # as results name it
    current: Callable[[Household, Policy], float | None]  # None: nothing to relax
    rounded: Callable[[float], float]  # the value to propose for the least value needed
    phrase: str  # completes "n unit(s) would fit if ...", formatted with the value
    at_most: float = math.inf  # needed values past it are no relaxation


# Whether a rule passes every unit for a household (given the units barred to it): only
# such households are handled through classes and costs, never unit by unit.
PassesEveryUnit = Callable[[Household, set[int]], bool]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    check: RuleCheck
    phrase: str  # completes "n unit(s) ...": what a unit failing the rule is
    scope: Scope
    relaxable: Relaxable | None = None
    passes_every_unit: PassesEveryUnit | None = None  # required for scopes PLACE and UNIT


def _whole_up(value: float) -> float:
    return float(math.ceil(value))


def _care_km(household: Household, policy: Policy) -> float | None:
    site = household.needs.care_site
    return site.max_km if site is not None else None


# The rules, in the order explanations count them. Adding a rule: its Rule, its function
# above, its line here, its vectorised mask (masks.pair_checks) and its tests.
RULES: dict[Rule, RuleSpec] = {
    Rule.SURFACE: RuleSpec(surface, "under the surface norm", Scope.CLASS),
    Rule.MIN_ROOMS: RuleSpec(
        min_rooms,
        "too few rooms",
        Scope.CLASS,
        Relaxable(
            "room_shortfall_allowed",
            lambda _, policy: float(policy.room_shortfall_allowed),
            float,
            "a shortfall of {value:g} room(s) were allowed",
        ),
    ),
    Rule.MAX_ROOMS: RuleSpec(max_rooms, "too many rooms (under-occupation)", Scope.CLASS),
    Rule.WHEELCHAIR: RuleSpec(wheelchair, "not wheelchair accessible", Scope.CLASS),
    Rule.STEP_FREE: RuleSpec(step_free, "upper floor without elevator", Scope.CLASS),
    Rule.CARE_DISTANCE: RuleSpec(
        care_distance,
        "too far from the care site",
        Scope.PLACE,
        Relaxable(
            "care_site.max_km",
            _care_km,
            _whole_up,
            "the care site's max distance were {value:g} km",
        ),
        lambda household, _: household.needs.care_site is None,
    ),
    Rule.COMMUTE: RuleSpec(
        commute,
        "too far from a workplace",
        Scope.PLACE,
        Relaxable(
            "max_commute_km",
            lambda _, policy: policy.max_commute_km,
            _whole_up,
            "max commute were {value:g} km",
        ),
        lambda household, _: not household.workplaces,
    ),
    Rule.AFFORDABILITY: RuleSpec(
        affordability,
        "too expensive for the resources",
        Scope.COST,
        Relaxable(
            "max_effort_rate",
            lambda _, policy: policy.max_effort_rate,
            lambda value: math.ceil(value * 1000) / 1000,
            "max effort rate were {value:.1%}",
            at_most=1.0,  # an effort rate over 100% is no relaxation
        ),
    ),
    Rule.EXCLUDED_COMMUNE: RuleSpec(
        excluded_commune,
        "in an excluded commune",
        Scope.UNIT,
        passes_every_unit=lambda household, _: not household.excluded_communes,
    ),
    Rule.EXCLUDED_PAIR: RuleSpec(
        excluded_pair,
        "refused earlier or forbidden",
        Scope.UNIT,
        passes_every_unit=lambda _, barred_units: not barred_units,
    ),
    Rule.LEASE_KIND: RuleSpec(lease_kind, "lease kind not accepted", Scope.CLASS),
    Rule.AVAILABILITY: RuleSpec(
        availability,
        "not available within the horizon",
        Scope.CLASS,
        Relaxable(
            "horizon_days",
            lambda _, policy: float(policy.horizon_days),
            float,
            "the horizon were {value:g} days",
        ),
    ),
}


def passes_every_unit_but_by_class_and_cost(household: Household, barred_units: set[int]) -> bool:
    """Whether every rule of scope PLACE or UNIT passes every unit for this household: its
    pairs are then decided by the units' classes and costs alone."""
    return all(
        spec.passes_every_unit is not None and spec.passes_every_unit(household, barred_units)
        for spec in RULES.values()
        if spec.scope in (Scope.PLACE, Scope.UNIT)
    )


def violations(household: Household, unit: Unit, policy: Policy) -> list[Violation]:
    return [v for spec in RULES.values() if (v := spec.check(household, unit, policy)) is not None]


def feasible(household: Household, unit: Unit, policy: Policy) -> bool:
    return all(spec.check(household, unit, policy) is None for spec in RULES.values())
