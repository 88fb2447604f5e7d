"""Blending the two flows either side of the quota into a better quota-meeting one.

The multiplier search (search.py) ends with two flows either side of the quota. Where they
differ, the pairs fall into independent pieces, alternating paths and cycles, so swapping
whole pieces from one to the other keeps a valid flow; the best set to swap is a small
knapsack. This improves the best quota-meeting flow cheaply before close.py proves it, and
matters most when the time limit stops the search early.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from matcher.flow import FlowNetwork
from matcher.quota.problem import QuotaProblem, ValuedFlow


def best_blend(
    problem: QuotaProblem,
    breaking: NDArray[np.bool_],
    meeting: NDArray[np.bool_],
    time_limit_s: float,
    seed: int,
) -> ValuedFlow:
    """The best quota-meeting flow that takes, piece by piece, what a flow breaking the quota
    does differently from one meeting it (the two flows either side of the multiplier).

    Where the two differ, the pairs fall into independent pieces, alternating paths and
    cycles (see _alternating_pieces), so swapping any set of whole pieces from `meeting` to
    `breaking` leaves a valid flow. Which pieces to swap is a knapsack (value gained against
    quota slack spent), solved exactly by CP-SAT: it has one item per piece, a few thousand
    at most."""
    differ = np.flatnonzero(breaking != meeting)
    slack = problem.slack(meeting)
    if not differ.size or slack < 0:
        return problem.valued(meeting)
    pieces = _alternating_pieces(problem.network, differ, breaking[differ])
    sign = np.where(breaking[differ], 1, -1)  # swapping adds breaking's pairs, drops meeting's
    labels, piece_of = np.unique(pieces, return_inverse=True)
    gains = np.bincount(piece_of, weights=sign * problem.values[differ], minlength=labels.size)
    spends = np.bincount(piece_of, weights=sign * problem.weights[differ], minlength=labels.size)
    # float sums are exact here: integers far below 2**53
    gains, spends = gains.astype(np.int64), spends.astype(np.int64)
    useful = np.flatnonzero((gains > 0) | (spends > 0))
    if not useful.size:
        return problem.valued(meeting)
    from ortools.sat.python import cp_model  # with pandas, 0.3 s: only quota rounds load it

    model = cp_model.CpModel()
    take = [model.new_bool_var(f"p{i}") for i in range(useful.size)]
    model.add(cp_model.LinearExpr.weighted_sum(take, spends[useful].tolist()) >= -slack)
    model.maximize(cp_model.LinearExpr.weighted_sum(take, gains[useful].tolist()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_limit_s, 0.01)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return problem.valued(meeting)
    taken = useful[[solver.boolean_value(t) for t in take]]
    swap = differ[np.isin(piece_of, taken)]
    blended = meeting.copy()
    blended[swap] = breaking[swap]
    return problem.valued(blended)


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
    building_of_unit = network.building_of_unit
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
