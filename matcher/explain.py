"""Why a household was not matched, and how fair the round is (justified envy).

A coordinator must be able to read and defend a round. An unmatched household gets either
- "no feasible unit", with the number of units each rule rules out and the smallest single
  policy relaxation that would give it one ("2 units fit if max commute were 55 km"), or
- "its n feasible units went to other households", naming its best ones and who got them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.candidates import CandidateSet, Pairs, barred_units_by_household
from matcher.chains import ChainLayout, PairRuns
from matcher.masks import checks_of_every_unit
from matcher.rules import RULES, Rule
from matcher.score import priority_points, score
from matcher.types import Household, Instance, Policy, Unmatched
from matcher.unit_table import UnitTable

# An outcompeted household's reasons name its best units and what became of them; its
# detail lists more of them, best first. Not all: a household of a national round can have
# thousands, which would make the result file gigabytes.
MAX_NAMED_UNITS = 10
MAX_LISTED_UNITS = 100


@dataclass(frozen=True, slots=True)
class Relaxation:
    """Setting `parameter` to `value` would make `units` units feasible for the household."""

    parameter: str
    value: float
    units: int
    relative_change: float  # how far from the current value, for choosing the smallest
    phrase: str

    def as_dict(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "value": self.value, "units": self.units}


def _relaxations(
    household: Household,
    policy: Policy,
    only_failure: dict[Rule, np.ndarray[Any, Any]],
    needed: dict[Rule, np.ndarray[Any, Any]],
) -> list[Relaxation]:
    """For each relaxable rule: units that fail that rule alone, and the least relaxation."""
    found: list[Relaxation] = []
    for rule, failing_alone in only_failure.items():
        relaxable = RULES[rule].relaxable
        if relaxable is None or rule not in needed or not failing_alone.any():
            continue
        values = needed[rule][failing_alone]
        values = values[values <= relaxable.at_most]
        values = values[np.isfinite(values)]
        current = relaxable.current(household, policy)
        if not values.size or current is None:
            continue
        value = relaxable.rounded(float(values.min()))
        units = int((values <= value + 1e-9).sum())
        relative = (value - current) / current if current > 0 else value
        phrase = relaxable.phrase.format(value=value)
        found.append(Relaxation(relaxable.parameter, value, units, relative, phrase))
    return sorted(found, key=lambda r: (r.relative_change, r.parameter))


def _best_first(
    households: NDArray[np.int32], scores: NDArray[np.int32], id_ranks: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Order of the pairs by household, then score (highest first), then unit id: one int64
    key when it fits (ten times faster than lexsort on tens of millions of pairs)."""
    if not scores.size:
        return np.zeros(0, dtype=np.int64)
    high, low = int(scores.max()), int(scores.min())
    span, units = high - low + 1, int(id_ranks.max()) + 1
    if (int(households.max()) + 1) * span * units >= 2**62:
        return np.lexsort((id_ranks, -scores, households))
    key = households.astype(np.int64) * span + (high - scores)
    order: NDArray[np.int64] = np.argsort(key * units + id_ranks)
    return order


