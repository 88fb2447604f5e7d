"""The income quota, by Lagrangian relaxation over the min-cost flow.

The quota: of the matches on units outside priority neighbourhoods, at least a share s goes to
low-income households (annual resources per OECD consumption unit below a threshold). With
q = 1 - s for a low-income household on such a unit, q = -s for any other household on it and
q = 0 on a priority-neighbourhood unit, the quota reads sum(q x) >= 0: one side constraint on
an otherwise pure flow problem.

Moving it into the objective with a multiplier lambda >= 0 keeps the problem a min-cost flow:
    g(lambda) = max_x  value(x) + lambda * sum(q x)
and every g(lambda) is an upper bound on the best value that meets the quota. The multiplier
is found by a one-dimensional cutting plane (each pair of solutions on either side of the
constraint gives the lambda where their lines cross), usually in a handful of solves. The
best quota-meeting flow found and the lowest bound are usually a hair apart; matcher/gap.py
blends the last two flows (either side of the quota) into a better quota-meeting one, then
closes the gap exactly (reduced-cost fixing and CP-SAT on the few pairs left). If the
time limit stops either phase, the remaining gap is reported, never hidden.

Values are scaled by 1000 so that the share has a resolution of 0.1% and all costs stay
integers. `value(x)` is big_m * matched + score, so housing one more household always beats any
score difference, as in the quota-free round.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.flow import FlowNetwork
from matcher.gap import Anchor, best_blend, close_gap
from matcher.income import is_low_income, quota_shortfall
from matcher.types import IncomeQuota, Instance, Policy

SCALE = 1000
MAX_SOLVES = 40


def quota_weights(
    instance: Instance,
    quota: IncomeQuota,
    households: NDArray[np.integer[Any]],
    units: NDArray[np.integer[Any]],
) -> NDArray[np.int64]:
    """q of each (household, unit) pair, scaled by SCALE."""
    share = round(quota.share * SCALE)
    low = np.array([is_low_income(h, quota) for h in instance.households], dtype=np.bool_)
    outside = np.array([not u.in_priority_neighbourhood for u in instance.units], dtype=np.bool_)
    weights = np.where(low[households], SCALE - share, -share)
    return np.where(outside[units], weights, 0).astype(np.int64)


def quota_met(instance: Instance, quota: IncomeQuota, assignment: list[tuple[int, int]]) -> bool:
    """Checked directly on the matches, not through the scaled weights."""
    matches = [(instance.households[h], instance.units[u]) for h, u in assignment]
    return quota_shortfall(quota, matches) <= 1e-9


@dataclass(frozen=True, slots=True)
class QuotaOutcome:
    chosen: NDArray[np.bool_] | None  # None: no flow meets the quota (the pins break it)
    value: int  # scaled value of the chosen flow (SCALE * (big_m * matched + score))
    bound: int  # scaled upper bound on any quota-meeting flow
    solves: int
    timed_out: bool
    closing_note: str  # how the last gap was closed, or why it was not


def solve_with_quota(
    network: FlowNetwork,
    instance: Instance,
    policy: Policy,
    quota: IncomeQuota,
    pinned: dict[int, int],
    big_m: int,
    unconstrained: NDArray[np.bool_],
) -> QuotaOutcome:
    """`unconstrained` is the round's optimum without the quota: the solve at multiplier 0
    (same optimum with big_m), which need not be done again."""
    started = perf_counter()
    q = quota_weights(instance, quota, network.pair_household, network.pair_unit)
    pinned_h = np.fromiter(pinned.keys(), dtype=np.int64)
    pinned_u = np.fromiter(pinned.values(), dtype=np.int64)
    q_pinned = int(quota_weights(instance, quota, pinned_h, pinned_u).sum())
    base = SCALE * (big_m + network.pair_score.astype(np.int64))

    def evaluate(multiplier: int) -> tuple[NDArray[np.bool_], int, int, int]:
        chosen = unconstrained if multiplier == 0 else network.max_profit(base + multiplier * q)
        value = int(base[chosen].sum())
        slack = q_pinned + int(q[chosen].sum())
        return chosen, value, slack, value + multiplier * slack

    solves = 0
    best: tuple[NDArray[np.bool_], int] | None = None
    bound: int | None = None
    anchor: tuple[int, NDArray[np.bool_]] | None = None  # multiplier of the bound, its flow

    def record(multiplier: int) -> tuple[int, NDArray[np.bool_], int, int]:
        nonlocal solves, best, bound, anchor
        chosen, value, slack, lagrangian = evaluate(multiplier)
        solves += multiplier > 0
        if bound is None or lagrangian < bound:
            bound, anchor = lagrangian, (multiplier, chosen)
        if slack >= 0 and (best is None or value > best[1]):
            best = (chosen, value)
        return multiplier, chosen, value, slack

    low = record(0)
    high = None
    timed_out = False
    if low[3] < 0:
        # Raise the multiplier until the quota holds. Past `ceiling` every pair that hurts the
        # quota costs more than it can bring, so if the quota still fails there, the pins
        # break it. `safe` keeps every cost, times the node count (OR-tools scales costs by
        # it), inside 64 bits.
        best_score = int(network.pair_score.max(initial=0))
        ceiling = SCALE * (big_m + best_score) + 1
        nodes = int(max(network.heads.max(initial=0), network.tails.max(initial=0))) + 2
        safe = (2**62 // nodes - int(base.max(initial=0))) // SCALE
        ceiling = min(ceiling, safe)
        multiplier = max(1, best_score)
        while True:
            point = record(min(multiplier, ceiling))
            if point[3] >= 0:
                high = point
                break
            low = point
            if multiplier >= ceiling:
                break
            multiplier *= 4
        while high is not None and solves < MAX_SOLVES:
            if perf_counter() - started > policy.time_limit_s:
                timed_out = True
                break
            # The lambda where the lines of the two solutions cross.
            _, _, low_value, low_slack = low
            _, _, high_value, high_slack = high
            crossing = (low_value - high_value) // (high_slack - low_slack)
            if not low[0] < crossing < high[0]:
                break
            point = record(crossing)
            line = low_value + crossing * low_slack
            if point[2] + crossing * point[3] <= line:
                break  # no better solution at the crossing: the multiplier is optimal
            if point[3] >= 0:
                high = point
            else:
                low = point
    assert bound is not None
    assert anchor is not None
    if high is not None and low[3] < 0:
        blend = best_blend(
            network,
            low[1],
            high[1],
            base,
            q,
            q_pinned,
            policy.time_limit_s - (perf_counter() - started),
            policy.seed,
        )
        if best is None or blend[1] > best[1]:
            best = blend
    if best is None:
        return QuotaOutcome(None, 0, bound, solves, timed_out, "")
    if best[1] >= bound:
        return QuotaOutcome(best[0], best[1], bound, solves, timed_out, "")
    left = policy.time_limit_s - (perf_counter() - started)
    if left <= 0:
        return QuotaOutcome(best[0], best[1], bound, solves, True, "")
    multiplier, anchor_chosen = anchor
    closure = close_gap(
        network,
        Anchor(anchor_chosen, base + multiplier * q, bound),
        best,
        base,
        q,
        q_pinned,
        SCALE,
        big_m,
        left,
        policy.seed,
    )
    return QuotaOutcome(
        closure.chosen,
        closure.value,
        closure.bound,
        solves,
        timed_out or closure.timed_out,
        closure.note,
    )
