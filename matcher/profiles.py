"""Requirement profiles: households that see units only through their class and cost.

A household without a workplace or care site scores a class's units alike but for their
cost, so its pairs are emitted as runs over the chain of its requirement profile (the classes
it accepts and scores alike), never held one by one; households alike in what decides their
profiles (their signature) share them, and their runs are found by binary search on cost. At
50,000 x 50,000 over several regions that is 349 million pairs the round never makes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from matcher.chains import ChainRegistry, PairRuns, runs_by_score
from matcher.masks import PairChecks
from matcher.rules import EPSILON, RULES, Scope, needed_rooms
from matcher.score import affordability_points, priority_points, size_fit_points
from matcher.types import Household, Policy
from matcher.unit_table import IntArray, Rows, UnitTable, group_starts


@dataclass(frozen=True, slots=True)
class Profiles:
    """A household's requirement profiles over the rows it scans: a profile is the classes
    it accepts where it scores a unit alike but for its cost (the same room fit, and in a
    quota round the same side of the priority-neighbourhood line, which the quota weighs
    differently)."""

    first_rows: IntArray  # the first row of each class among the rows scanned
    class_key: IntArray  # per such class, its profile key (-1: not accepted, or in no chain)
    classes: dict[int, tuple[int, ...]]  # per key, the classes the profile spans

    def of_rows(self, rows: IntArray) -> IntArray:
        """The profile key of each of these rows (sorted)."""
        keys: IntArray = self.class_key[np.searchsorted(self.first_rows, rows, side="right") - 1]
        return keys


def requirement_profiles(
    household: Household, table: UnitTable, rows: Rows, checks: PairChecks, policy: Policy
) -> Profiles:
    """The profiles of a household without a workplace or care site. Rows are sorted by
    class, and what decides a profile is the same for all of a class's units, so the first
    row of each class stands for it (were a class not alike after all, its pairs would fail
    the runs' exactness check and stay single)."""
    if isinstance(rows, slice):
        starts = table.class_starts
        inside = starts[
            np.searchsorted(starts, rows.start, "right") : np.searchsorted(starts, rows.stop)
        ]
        first_rows = np.r_[rows.start, inside]
        firsts = first_rows - rows.start
    else:
        firsts = np.flatnonzero(group_starts(table.chain[rows]))
        first_rows = rows[firsts]
    chain = table.chain[first_rows]
    accepted = chain >= 0
    for rule, passes in checks.passes.items():
        if RULES[rule].scope is Scope.CLASS:  # the same for all of a class's units
            accepted &= passes[firsts]
    fit = size_fit_points(household, table.rooms[first_rows], table.surface[first_rows], policy)
    key = fit.astype(np.int64) * 2
    if policy.income_quota is not None:
        key += table.in_priority_neighbourhood[first_rows]
    classes: dict[int, tuple[int, ...]] = {}
    for profile, unit_class in sorted(
        set(zip(key[accepted].tolist(), chain[accepted].tolist(), strict=True))
    ):
        classes[profile] = (*classes.get(profile, ()), unit_class)
    return Profiles(first_rows, np.where(accepted, key, -1), classes)


def requirement_signature(household: Household, rows: Rows) -> Hashable | None:
    """What decides a household's profiles over the rows it scans: households alike in it
    share them (None: the rows are not a range, no sharing)."""
    if not isinstance(rows, slice):
        return None
    needs = household.needs
    return (
        rows.start,
        rows.stop,
        household.size,
        needed_rooms(household),
        needs.wheelchair,
        needs.step_free,
        household.accepted_lease_kinds,
    )


def runs_by_cost(
    household: Household,
    h_index: int,
    profiles: Profiles,
    registry: ChainRegistry,
    table: UnitTable,
    policy: Policy,
) -> PairRuns | None:
    """The runs of a household without a workplace, a care site, excluded communes,
    preferred communes or refused pairs, straight from its profiles' chains: every rule but
    the cost is the same for all of a profile's units (their classes), so its pairs with a
    profile are the chain's units it can afford, a prefix found by binary search, scored
    with pair_scores' formulas in the same floats: its priority and the profile's size fit
    (alike for all its units), plus the affordability points of each cost. None: a profile's
    scores rise with the cost, or the registry is full; the household's rows are then
    scanned one by one."""
    threshold = policy.max_effort_rate * household.monthly_resources_eur + EPSILON
    priority = float(sum(priority_points(household, policy).values()))
    parts: list[PairRuns] = []
    for classes in profiles.classes.values():
        found = registry.chain_of(classes)
        if found is None:
            return None
        chain, _ = found
        units, costs = registry.units_by_cost(chain)
        affordable = int(np.searchsorted(costs - household.housing_benefit_eur, threshold, "right"))
        if not affordable:
            continue
        # A profile's units fit the household alike: only the affordability points vary.
        first_row = table.row_of_unit[units[:1]]
        fit = size_fit_points(household, table.rooms[first_row], table.surface[first_row], policy)
        scores = (
            priority + fit[0] + affordability_points(household, costs[:affordable], policy)
        ).astype(np.int64)
        if (scores[1:] > scores[:-1]).any():  # a policy weighing dearer units higher
            return None
        parts.append(runs_by_score(h_index, chain, scores))
    return PairRuns.joined(parts)