def explain_unmatched(
    instance: Instance,
    policy: Policy,
    table: UnitTable,
    candidates: CandidateSet,
    assignment: list[tuple[int, int]],
    pinned: dict[int, int],
) -> list[Unmatched]:
    """Reasons for every household the assignment leaves unmatched. `pinned` are the
    coordinator's pins that were applied (household -> unit), part of the assignment."""
    matched = {h for h, _ in assignment}
    taker_of_unit: dict[int, list[int]] = defaultdict(list)
    for h, u in assignment:
        taker_of_unit[u].append(h)
    # Grouped with numpy: the candidate arrays can hold tens of millions of pairs.
    is_matched = np.zeros(len(instance.households), dtype=np.bool_)
    is_matched[list(matched)] = True
    # Each household's best feasible units first (by its score, then id).
    left, feasible_counts = candidates.best_pairs_of(~is_matched, MAX_LISTED_UNITS)
    unit_ids = np.array([u.id for u in instance.units], dtype=object)
    id_rank = np.argsort(np.argsort(unit_ids.astype(str), kind="stable"))
    priority = priorities(instance, policy)
    order = _best_first(left.household, left.score, id_rank[left.unit])
    left_units = left.unit[order]
    starts = np.searchsorted(left.household[order], np.arange(len(instance.households) + 1))
    barred = barred_units_by_household(instance, policy)
    building_load: dict[str, int] = defaultdict(int)
    for _, u in assignment:
        if (building := instance.units[u].building_id) is not None:
            building_load[building] += 1

    @cache  # a unit's fate is the same for every household told of it
    def fate(u: int) -> tuple[str, dict[str, Any]]:
        """What kept a feasible unit from this household, as a phrase and as data: the
        households it went to (and whether a coordinator pinned them), its building's cap,
        or the income quota. In an optimal round nothing else can: a free place on a feasible
        unit would house one more household."""
        unit = instance.units[u]
        if taker_of_unit[u]:
            takers = [instance.households[t].id for t in taker_of_unit[u]]
            pins = [instance.households[t].id for t in taker_of_unit[u] if pinned.get(t) == u]
            named = ", ".join(t + (" pinned" if t in pins else "") for t in takers)
            return f"{unit.id} (to {named})", {
                "unit": unit.id,
                "kept_by": "pin" if len(pins) == len(takers) else "household",
                "households": takers,
                "pinned": pins,
            }
        if (
            policy.max_per_building is not None
            and unit.building_id is not None
            and building_load[unit.building_id] >= policy.max_per_building
        ):
            return (
                f"{unit.id} (its building {unit.building_id} reached "
                f"the cap of {policy.max_per_building})"
            ), {"unit": unit.id, "kept_by": "building_cap", "building": unit.building_id}
        if policy.income_quota is not None:
            return f"{unit.id} (left empty by the income quota)", {
                "unit": unit.id,
                "kept_by": "income_quota",
            }
        raise AssertionError(f"feasible unit {unit.id} left empty in an optimal round")

    passed_over, passed_over_counts = passed_over_units(
        candidates, assignment, ~is_matched, priority, id_rank
    )

    @cache  # a unit and its taker come up for every household passed over there
    def score_of(h: int, u: int) -> int:
        return score(instance.households[h], instance.units[u], policy)

    def why_passed_over(h: int, u: int, own_score: int) -> tuple[str, dict[str, Any]]:
        """Why unit u went to a household of lower priority than h (unmatched): swapping
        them would house as many households, so only a pin, the fit score (the taker
        scores u at least as high, its fit outweighing h's longer wait) or the income quota
        can explain it."""
        unit = instance.units[u]
        taker = min(
            (t for t in taker_of_unit[u] if priority[t] < priority[h]),
            key=lambda t: (priority[t], instance.households[t].id),
        )
        taker_id = instance.households[taker].id
        taker_score = score_of(taker, u)
        if pinned.get(taker) == u:
            why, phrase = "pin", "pinned there by the coordinator"
        elif taker_score >= own_score:
            why = "fit_score"
            phrase = f"scores it {taker_score} against {own_score}: a better fit"
        else:
            why, phrase = "income_quota", "the income quota needed it there"
        return f"{unit.id} to {taker_id} ({phrase})", {
            "unit": unit.id,
            "went_to": taker_id,
            "why": why,
            "its_score": own_score,
            "their_score": taker_score,
            "its_priority": int(priority[h]),
            "their_priority": int(priority[taker]),
        }

    explanations: list[Unmatched] = []
    for h, household in enumerate(instance.households):
        if h in matched:
            continue
        feasible = int(feasible_counts[h])
        if feasible:
            best_units = left_units[starts[h] : min(starts[h + 1], starts[h] + MAX_LISTED_UNITS)]
            fates = [fate(u) for u in best_units.tolist()]
            named = "; ".join(phrase for phrase, _ in fates[:MAX_NAMED_UNITS])
            more = f" and {feasible - MAX_NAMED_UNITS} more" if feasible > MAX_NAMED_UNITS else ""
            reasons = [f"its {feasible} feasible unit(s) went to others: {named}{more}"]
            passed = [why_passed_over(h, u, own) for u, own in passed_over.get(h, [])]
            n_passed = int(passed_over_counts[h])
            if passed:
                reasons.append(
                    f"{n_passed} of them went to households of lower priority: "
                    + "; ".join(phrase for phrase, _ in passed)
                )
            explanations.append(
                Unmatched(
                    household=household.id,
                    reasons=tuple(reasons),
                    detail={
                        "kind": "outcompeted",
                        "feasible_unit_count": feasible,
                        "feasible_units": unit_ids[best_units].tolist(),
                        "kept_from_it": [kept for _, kept in fates],
                        "passed_over_count": n_passed,
                        "passed_over": [item for _, item in passed],
                    },
                )
            )
            continue
        if not instance.units:
            explanations.append(
                Unmatched(household.id, ("no units in this round",), {"kind": "no_units"})
            )
            continue
        checks = checks_of_every_unit(household, table, policy, barred.get(h, set()))
        failing = {rule: ~mask for rule, mask in checks.passes.items()}
        counts = {rule: int(mask.sum()) for rule, mask in failing.items() if mask.any()}
        failure_count = np.sum(list(failing.values()), axis=0)
        only_failure = {rule: mask & (failure_count == 1) for rule, mask in failing.items()}
        relaxations = _relaxations(household, policy, only_failure, checks.needed)
        reasons = [f"no feasible unit among {len(instance.units)}"]
        if relaxations:
            best = relaxations[0]
            reasons.append(f"{best.units} unit(s) would fit if {best.phrase}")
        else:
            reasons.append("no single policy relaxation would give it a unit")
        reasons += [
            f"{count} unit(s) {RULES[rule].phrase}"
            for rule, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]
        explanations.append(
            Unmatched(
                household=household.id,
                reasons=tuple(reasons),
                detail={
                    "kind": "no_feasible_unit",
                    "units_ruled_out_by": {str(rule): count for rule, count in counts.items()},
                    "relaxations": [r.as_dict() for r in relaxations],
                },
            )
        )
    return explanations


