"""What the matcher's tests check it against: the scalar rules, scipy's max-flow, exhaustive
search, or a CP-SAT model of the whole round written from the rules (not from the flow), and
the builders the tests share."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_flow

from matcher import IncomeQuota, Instance, Policy, RoundResult, Tuning, Unit, check
from matcher.income import is_low_income, quota_shortfall, with_threshold
from matcher.rules import feasible
from matcher.score import score
from tests.strategies import ROUND_DATE, competing_rounds

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def always_chained(block: int, max_profiles: int = Tuning().max_profiles) -> Tuning:
    """Chain every round where some pairs can be chained, not only where it saves arcs, in
    blocks of `block` units (small blocks: the chain of blocks matters on small rounds)."""
    return Tuning(chaining_min_arcs_saved=-(10**9), chain_block=block, max_profiles=max_profiles)


blocks = st.sampled_from([2, 3, Tuning().chain_block])


# how many profile chains a round may register before falling back to class chains
profile_limits = st.sampled_from([Tuning().max_profiles, 0, 1])


def feasible_pairs(instance: Instance, policy: Policy) -> list[tuple[int, int]]:
    """Every feasible pair by the scalar reference rules (no vectorisation, no pruning)."""
    return [
        (h, u)
        for h, household in enumerate(instance.households)
        for u, unit in enumerate(instance.units)
        if feasible(household, unit, policy)
    ]


def max_matchable(instance: Instance, policy: Policy) -> int:
    """Maximum households matchable under capacities, by scipy's max-flow (not OR-tools)."""
    pairs = feasible_pairs(instance, policy)
    n_h, n_u = len(instance.households), len(instance.units)
    buildings = sorted({u.building_id for u in instance.units if u.building_id is not None})
    source, sink = 0, 1 + n_h + n_u + len(buildings)
    arcs: Counter[tuple[int, int]] = Counter()
    for h in range(n_h):
        arcs[(source, 1 + h)] += 1
    for h, u in pairs:
        arcs[(1 + h, 1 + n_h + u)] += 1
    for u, unit in enumerate(instance.units):
        if policy.max_per_building is not None and unit.building_id is not None:
            head = 1 + n_h + n_u + buildings.index(unit.building_id)
        else:
            head = sink
        arcs[(1 + n_h + u, head)] += policy.candidates_per_unit
    for b in range(len(buildings)):
        arcs[(1 + n_h + n_u + b, sink)] += policy.max_per_building or 0
    if not arcs:
        return 0
    tails, heads = zip(*arcs, strict=True)
    graph = csr_array(
        (np.array(list(arcs.values()), dtype=np.int32), (np.array(tails), np.array(heads))),
        shape=(sink + 1, sink + 1),
    )
    return int(maximum_flow(graph, source, sink).flow_value)


def fills_units_first(policy: Policy) -> bool:
    """Whether the round gives the most units a candidate before housing the most households
    (k > 1 candidates per unit)."""
    return policy.candidates_per_unit > 1


def objective_of(instance: Instance, policy: Policy, result: RoundResult) -> tuple[int, ...]:
    """The round's lexicographic objective, recomputed by check.objective: (units with a
    candidate, households matched, total score) where units are filled first, else
    (households matched, total score)."""
    matched, total = check.objective(instance, policy, result)
    if fills_units_first(policy):
        return len({m.unit for m in result.matches}), matched, total
    return matched, total


def best_by_exhaustive_search(instance: Instance, policy: Policy) -> tuple[int, ...]:
    """The lexicographic optimum (as objective_of), by trying every assignment."""
    options: list[list[int | None]] = [[None] for _ in instance.households]
    for h, u in feasible_pairs(instance, policy):
        options[h].append(u)
    best: tuple[int, ...] = (0, 0, 0) if fills_units_first(policy) else (0, 0)
    chosen: dict[int, int] = {}

    def search(
        h: int, load: Counter[int], buildings: Counter[str], matched: int, total: int
    ) -> None:
        nonlocal best
        if h == len(instance.households):
            if policy.income_quota is not None and quota_shortfall(
                with_threshold(policy.income_quota, instance.households),
                [(instance.households[i], instance.units[u]) for i, u in chosen.items()],
            ):
                return
            if fills_units_first(policy):
                best = max(best, (len(set(chosen.values())), matched, total))
            else:
                best = max(best, (matched, total))
            return
        for u in options[h]:
            if u is None:
                search(h + 1, load, buildings, matched, total)
                continue
            building = instance.units[u].building_id
            if load[u] >= policy.candidates_per_unit:
                continue
            if (
                policy.max_per_building is not None
                and building is not None
                and buildings[building] >= policy.max_per_building
            ):
                continue
            load[u] += 1
            chosen[h] = u
            if building is not None:
                buildings[building] += 1
            pair_score = score(instance.households[h], instance.units[u], policy)
            search(h + 1, load, buildings, matched + 1, total + pair_score)
            del chosen[h]
            load[u] -= 1
            if building is not None:
                buildings[building] -= 1

    search(0, Counter(), Counter(), 0, 0)
    return best


