"""Closing the income quota's last gap exactly: reduced-cost fixing, then HiGHS on what is left.

The Lagrangian relaxation (quota.py) ends with a quota-meeting flow of value V and a bound L
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

Before that, `best_blend` improves V cheaply from the two flows either side of the quota,
which matters most when the time limit stops the multiplier search early.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.sat.python import cp_model

from matcher.flow import FlowNetwork, IntArray
from matcher.mip import AssignmentMip, solve_assignment_mip

# Measured on generated departement rounds with a binding quota (share 40%, 8,000 EUR):
# HiGHS proves a residual of 27,000 free pairs optimal in 9 s (600 x 600) and one of 70,000
# in 8 s (1,000 x 1,000), where CP-SAT closed 11,000 in 2.5 s and not one of 56,000 in 60 s.
# Past this many free pairs the gap is reported instead (the model alone would take memory
# and time the closing cannot repay). Regrets cost a Bellman-Ford over every pair: past
# MAX_PAIRS they would cost more than the closing could win, on rounds whose residual is
# never small.
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
    chosen: NDArray[np.bool_]  # the best quota-meeting flow known after closing
    value: int
    bound: int
    note: str  # for the round's notes: how the gap was closed, or why it was not
    timed_out: bool = False


def close_gap(
    network: FlowNetwork,
    anchor: Anchor,
    best: tuple[NDArray[np.bool_], int],
    pair_values: IntArray,
    quota_weights: IntArray,
    quota_offset: int,
    scale: int,
    big_m: int | None,
    time_limit_s: float,
    seed: int,
) -> Closure:
    """`best` is the best quota-meeting flow and its value (scaled); `pair_values` the scaled
    value of each pair, scale * (big_m + score), and `quota_weights` its weight in the quota
    (sum + offset >= 0). big_m None: the values weigh something above housing (a unit's
    first place, with k > 1 candidates per unit), so a better flow may house fewer and the
    number housed is not bounded."""
    best_chosen, best_value = best
    budget = anchor.bound - best_value  # a better flow's changes have total regret < budget
    if budget <= 0:
        return Closure(best_chosen, best_value, best_value, "")
    if network.pairs > MAX_PAIRS:
        return Closure(
            best_chosen,
            best_value,
            anchor.bound,
            f"gap left open: {network.pairs:,} pairs are too many to close it exactly",
        )
    regrets = network.regrets(anchor.profits, anchor.chosen)
    households, units = network.pair_household, network.pair_unit
    unit_capacity, building_of_unit, building_capacity = network.unit_and_building_capacities()
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
            best_chosen,
            best_value,
            anchor.bound,
            f"gap left open: {n_free:,} pairs could still improve the round, too many to "
            "close it exactly",
        )

    index = np.flatnonzero(free)
    fixed_count = int(fixed_on.sum())
    values = pair_values[index] // scale
    least, most = fixed_count, network.households
    if big_m is not None:
        # A better flow houses at least as many as the best one (big_m outweighs any score),
        # and no more than the bound allows: usually the same number, which leaves only the
        # score to maximise, with small coefficients.
        least, most = int(best_chosen.sum()), int(anchor.bound // (scale * big_m))
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
        quota=quota_weights[index],
        quota_floor=-(quota_offset + int(quota_weights[fixed_on].sum())),
        unit_places=unit_capacity - unit_load,
        building_of_unit=building_of_unit,
        building_places=building_capacity - building_load,
        must_house=matched & (regrets.households >= budget),
        least_housed=least - fixed_count,
        most_housed=most - fixed_count,
    )
    # The best flow is a start when it keeps every fixed pair (it usually does).
    starts_from_best = np.array_equal(best_chosen & ~free, fixed_on)
    outcome = solve_assignment_mip(
        model, best_chosen[index] if starts_from_best else None, time_limit_s, seed
    )
    closed = f"gap closed by HiGHS on the {n_free:,} pairs that could still improve the round"
    stopped = f"gap left open: HiGHS on {n_free:,} pairs stopped at the time limit"
    if outcome.infeasible:  # no flow keeping the fixed pairs beats the best: it is optimal
        return Closure(best_chosen, best_value, best_value, closed)
    chosen, value = best_chosen, best_value
    if outcome.chosen is not None:
        found = fixed_on.copy()
        found[index] = outcome.chosen
        if (found_value := int(pair_values[found].sum())) > value:
            chosen, value = found, found_value
    if outcome.optimal:
        return Closure(chosen, value, value, closed)
    # Every flow better than the best known keeps the fixed pairs, so the model's bound
    # holds for all of them.
    housed_value = big_m * (most - fixed_count) if big_m is not None and most == least else 0
    model_bound = int(pair_values[fixed_on].sum()) + scale * (
        math.floor(outcome.bound + 1e-6) + housed_value
    )
    bound = min(anchor.bound, max(value, model_bound))
    return Closure(chosen, value, bound, stopped, timed_out=True)


def best_blend(
    network: FlowNetwork,
    breaking: NDArray[np.bool_],
    meeting: NDArray[np.bool_],
    pair_values: IntArray,
    quota_weights: IntArray,
    quota_offset: int,
    time_limit_s: float,
    seed: int,
) -> tuple[NDArray[np.bool_], int]:
    """The best quota-meeting flow that takes, piece by piece, what a flow breaking the quota
    does differently from one meeting it (the two flows either side of the multiplier).

    Where the two differ, the pairs fall into independent pieces, alternating paths and
    cycles (see _alternating_pieces), so swapping any set of whole pieces from `meeting` to
    `breaking` leaves a valid flow. Which pieces to swap is a knapsack (value gained against
    quota slack spent), solved exactly by CP-SAT: it has one item per piece, a few thousand
    at most."""
    differ = np.flatnonzero(breaking != meeting)
    value = int(pair_values[meeting].sum())
    slack = quota_offset + int(quota_weights[meeting].sum())
    if not differ.size or slack < 0:
        return meeting, value
    pieces = _alternating_pieces(network, differ, breaking[differ])
    sign = np.where(breaking[differ], 1, -1)  # swapping adds breaking's pairs, drops meeting's
    labels, piece_of = np.unique(pieces, return_inverse=True)
    gains = np.bincount(piece_of, weights=sign * pair_values[differ], minlength=labels.size)
    spends = np.bincount(piece_of, weights=sign * quota_weights[differ], minlength=labels.size)
    # float sums are exact here: integers far below 2**53
    gains, spends = gains.astype(np.int64), spends.astype(np.int64)
    useful = np.flatnonzero((gains > 0) | (spends > 0))
    if not useful.size:
        return meeting, value
    model = cp_model.CpModel()
    take = [model.new_bool_var(f"p{i}") for i in range(useful.size)]
    model.add(cp_model.LinearExpr.weighted_sum(take, spends[useful].tolist()) >= -slack)
    model.maximize(cp_model.LinearExpr.weighted_sum(take, gains[useful].tolist()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_limit_s, 0.01)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return meeting, value
    taken = useful[[solver.boolean_value(t) for t in take]]
    swap = differ[np.isin(piece_of, taken)]
    blended = meeting.copy()
    blended[swap] = breaking[swap]
    return blended, int(pair_values[blended].sum())


def _alternating_pieces(
    network: FlowNetwork, differ: NDArray[np.int64], in_breaking: NDArray[np.bool_]
) -> NDArray[np.int64]:
    """A piece label per differing pair, such that swapping any set of whole pieces between
    the two flows leaves a valid flow.

    A household has at most one pair in each flow: both go in one piece. At a unit, each
    pair only in one flow is paired with one only in the other (they pass through the unit
    and keep its load); the pairs left over all come from the same flow, so swapping any
    of them keeps the unit's load between its loads in the two flows, within capacity. The
    pieces are thus single alternating paths and cycles: the finer they are, the closer the
    knapsack can come to meeting the quota exactly. A capped building's load is not kept
    that way (one unit may gain while another loses), so all pairs of a capped building's
    units stay in one piece."""
    parent = np.arange(differ.size)

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = int(parent[node])
        return node

    def join(a: int, b: int) -> None:
        parent[root(a)] = root(b)

    households = network.pair_household[differ]
    units = network.pair_unit[differ]
    _, building_of_unit, _ = network.unit_and_building_capacities()
    first_at: dict[tuple[str, int], int] = {}
    for arc, (h, u) in enumerate(zip(households.tolist(), units.tolist(), strict=True)):
        building = int(building_of_unit[u])
        shared = [("household", h)] + ([("building", building)] if building >= 0 else [])
        for key in shared:
            if (other := first_at.setdefault(key, arc)) != arc:
                join(arc, other)
    by_unit: dict[int, tuple[list[int], list[int]]] = {}
    for arc, (u, gained) in enumerate(zip(units.tolist(), in_breaking.tolist(), strict=True)):
        by_unit.setdefault(u, ([], []))[0 if gained else 1].append(arc)
    for gains, losses in by_unit.values():
        for a, b in zip(gains, losses, strict=False):
            join(a, b)
    return np.array([root(arc) for arc in range(differ.size)], dtype=np.int64)
