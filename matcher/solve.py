"""solve(instance, policy) -> RoundResult: the best feasible assignment of a match round.

The model is a min-cost flow, which OR-tools solves exactly and fast (see docs/benchmarks.md):

    source -1-> household -1-> unit -k-> [building -cap->] sink

with one arc household -> unit per feasible pair, costing (best score - score).
`solve_max_flow_with_min_cost` first maximises the flow (households housed) and then, among
maximum flows, minimises the cost (maximises the total score): exactly the lexicographic
objective, with no big-M weight to tune or overflow. `candidates_per_unit` k is the capacity of
the unit arc; `max_per_building` the capacity of a building arc. Pinned pairs are fixed before
the flow and their capacity taken off.
"""

from __future__ import annotations

from collections import defaultdict
from time import perf_counter

import numpy as np
from ortools.graph.python import min_cost_flow

from matcher.candidates import CandidateSet, UnitTable, generate_candidates
from matcher.explain import explain_unmatched, justified_envy_pairs
from matcher.rules import violations
from matcher.score import score_breakdown
from matcher.types import (
    Instance,
    Match,
    PinOutcome,
    Policy,
    RoundResult,
    RoundStats,
    Status,
)


class SolverError(RuntimeError):
    """The solver failed in a way that is a bug, not a property of the instance."""


def validate(instance: Instance, policy: Policy) -> None:
    """Reject inputs the model cannot mean anything for, with a message a person can act on."""
    for kind, ids in (
        ("household", [h.id for h in instance.households]),
        ("unit", [u.id for u in instance.units]),
    ):
        seen: set[str] = set()
        for item_id in ids:
            if item_id in seen:
                raise ValueError(f"duplicate {kind} id {item_id!r}")
            seen.add(item_id)
    if policy.candidates_per_unit < 1:
        raise ValueError("candidates_per_unit must be at least 1")
    if policy.max_per_building is not None and policy.max_per_building < 1:
        raise ValueError("max_per_building must be at least 1 when set")
    if policy.max_commute_km <= 0 or policy.max_effort_rate <= 0:
        raise ValueError("max_commute_km and max_effort_rate must be positive")
    if policy.income_quota is not None:
        raise ValueError(
            "income_quota is not supported yet: the round would ignore it, so it is refused"
        )


def _apply_pins(
    instance: Instance, policy: Policy, candidates: CandidateSet
) -> tuple[dict[int, int], list[PinOutcome]]:
    """Pinned pairs that are feasible, as household index -> unit index, and what became of
    every pin. A pin that is infeasible or conflicts with an earlier one is reported, not
    applied, and its household competes normally."""
    household_index = {h.id: i for i, h in enumerate(instance.households)}
    unit_index = {u.id: i for i, u in enumerate(instance.units)}
    applied: dict[int, int] = {}
    unit_load: dict[int, int] = defaultdict(int)
    outcomes: list[PinOutcome] = []
    for household_id, unit_id in sorted(policy.pinned_pairs):
        h, u = household_index.get(household_id), unit_index.get(unit_id)
        if h is None or u is None:
            missing = "household" if h is None else "unit"
            outcomes.append(PinOutcome(household_id, unit_id, False, f"unknown {missing}"))
            continue
        if not np.any((candidates.household == h) & (candidates.unit == u)):
            why = "; ".join(
                v.message for v in violations(instance.households[h], instance.units[u], policy)
            )
            outcomes.append(PinOutcome(household_id, unit_id, False, f"infeasible: {why}"))
            continue
        if h in applied:
            outcomes.append(
                PinOutcome(household_id, unit_id, False, "household already pinned to a unit")
            )
            continue
        if unit_load[u] >= policy.candidates_per_unit:
            outcomes.append(PinOutcome(household_id, unit_id, False, "unit already full of pins"))
            continue
        applied[h] = u
        unit_load[u] += 1
        outcomes.append(PinOutcome(household_id, unit_id, True, "pinned"))
    return applied, outcomes


