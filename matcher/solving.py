"""solve(instance, policy) -> RoundResult: the best feasible assignment of a match round.

The model is a min-cost flow, which OR-tools solves exactly and fast (see docs/benchmarks.md):

    source -1-> household -1-> unit -k-> [building -cap->] sink

with one arc household -> unit per feasible pair, costing (best score - score).
`solve_max_flow_with_min_cost` first maximises the flow (households housed) and then, among
maximum flows, minimises the cost (maximises the total score): exactly the lexicographic
objective, with no big-M weight to tune or overflow. `candidates_per_unit` k is the capacity of
the unit arc; `max_per_building` the capacity of a building arc. Pinned pairs are fixed before
the flow and their capacity taken off. The income quota, the one constraint a flow cannot
express, is handled by Lagrangian relaxation (matcher/quota/), with its bound and gap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from time import perf_counter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.candidates import CandidateSet, generate_candidates, too_large
from matcher.explain import explain_unmatched, justified_envy_pairs
from matcher.flow import FlowNetwork
from matcher.income import is_low_income, with_threshold
from matcher.quota import SCALE, multipliers_fit, quota_met, solve_with_quota
from matcher.rules import violations
from matcher.score import score_breakdown
from matcher.types import (
    DEFAULT_TUNING,
    IncomeQuota,
    Instance,
    Match,
    Phase,
    PinOutcome,
    Policy,
    QuotaEffect,
    RoundResult,
    RoundStats,
    Status,
    Tuning,
)
from matcher.unit_table import UnitTable


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
    quota = policy.income_quota
    if quota is not None and not (0 < quota.share <= 1):
        raise ValueError("income_quota.share must be in (0, 1]")
    if quota is not None and (quota.threshold_eur_per_consumption_unit is None) != (
        quota.first_quartile
    ):
        raise ValueError(
            "income_quota needs either threshold_eur_per_consumption_unit or first_quartile"
        )
    if quota is not None and abs(quota.share * SCALE - round(quota.share * SCALE)) > 1e-6:
        # The Lagrangian works in integers: a finer share would be enforced rounded.
        raise ValueError("income_quota.share has a resolution of 0.1%: give at most 3 decimals")


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
    building_load: dict[str, int] = defaultdict(int)
    outcomes: list[PinOutcome] = []
    for household_id, unit_id in sorted(policy.pinned_pairs):
        h, u = household_index.get(household_id), unit_index.get(unit_id)
        if h is None or u is None:
            missing = "household" if h is None else "unit"
            outcomes.append(PinOutcome(household_id, unit_id, False, f"unknown {missing}"))
            continue
        if not candidates.contains(h, u):
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
        building = instance.units[u].building_id
        if (
            policy.max_per_building is not None
            and building is not None
            and building_load[building] >= policy.max_per_building
        ):
            outcomes.append(
                PinOutcome(
                    household_id, unit_id, False, f"building {building} already full of pins"
                )
            )
            continue
        applied[h] = u
        unit_load[u] += 1
        if building is not None:
            building_load[building] += 1
        outcomes.append(PinOutcome(household_id, unit_id, True, "pinned"))
    return applied, outcomes


@dataclass(frozen=True, slots=True)
class Solution:
    pairs: list[tuple[int, int]]
    bound_slack: int  # how far, in score points, the best bound lies above this solution
    notes: list[str]
    housed_without_quota: int | None = None  # pins included; None: no quota


def quota_effect(
    instance: Instance, quota: IncomeQuota, assignment: list[tuple[int, int]], without: int
) -> QuotaEffect:
    """The quota's share reached and what it cost, from the matches themselves."""
    low = [is_low_income(h, quota) for h in instance.households]
    outside = [h for h, u in assignment if not instance.units[u].in_priority_neighbourhood]
    low_outside = sum(low[h] for h in outside)
    assert quota.threshold_eur_per_consumption_unit is not None
    return QuotaEffect(
        threshold_eur_per_consumption_unit=round(quota.threshold_eur_per_consumption_unit, 2),
        low_income_households=sum(low),
        matched_outside=len(outside),
        low_income_matched_outside=low_outside,
        share_reached=round(low_outside / len(outside), 4) if outside else None,
        housed_without_quota=without,
        housed_fewer=without - len(assignment),
    )