def priorities(instance: Instance, policy: Policy) -> NDArray[np.int64]:
    """Each household's priority points (waiting and urgency): its claim to go first."""
    return np.array(
        [sum(priority_points(h, policy).values()) for h in instance.households], dtype=np.int64
    )


def lowest_taker_priorities(
    units: int, priority: NDArray[np.int64], assignment: list[tuple[int, int]]
) -> NDArray[np.int64]:
    """Per unit, the lowest priority among the households it went to (int64 max: none)."""
    lowest = np.full(units, np.iinfo(np.int64).max, dtype=np.int64)
    for h, u in assignment:
        lowest[u] = min(lowest[u], priority[h])
    return lowest


def justified_envy_pairs(
    instance: Instance,
    policy: Policy,
    candidates: CandidateSet,
    assignment: list[tuple[int, int]],
) -> int:
    """Feasible pairs (h, u) where u went to a household of lower priority than h while h
    stayed unmatched or got a unit it scores lower than u."""
    if not assignment or not len(candidates):
        return 0
    priority = priorities(instance, policy)
    own_unit = np.full(len(instance.households), -1, dtype=np.int64)
    for h, u in assignment:
        own_unit[h] = u
    lowest_taker_priority = lowest_taker_priorities(len(instance.units), priority, assignment)
    own_score = np.full(len(instance.households), np.iinfo(np.int64).min, dtype=np.int64)
    single, runs = candidates.single, candidates.runs
    is_own = own_unit[single.household] == single.unit
    own_score[single.household[is_own]] = single.score[is_own]
    matched = np.flatnonzero(own_unit >= 0)
    own_run = runs.holding(candidates.layout, matched, own_unit[matched])
    own_score[matched[own_run >= 0]] = runs.score[own_run[own_run >= 0]]

    def envied(pairs: Pairs) -> int:
        """A household's own pair scores no more than itself, so it is never counted."""
        return int(
            (
                (lowest_taker_priority[pairs.unit] < priority[pairs.household])
                & (own_score[pairs.household] < pairs.score)
            ).sum()
        )

    # A run's pairs share a score: only runs scoring above the household's own unit count.
    better = runs.taken(own_score[runs.household] < runs.score)
    envious_in_runs = envied_in_runs(better, candidates.layout, lowest_taker_priority, priority)
    return envied(single) + int(envious_in_runs.sum())