def _flow_assignment(
    instance: Instance, policy: Policy, candidates: CandidateSet, pinned: dict[int, int]
) -> list[tuple[int, int]]:
    """(household index, unit index) pairs of a maximum flow of minimum cost."""
    n_households, n_units = len(instance.households), len(instance.units)
    unit_capacity = np.full(n_units, policy.candidates_per_unit, dtype=np.int64)
    for u in pinned.values():
        unit_capacity[u] -= 1
    buildings: dict[str, int] = {}
    building_of_unit = np.full(n_units, -1, dtype=np.int64)
    if policy.max_per_building is not None:
        for u, unit in enumerate(instance.units):
            if unit.building_id is not None:
                building_of_unit[u] = buildings.setdefault(unit.building_id, len(buildings))
    building_capacity = np.full(len(buildings), policy.max_per_building or 0, dtype=np.int64)
    for u in pinned.values():
        if building_of_unit[u] >= 0:
            building_capacity[building_of_unit[u]] -= 1

    keep = ~np.isin(candidates.household, np.fromiter(pinned, dtype=np.int64))
    keep &= unit_capacity[candidates.unit] > 0
    pair_households = candidates.household[keep]
    pair_units = candidates.unit[keep]
    pair_scores = candidates.score[keep]
    if pair_households.size == 0:
        return []

    source = 0
    household_node = 1
    unit_node = household_node + n_households
    building_node = unit_node + n_units
    sink = building_node + len(buildings)

    best = int(pair_scores.max())
    tails = [
        np.full(n_households, source),
        household_node + pair_households,
        unit_node + np.arange(n_units),
        building_node + np.arange(len(buildings)),
    ]
    heads = [
        household_node + np.arange(n_households),
        unit_node + pair_units,
        np.where(building_of_unit >= 0, building_node + building_of_unit, sink),
        np.full(len(buildings), sink),
    ]
    capacities = [
        np.ones(n_households),
        np.ones(pair_households.size),
        np.maximum(unit_capacity, 0),
        np.maximum(building_capacity, 0),
    ]
    costs = [
        np.zeros(n_households),
        best - pair_scores,
        np.zeros(n_units),
        np.zeros(len(buildings)),
    ]
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(capacities).astype(np.int64),
        np.concatenate(costs).astype(np.int64),
    )
    flow.set_node_supply(source, n_households)
    flow.set_node_supply(sink, -n_households)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    pair_arcs = np.arange(n_households, n_households + pair_households.size)
    used = flow.flows(pair_arcs) > 0
    return list(zip(pair_households[used].tolist(), pair_units[used].tolist(), strict=True))


def _ranked_matches(
    instance: Instance, policy: Policy, assignment: list[tuple[int, int]]
) -> list[Match]:
    by_unit: dict[int, list[tuple[int, dict[str, int]]]] = defaultdict(list)
    for h, u in assignment:
        breakdown = score_breakdown(instance.households[h], instance.units[u], policy)
        by_unit[u].append((h, breakdown))
    matches: list[Match] = []
    for u in sorted(by_unit):
        ranked = sorted(
            by_unit[u], key=lambda item: (-sum(item[1].values()), instance.households[item[0]].id)
        )
        for rank, (h, breakdown) in enumerate(ranked, start=1):
            matches.append(
                Match(
                    household=instance.households[h].id,
                    unit=instance.units[u].id,
                    rank=rank,
                    score=sum(breakdown.values()),
                    score_breakdown=breakdown,
                )
            )
    return matches


def solve(instance: Instance, policy: Policy) -> RoundResult:
    """The optimal round: most households housed, then the highest total score.

    Raises ValueError for an input that cannot be solved as given (duplicate ids, a policy
    asking for what the core does not support). An instance with nothing feasible is a
    result with status NO_CANDIDATES and a reason for every household, not an error.
    """
    started = perf_counter()
    validate(instance, policy)
    table = UnitTable.build(instance, policy)
    candidates = generate_candidates(instance, policy, table)
    generated = perf_counter()

    pinned, pin_outcomes = _apply_pins(instance, policy, candidates)
    assignment = list(pinned.items()) + _flow_assignment(instance, policy, candidates, pinned)
    solved = perf_counter()

    matches = _ranked_matches(instance, policy, assignment)
    unmatched = explain_unmatched(instance, policy, table, candidates, assignment)
    envy = justified_envy_pairs(instance, policy, candidates, assignment)
    explained = perf_counter()

    objective = sum(m.score for m in matches)
    stats = RoundStats(
        households=len(instance.households),
        units=len(instance.units),
        candidate_pairs=len(candidates),
        matched=len(matches),
        objective=objective,
        best_bound=objective,  # min-cost flow is exact: the bound is the optimum itself
        gap=0.0,
        optimal=True,
        justified_envy_pairs=envy,
        seconds={
            "candidates": round(generated - started, 4),
            "solve": round(solved - generated, 4),
            "explain": round(explained - solved, 4),
            "total": round(explained - started, 4),
        },
    )
    status = Status.OPTIMAL if len(candidates) else Status.NO_CANDIDATES
    return RoundResult(status, tuple(matches), tuple(unmatched), stats, tuple(pin_outcomes))