def quota_warnings(instance: Instance, quota: IncomeQuota, low: int) -> list[str]:
    """Words for a threshold that qualifies few or no households (`low` of the round's): the
    quota then empties units outside priority neighbourhoods rather than housing low-income
    households."""
    threshold = (
        f"{quota.threshold_eur_per_consumption_unit or 0:,.0f} EUR a year per consumption unit"
    )
    if low == 0:
        return [
            f"income quota: no household of this round is under the threshold of {threshold}: "
            "no unit outside priority neighbourhoods can be matched (check the threshold)"
        ]
    if low < quota.share * len(instance.households):
        return [
            f"income quota: only {low} of {len(instance.households)} households are under "
            f"the threshold of {threshold}: the quota may leave units empty"
        ]
    return []


def _assign(
    instance: Instance,
    policy: Policy,
    network: FlowNetwork,
    pinned: dict[int, int],
    tuning: Tuning,
) -> Solution:
    def pairs(households: NDArray[Any], units: NDArray[Any]) -> list[tuple[int, int]]:
        return list(zip(households.tolist(), units.tolist(), strict=True))

    quota = policy.income_quota
    k = policy.candidates_per_unit

    def best_flow(network: FlowNetwork) -> NDArray[np.int64]:
        """The round's optimum without the quota (positions of its pairs)."""
        if k > 1:
            return network.filling_units_first(k).max_flow_min_cost()
        return network.max_flow_min_cost()

    chosen = best_flow(network)
    assignment = pairs(*network.pairs_at(chosen))
    if quota is None:
        return Solution(assignment, 0, [])
    notes = []
    housed_without_quota = len(pinned) + len(assignment)
    low_income = sum(is_low_income(h, quota) for h in instance.households)
    notes += quota_warnings(instance, quota, low_income)
    if quota_met(instance, quota, list(pinned.items()) + assignment):
        return Solution(assignment, 0, notes, housed_without_quota)
    outside = np.array([not u.in_priority_neighbourhood for u in instance.units], dtype=np.bool_)
    if not low_income and not any(outside[u] for u in pinned.values()):
        # Nobody can count toward the quota, so any match outside priority neighbourhoods
        # breaks it: the round is the plain one on the other units (measured at 1,000 x
        # 1,000: 0.1 s against 3.4 s and 25 flow solves for the multiplier search).
        inside_only = network.with_unit_capacity(np.where(outside, 0, network.unit_capacity))
        chosen = best_flow(inside_only)
        return Solution(pairs(*network.pairs_at(chosen)), 0, notes, housed_without_quota)

    # The quota weighs pairs one by one: every pair of the round is made (checked first).
    if network.pairs > tuning.max_arcs:
        raise too_large(tuning.max_arcs)
    network = network.expanded()
    unconstrained = np.zeros(network.pairs, dtype=np.bool_)
    unconstrained[chosen] = True
    # Housing one more household must outweigh any score difference along an augmenting
    # path, which changes at most min(households, unit places) matches; with k > 1, giving
    # one more unit a candidate must outweigh any difference in households housed and score.
    most_matches = min(network.households, len(instance.units) * k)
    best_score = int(network.pair_score.max(initial=0))
    big_m = best_score * (most_matches + 1) + 1
    cover_weight = 0
    if k > 1:
        cover_weight = (big_m + best_score) * most_matches + 1
        placed = network.first_places_apart(k)
        if multipliers_fit(placed, cover_weight + big_m + best_score, quota):
            network, unconstrained = placed, _on_first_places(placed, chosen, network.pairs)
        else:
            cover_weight = 0
            unconstrained[:] = False
            unconstrained[network.max_flow_min_cost()] = True
            notes.append(
                f"with the income quota, {k} candidates per unit are placed to house the most "
                "households, not to give the most units a candidate first: the round is too "
                "large to weigh both exactly"
            )
    outcome = solve_with_quota(
        network, instance, policy, quota, pinned, big_m, unconstrained, cover_weight, tuning
    )
    notes.append(f"income quota: {outcome.solves} flow solves (Lagrangian relaxation)")
    if outcome.estimate_note:
        notes.append(f"income quota: {outcome.estimate_note}")
    if outcome.closing_note:
        notes.append(f"income quota: {outcome.closing_note}")
    if outcome.timed_out:
        notes.append(f"income quota: stopped at the {policy.time_limit_s:g} s time limit")
    if outcome.chosen is None:
        notes.append(
            "income quota cannot be met with the pinned pairs: the round houses the most "
            "households it can and does NOT meet the quota"
        )
        return Solution(assignment, 0, notes, housed_without_quota)
    slack = (outcome.bound - outcome.value) // SCALE
    units = network.pair_unit[outcome.chosen] % len(instance.units)  # a place's unit
    return Solution(
        pairs(network.pair_household[outcome.chosen], units),
        slack,
        notes,
        housed_without_quota,
    )


