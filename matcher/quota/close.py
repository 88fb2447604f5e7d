"""Closing the income quota's last gap exactly: reduced-cost fixing, then HiGHS on what is left.

The Lagrangian relaxation (search.py) ends with a quota-meeting flow of value V and a bound L
on every quota-meeting flow, usually a hair apart: flows are integral, so the best multiplier
sits between two flows, one on each side of the quota. At that multiplier the relaxed flow is
optimal, and its node potentials give every pair a *regret*: how much the relaxed profit drops
if a flow flips that pair. A quota-meeting flow can only beat V if the regrets of the pairs it
flips add up to less than L - V (its value is at most its relaxed profit, which is L minus
those regrets). So every pair with a regret of L - V or more keeps its value, and what is left
is a small problem: the pairs that may still flip, under the capacities and the quota, every
other pair keeping its state. HiGHS solves it exactly as a MIP (matcher/mip.py: its LP
relaxation is nearly integral, where CP-SAT was measured to stall), started from the best
flow. If it finds nothing better, V was optimal; if it does, that is the optimum. Either way
the round is proven optimal, unless the time limit or the size guard stops it first, which
is reported.

Before that, blend.py improves V cheaply from the two flows either side of the quota.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matcher import duals
from matcher.flow import IntArray
from matcher.mip import AssignmentMip, solve_assignment_mip
from matcher.quota.problem import SCALE, QuotaProblem, ValuedFlow
from matcher.simplex import WarmSimplex

# Measured on generated departement rounds with a binding quota (share 40%, 8,000 EUR):
# HiGHS proves a residual of 27,000 free pairs optimal in 9 s (600 x 600) and one of 70,000
# in 8 s (1,000 x 1,000), where CP-SAT closed 11,000 in 2.5 s and not one of 56,000 in 60 s.
# Past this many free pairs the gap is reported instead (the model alone would take memory
# and time the closing cannot repay). The regrets come from the search's network simplex
# (one more warm solve), but on large rounds the duals are so degenerate that most pairs
# stay free: 4.5 million of 6.2 million at 5,000 x 5,000, 19.7 million of 25 million at
# 10,000 x 10,000 (16 s spent for nothing there). Past MAX_PAIRS the gap is reported at once.
MAX_FREE_PAIRS = 300_000
MAX_PAIRS = 2_000_000


@dataclass(frozen=True, slots=True)
class Anchor:
    """A flow optimal for the relaxation at some multiplier, and what it proves."""

    chosen: NDArray[np.bool_]
    profits: IntArray  # pair profits of the relaxation at that multiplier (scaled)
    bound: int  # the relaxation's value there: an upper bound on any quota-meeting flow


@dataclass(frozen=True, slots=True)
class Closure:
    best: ValuedFlow  # the best quota-meeting flow known after closing
    bound: int
    note: str  # for the round's notes: how the gap was closed, or why it was not
    timed_out: bool = False


def close_gap(
    problem: QuotaProblem,
    anchor: Anchor,
    best: ValuedFlow,
    simplex: WarmSimplex,
    time_limit_s: float,
    seed: int,
) -> Closure:
    """`best` is the best quota-meeting flow known; `anchor` the relaxation's optimum at the
    best multiplier, on the problem's network, which `simplex` solves. Where something
    weighs above housing (a unit's first place, with k > 1 candidates per unit), a better
    flow may house fewer, and the number housed is not bounded."""
    network = problem.network
    big_m = problem.big_m if problem.housed_outweighs_all else None
    budget = anchor.bound - best.value  # a better flow's changes have total regret < budget
    if budget <= 0:
        return Closure(best, best.value, "")
    if network.pairs > MAX_PAIRS:
        return Closure(
            best,
            anchor.bound,
            f"gap left open: {network.pairs:,} pairs are too many to close it exactly",
        )
    reduced = simplex.reduced_costs(anchor.profits, anchor.chosen)
    regrets = duals.regrets(network, reduced, anchor.chosen)
    households, units = network.pair_household, network.pair_unit
    unit_capacity, building_of_unit = network.unit_capacity, network.building_of_unit
    building_capacity = network.building_capacity
    anchor_pair_of = np.full(network.households, -1, dtype=np.int64)
    anchor_pair_of[households[anchor.chosen]] = np.flatnonzero(anchor.chosen)
    matched = anchor_pair_of >= 0

    # Lower bounds on the regret of any flow that flips a pair: its own, plus, to switch a pair
    # on, its household's (matched: leaving its pair; unmatched: being housed) and, for an
    # empty unit, the unit's.
    switch_on = regrets.pairs + np.where(
        matched[households],
        regrets.pairs[anchor_pair_of[households]],
        regrets.households[households],
    )
    switch_on += np.where(regrets.unit_loads[units] == 0, regrets.units[units], 0)
    free = np.where(anchor.chosen, regrets.pairs, switch_on) < budget
    # A household or unit whose own arc cannot change keeps its state.
    free &= ~((regrets.households[households] >= budget) & ~matched[households])
    fixed_on = anchor.chosen & ~free
    household_load = np.bincount(households[fixed_on], minlength=network.households)
    unit_load = np.bincount(units[fixed_on], minlength=network.units)
    free &= household_load[households] == 0
    free &= unit_load[units] < unit_capacity[units]
    n_free = int(free.sum())
    if n_free > MAX_FREE_PAIRS:
        return Closure(
            best,
            anchor.bound,
            f"gap left open: {n_free:,} pairs could still improve the round, too many to "
            "close it exactly",
        )

    index = np.flatnonzero(free)
    fixed_count = int(fixed_on.sum())
    values = problem.values[index] // SCALE
    least, most = fixed_count, network.households
    if big_m is not None:
        # A better flow houses at least as many as the best one (big_m outweighs any score),
        # and no more than the bound allows: usually the same number, which leaves only the
        # score to maximise, with small coefficients.
        least, most = int(best.chosen.sum()), int(anchor.bound // (SCALE * big_m))
        if most == least:
            values -= big_m
    fixed_buildings = building_of_unit[units[fixed_on]]
    building_load = np.bincount(
        fixed_buildings[fixed_buildings >= 0], minlength=building_capacity.size
    )
    model = AssignmentMip(
        households=households[index],
        units=units[index],
        values=values,
        quota=problem.weights[index],
        quota_floor=-problem.slack(fixed_on),
        unit_places=unit_capacity - unit_load,
        building_of_unit=building_of_unit,
        building_places=building_capacity - building_load,
        must_house=matched & (regrets.households >= budget),
        least_housed=least - fixed_count,
        most_housed=most - fixed_count,
    )
    # The best flow is a start when it keeps every fixed pair (it usually does).
    starts_from_best = np.array_equal(best.chosen & ~free, fixed_on)
    outcome = solve_assignment_mip(
        model, best.chosen[index] if starts_from_best else None, time_limit_s, seed
    )
    closed = f"gap closed by HiGHS on the {n_free:,} pairs that could still improve the round"
    stopped = f"gap left open: HiGHS on {n_free:,} pairs stopped at the time limit"
    if outcome.infeasible:  # no flow keeping the fixed pairs beats the best: it is optimal
        return Closure(best, best.value, closed)
    if outcome.chosen is not None:
        found = fixed_on.copy()
        found[index] = outcome.chosen
        if problem.value(found) > best.value:
            best = problem.valued(found)
    if outcome.optimal:
        return Closure(best, best.value, closed)
    # Every flow better than the best known keeps the fixed pairs, so the model's bound
    # holds for all of them.
    housed_value = big_m * (most - fixed_count) if big_m is not None and most == least else 0
    model_bound = problem.value(fixed_on) + SCALE * (
        math.floor(outcome.bound + 1e-6) + housed_value
    )
    bound = min(anchor.bound, max(best.value, model_bound))
    return Closure(best, bound, stopped, timed_out=True)