def best_by_cp_sat(instance: Instance, policy: Policy) -> tuple[int, ...]:
    """The lexicographic optimum (as objective_of), by CP-SAT on one Boolean per feasible
    pair and one per unit given a candidate; the quota in exact fractions. For rounds too
    large to search exhaustively."""
    pairs = feasible_pairs(instance, policy)
    scores = [score(instance.households[h], instance.units[u], policy) for h, u in pairs]
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(len(pairs))]
    for h in range(len(instance.households)):
        model.add(sum(x[i] for i, (ph, _) in enumerate(pairs) if ph == h) <= 1)
    for u in range(len(instance.units)):
        used = [x[i] for i, (_, pu) in enumerate(pairs) if pu == u]
        model.add(sum(used) <= policy.candidates_per_unit)
    if policy.max_per_building is not None:
        for building in {unit.building_id for unit in instance.units} - {None}:
            model.add(
                sum(
                    x[i]
                    for i, (_, u) in enumerate(pairs)
                    if instance.units[u].building_id == building
                )
                <= policy.max_per_building
            )
    quota = policy.income_quota
    if quota is not None:
        quota = with_threshold(quota, instance.households)
        share = Fraction(quota.share)
        outside = [
            i for i, (_, u) in enumerate(pairs) if not instance.units[u].in_priority_neighbourhood
        ]
        low = [i for i in outside if is_low_income(instance.households[pairs[i][0]], quota)]
        model.add(
            share.denominator * sum(x[i] for i in low)
            >= share.numerator * sum(x[i] for i in outside)
        )
    big = sum(scores) + 1
    objective: cp_model.LinearExpr | int = sum(
        (big + s) * v for s, v in zip(scores, x, strict=True)
    )
    covered = [model.new_bool_var(f"c{u}") for u in range(len(instance.units))]
    if fills_units_first(policy):
        for u, cover in enumerate(covered):
            model.add(cover <= sum(x[i] for i, (_, pu) in enumerate(pairs) if pu == u))
        objective += big * (len(pairs) + 1) * sum(covered)
    model.maximize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    matched = sum(solver.boolean_value(v) for v in x)
    total = sum(s for s, v in zip(scores, x, strict=True) if solver.boolean_value(v))
    if fills_units_first(policy):
        return sum(solver.boolean_value(c) for c in covered), matched, total
    return matched, total


quotas = st.builds(
    IncomeQuota,
    share=st.sampled_from([0.25, 0.34, 0.5, 0.75, 1.0]),
    threshold_eur_per_consumption_unit=st.sampled_from([6000.0, 9000.0, 12000.0]),
)


def binding_quota_round(
    data: st.DataObject, max_households: int, max_units: int
) -> tuple[Instance, Policy]:
    """A round with a quota that often binds: more households than units, units mostly
    outside priority neighbourhoods, generous commute and effort rate so that households
    have choices, and resources on both sides of the quota's thresholds."""
    instance, policy = data.draw(competing_rounds(max_households, max_units))
    outside = st.integers(0, 4).map(lambda n: n == 0)
    instance = Instance(
        tuple(
            replace(h, monthly_resources_eur=data.draw(st.floats(300, 4000)))
            for h in instance.households
        ),
        tuple(replace(u, in_priority_neighbourhood=data.draw(outside)) for u in instance.units),
    )
    policy = replace(policy, income_quota=data.draw(quotas), pinned_pairs=frozenset())
    return instance, policy


def alike_units(*rents: float) -> tuple[Unit, ...]:
    """Units of one class (two rooms, 40 m2, same place), one per rent, named u<rent>."""
    return tuple(
        Unit(
            id=f"u{rent}",
            lat=45.78,
            lon=3.08,
            rooms=2,
            surface_m2=40,
            rent_eur=rent,
            available_from=ROUND_DATE,
        )
        for rent in rents
    )