def _on_first_places(
    placed: FlowNetwork, chosen: NDArray[np.int64], pairs: int
) -> NDArray[np.bool_]:
    """The pairs at positions `chosen` of a network, on the network of its places apart
    (FlowNetwork.first_places_apart, whose pairs number 2 * `pairs`): one household of each
    unit on its first place where it has one, the others on its other places."""
    units = placed.pair_unit[chosen]
    order = np.argsort(units, kind="stable")
    first_of_unit = np.r_[True, units[order][1:] != units[order][:-1]]
    on_first = np.zeros(chosen.size, dtype=np.bool_)
    on_first[order] = first_of_unit & (placed.unit_capacity[units[order]] > 0)
    on_places = np.zeros(2 * pairs, dtype=np.bool_)
    on_places[np.where(on_first, chosen, chosen + pairs)] = True
    return on_places


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


def solve(
    instance: Instance,
    policy: Policy,
    on_phase: Callable[[Phase], None] | None = None,
    tuning: Tuning = DEFAULT_TUNING,
) -> RoundResult:
    """The optimal round: most households housed, then the highest total score.

    Raises ValueError for an input that cannot be solved as given (duplicate ids, a policy
    asking for what the core does not support). An instance with nothing feasible is a
    result with status NO_CANDIDATES and a reason for every household, not an error.
    `on_phase`, if given, is told when each phase starts (a progress display: a large
    round spends minutes in some of them). `tuning` changes how fast, never what.
    """

    def entering(phase: Phase) -> None:
        if on_phase is not None:
            on_phase(phase)

    started = perf_counter()
    entering("candidates")
    validate(instance, policy)
    if policy.income_quota is not None:
        policy = replace(
            policy, income_quota=with_threshold(policy.income_quota, instance.households)
        )
    table = UnitTable.build(instance, policy)
    candidates = generate_candidates(instance, policy, table, tuning=tuning)
    generated = perf_counter()

    entering("solving")
    pinned, pin_outcomes = _apply_pins(instance, policy, candidates)
    network = FlowNetwork.build(instance, policy, candidates, pinned, tuning)
    solution = _assign(instance, policy, network, pinned, tuning)
    assignment = list(pinned.items()) + solution.pairs
    solved = perf_counter()

    entering("explaining")
    matches = _ranked_matches(instance, policy, assignment)
    unmatched = explain_unmatched(instance, policy, table, candidates, assignment, pinned)
    envy = justified_envy_pairs(instance, policy, candidates, assignment)
    passed_over = [u for u in unmatched if u.detail.get("passed_over_count")]
    household_index = {h.id: i for i, h in enumerate(instance.households)}
    explained = perf_counter()

    objective = sum(m.score for m in matches)
    best_bound = objective + solution.bound_slack
    stats = RoundStats(
        households=len(instance.households),
        units=len(instance.units),
        candidate_pairs=len(candidates),
        matched=len(matches),
        units_with_candidates=len({m.unit for m in matches}),
        candidates=len(matches),
        objective=objective,
        best_bound=best_bound,
        gap=round((best_bound - objective) / best_bound, 6) if best_bound > 0 else 0.0,
        optimal=solution.bound_slack == 0,
        passed_over_households=len(passed_over),
        passed_over_urgent=sum(
            instance.households[household_index[u.household]].urgent for u in passed_over
        ),
        justified_envy_pairs=envy,
        income_quota=(
            None
            if policy.income_quota is None or solution.housed_without_quota is None
            else quota_effect(
                instance, policy.income_quota, assignment, solution.housed_without_quota
            )
        ),
        seconds={
            "candidates": round(generated - started, 4),
            "solve": round(solved - generated, 4),
            "explain": round(explained - solved, 4),
            "total": round(explained - started, 4),
        },
    )
    if not len(candidates):
        status = Status.NO_CANDIDATES
    else:
        status = Status.OPTIMAL if stats.optimal else Status.FEASIBLE
    return RoundResult(
        status,
        tuple(matches),
        tuple(unmatched),
        stats,
        tuple(pin_outcomes),
        tuple(solution.notes),
    )