def envied_in_runs(
    runs: PairRuns,
    layout: ChainLayout,
    lowest_taker_priority: NDArray[np.int64],
    priority: NDArray[np.int64],
) -> NDArray[np.int64]:
    """For each run, how many of its pairs (h, u) have u taken by a household of lower
    priority than h. A run's units are a range of its chain's slots, so it is counted from
    prefix counts over the slots, one pass per priority level among the runs' households,
    never pair by pair (the runs of a national round stand for hundreds of millions of
    pairs). Levels are few: a priority is whole days of waiting up to a cap, plus the urgent
    bonus, so at most 2 x (cap + 1) of them (1,462 by default), and never more than the
    households' distinct registration dates, twice."""
    envious = np.zeros(len(runs), dtype=np.int64)
    if not len(runs):
        return envious
    slot_taker_priority = lowest_taker_priority[layout.chain_units]
    first_slot = layout.chain_starts[runs.chain] + runs.first
    end_slot = layout.chain_starts[runs.chain] + runs.last + 1
    run_priority = priority[runs.household]
    order = np.argsort(run_priority, kind="stable")
    levels, level_starts = np.unique(run_priority[order], return_index=True)
    level_bounds = np.r_[level_starts, order.size]
    for level, start, stop in zip(levels, level_bounds[:-1], level_bounds[1:], strict=True):
        taken_below = np.r_[0, np.cumsum(slot_taker_priority < level)]
        group = order[start:stop]
        envious[group] = taken_below[end_slot[group]] - taken_below[first_slot[group]]
    return envious


def passed_over_units(
    candidates: CandidateSet,
    assignment: list[tuple[int, int]],
    unmatched: NDArray[np.bool_],
    priority: NDArray[np.int64],
    id_rank: NDArray[np.int64],
) -> tuple[dict[int, list[tuple[int, int]]], NDArray[np.int64]]:
    """For each unmatched household, its feasible units that went to a household of lower
    priority (`priority` per household): the best MAX_NAMED_UNITS (unit, its score there),
    by its score then unit id (`id_rank` per unit), and how many there are in all."""
    lowest = lowest_taker_priorities(id_rank.size, priority, assignment)
    single, runs = candidates.single, candidates.runs
    single_counts = lowest[single.unit] < priority[single.household]
    of_unmatched = unmatched[runs.household]
    run_counts = np.zeros(len(runs), dtype=np.int64)
    run_counts[of_unmatched] = envied_in_runs(
        runs.taken(of_unmatched), candidates.layout, lowest, priority
    )
    pairs, counts = candidates.best_pairs_of(unmatched, MAX_NAMED_UNITS, single_counts, run_counts)
    pairs = pairs.taken(lowest[pairs.unit] < priority[pairs.household])
    order = _best_first(pairs.household, pairs.score, id_rank[pairs.unit])
    listed: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for h, u, pair_score in zip(
        pairs.household[order].tolist(),
        pairs.unit[order].tolist(),
        pairs.score[order].tolist(),
        strict=True,
    ):
        if len(listed[h]) < MAX_NAMED_UNITS:
            listed[h].append((u, pair_score))
    return listed, counts
