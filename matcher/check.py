"""Solver-agnostic checks of a result, written without the solver: every solver test uses them,
so a wrong model cannot pass by agreeing with itself."""

from __future__ import annotations

from collections import Counter

from matcher.income import quota_shortfall, with_threshold
from matcher.rules import violations as pair_violations
from matcher.score import score_breakdown
from matcher.types import Instance, Policy, RoundResult, Status


def violations(instance: Instance, policy: Policy, result: RoundResult) -> list[str]:
    """Every way the result breaks a hard rule or a capacity; empty when it is valid."""
    households = {h.id: h for h in instance.households}
    units = {u.id: u for u in instance.units}
    problems: list[str] = []
    for match in result.matches:
        household, unit = households.get(match.household), units.get(match.unit)
        if household is None or unit is None:
            problems.append(f"{match.household}->{match.unit}: unknown household or unit")
            continue
        problems += [
            f"{match.household}->{match.unit}: {v.rule}: {v.message}"
            for v in pair_violations(household, unit, policy)
        ]
        if score_breakdown(household, unit, policy) != match.score_breakdown:
            problems.append(f"{match.household}->{match.unit}: score breakdown differs")
        if sum(match.score_breakdown.values()) != match.score:
            problems.append(f"{match.household}->{match.unit}: score is not its breakdown's sum")
    per_household = Counter(m.household for m in result.matches)
    problems += [f"household {h} matched {n} times" for h, n in per_household.items() if n > 1]
    per_unit = Counter(m.unit for m in result.matches)
    problems += [
        f"unit {u} has {n} candidates (max {policy.candidates_per_unit})"
        for u, n in per_unit.items()
        if n > policy.candidates_per_unit
    ]
    for unit_id in per_unit:
        ranks = sorted(m.rank for m in result.matches if m.unit == unit_id)
        if ranks != list(range(1, len(ranks) + 1)):
            problems.append(f"unit {unit_id}: ranks {ranks} are not 1..n")
    if policy.max_per_building is not None:
        per_building = Counter(
            units[m.unit].building_id
            for m in result.matches
            if m.unit in units and units[m.unit].building_id is not None
        )
        problems += [
            f"building {b} has {n} matches (max {policy.max_per_building})"
            for b, n in per_building.items()
            if n > policy.max_per_building
        ]
    if policy.income_quota is not None and result.status is not Status.NO_CANDIDATES:
        pairs = [
            (households[m.household], units[m.unit])
            for m in result.matches
            if m.household in households and m.unit in units
        ]
        quota = with_threshold(policy.income_quota, instance.households)
        shortfall = quota_shortfall(quota, pairs)
        if shortfall > 1e-9 and not any("cannot be met" in note for note in result.notes):
            problems.append(f"income quota missed by {shortfall:g} match(es)")
    unmatched = {u.household for u in result.unmatched}
    missing = set(households) - set(per_household) - unmatched
    problems += [f"household {h} neither matched nor explained" for h in sorted(missing)]
    return problems


def objective(instance: Instance, policy: Policy, result: RoundResult) -> tuple[int, int]:
    """(households matched, total score), recomputed from the rules, not from the solver."""
    households = {h.id: h for h in instance.households}
    units = {u.id: u for u in instance.units}
    total = sum(
        sum(score_breakdown(households[m.household], units[m.unit], policy).values())
        for m in result.matches
    )
    return len({m.household for m in result.matches}), total
