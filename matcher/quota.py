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
closes the gap exactly (reduced-cost fixing and HiGHS on the few pairs left). If the
time limit stops either phase, the remaining gap is reported, never hidden.

Values are scaled by 1000 so that the share has a resolution of 0.1% and all costs stay
integers. `value(x)` is big_m * matched + score, so housing one more household always beats any
score difference, as in the quota-free round. The search runs first among flows housing as
many households as the round can (no big-M in the solves, which makes them faster), and on
the big-M model only when none of those meets the quota. On large rounds it starts around
the best multiplier of a random sample of the pairs.
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
from matcher.types import DEFAULT_TUNING, IncomeQuota, Instance, Policy, Tuning

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
    estimate_note: str = ""  # where the search started, when a sample gave it


@dataclass(frozen=True, slots=True)
class RelaxedFlow:
    """The flow optimal for the relaxation at one multiplier."""

    multiplier: int
    chosen: NDArray[np.bool_]
    value: int  # scaled value, without the multiplier's term
    slack: int  # sum(q x) + the pinned pairs' q: the quota holds when >= 0

    @property
    def lagrangian(self) -> int:
        return self.value + self.multiplier * self.slack


def safe_multiplier(network: FlowNetwork, base: NDArray[np.int64]) -> int:
    """The largest multiplier whose costs, times the node count (OR-tools scales costs by
    it), stay inside 64 bits; costs span up to twice the largest profit (flow.py shifts
    them to best - profit)."""
    return (2**61 // (network.nodes + 1) - int(base.max(initial=0))) // SCALE


def multiplier_ceiling(base_max: int, least_hurt: int) -> int:
    """Past this multiplier every pair that hurts the quota (q <= -least_hurt) has a
    negative profit, so a flow of any size takes none of them: if the quota still fails
    there, no flow meets it."""
    return base_max // max(least_hurt, 1) + 1


def multipliers_fit(network: FlowNetwork, best_value: int, quota: IncomeQuota) -> bool:
    """Whether the search can reach, on this network, every multiplier it may need when the
    best pair is worth `best_value` (unscaled)."""
    base = np.array([SCALE * best_value], dtype=np.int64)
    least_hurt = round(quota.share * SCALE)  # -q of a pair that hurts the quota
    return multiplier_ceiling(SCALE * best_value, least_hurt) <= safe_multiplier(network, base)


class MultiplierSearch:
    """The multiplier search over one network: every solve it makes, the best quota-meeting
    flow among them and the lowest bound (with the flow that gave it).

    `base` is each pair's value, SCALE * (big_m + score) (plus `cover_values` on first
    places, with k > 1). On a network of_size(n), where every flow houses n households, the
    big-M part is the same for all flows, so the solves leave it out (`cardinality_value` =
    SCALE * big_m); on one using_first_places(c), so is the first places' bonus: smaller
    costs, faster solves."""

    def __init__(
        self,
        network: FlowNetwork,
        base: NDArray[np.int64],
        q: NDArray[np.int64],
        q_pinned: int,
        unconstrained: NDArray[np.bool_],
        cardinality_value: int,
        cover_values: NDArray[np.int64] | None = None,
    ) -> None:
        self.network, self.base, self.q, self.q_pinned = network, base, q, q_pinned
        self.unconstrained = unconstrained
        offset: int | NDArray[np.int64] = cardinality_value if network.size is not None else 0
        if network.first_places_used is not None:
            assert cover_values is not None
            offset = offset + cover_values
        self.offset = offset
        self.solves = 0
        self.best: tuple[NDArray[np.bool_], int] | None = None
        self.anchor: RelaxedFlow | None = None  # the point of the lowest bound
        best_score = int(network.pair_score.max(initial=0))
        self.first_step = max(1, best_score)
        hurting = q[q < 0]
        least_hurt = int(-hurting.max()) if hurting.size else 1
        self.ceiling = min(
            multiplier_ceiling(int(base.max(initial=0)), least_hurt),
            safe_multiplier(network, base),
        )

    def profits(self, multiplier: int) -> NDArray[np.int64]:
        """What the flow maximises at this multiplier (values plus the quota's term, less
        the big-M part on a network of fixed size)."""
        return self.base + (multiplier * self.q - self.offset)

    def at(self, multiplier: int) -> RelaxedFlow:
        if multiplier == 0:
            chosen = self.unconstrained
        else:
            chosen = self.network.max_profit(self.profits(multiplier))
            self.solves += 1
        point = RelaxedFlow(
            multiplier,
            chosen,
            int(self.base[chosen].sum()),
            self.q_pinned + int(self.q[chosen].sum()),
        )
        if self.anchor is None or point.lagrangian < self.anchor.lagrangian:
            self.anchor = point
        if point.slack >= 0 and (self.best is None or point.value > self.best[1]):
            self.best = (point.chosen, point.value)
        return point

    def bracket(
        self, low: RelaxedFlow, guess: int | None, deadline: float
    ) -> tuple[RelaxedFlow, RelaxedFlow | None]:
        """Multipliers either side of the best one: `low` breaks the quota, the other meets
        it (None: no multiplier up to the ceiling does, no flow of this network meets the
        quota). Without a guess the steps grow from the largest score; with one, from a
        small step around it. Past the deadline it only goes on until some flow meets the
        quota: a round needs one."""
        if guess is None:
            offsets, centre = [self.first_step * 4**i for i in range(64)], 0
        else:
            step = max(1, guess // 64)
            offsets, centre = [step * 4**i for i in range(64)], min(guess, self.ceiling)
            below = self.at(max(low.multiplier + 1, centre - offsets[0]))
            if below.slack < 0:
                low = below
            else:  # meets the quota already: look further down for a point that breaks it
                high = below
                for offset in offsets[1:]:
                    multiplier = centre - offset
                    if multiplier <= low.multiplier or perf_counter() > deadline:
                        break
                    point = self.at(multiplier)
                    if point.slack < 0:
                        return point, high
                    high = point
                return low, high
        for offset in offsets:
            point = self.at(min(centre + offset, self.ceiling))
            if point.slack >= 0:
                return low, point
            low = point
            if point.multiplier >= self.ceiling:
                break
        return low, None

    def cut(
        self, low: RelaxedFlow, high: RelaxedFlow, deadline: float
    ) -> tuple[RelaxedFlow, RelaxedFlow, bool]:
        """The cutting plane between a bracket: the multiplier where the lines of its two
        solutions cross, until no solution there beats them. Returns the last bracket and
        whether the deadline stopped it."""
        while self.solves < MAX_SOLVES:
            if perf_counter() > deadline:
                return low, high, True
            crossing = (low.value - high.value) // (high.slack - low.slack)
            if not low.multiplier < crossing < high.multiplier:
                break
            point = self.at(crossing)
            if point.lagrangian <= low.value + crossing * low.slack:
                break  # no better solution at the crossing: the multiplier is optimal
            if point.slack >= 0:
                high = point
            else:
                low = point
        return low, high, False


# Each step of the search solves the whole round again (about 26 s at 10,000 x 10,000, where
# the search took 12 steps). The best multiplier of a random sample of the pairs, a few dozen
# per household, is within a few percent of the round's own (measured: 877 against 881 at
# 5,000 x 5,000, 1,190 against 1,143 at 10,000 x 10,000), for about a second a step. So large
# rounds first search on a sample, then start their own search bracketed around its result:
# 10 steps became 5 at 5,000 x 5,000, and 12 became 8 at 10,000 x 10,000. A sample of 100
# pairs per household estimates closer (1,133) but costs more than the step it saves.
# (Tuning.sampled_above_pairs says how large is large, and the sample's size.)


def _estimate(
    network: FlowNetwork,
    base: NDArray[np.int64],
    q: NDArray[np.int64],
    q_pinned: int,
    cardinality_value: int,
    pairs_per_household: int,
    seed: int,
    deadline: float,
) -> tuple[int | None, str]:
    """The best multiplier of a random sample of the pairs (None if the sample cannot meet
    the quota housing as many as it can), and a note saying so."""
    share = pairs_per_household * network.households / max(network.pairs, 1)
    rng = np.random.default_rng(seed)
    kept = np.flatnonzero(rng.random(network.pairs, dtype=np.float32) < share)
    sample = network.restricted(kept)
    unconstrained = np.zeros(sample.pairs, dtype=np.bool_)
    unconstrained[sample.max_flow_min_cost()] = True
    search = MultiplierSearch(
        sample.of_size(int(unconstrained.sum())),
        base[kept],
        q[kept],
        q_pinned,
        unconstrained,
        cardinality_value,
    )
    low = search.at(0)
    if low.slack >= 0:
        return None, ""
    low, high = search.bracket(low, None, deadline)
    if high is None:
        return None, ""
    search.cut(low, high, deadline)
    assert search.anchor is not None
    return search.anchor.multiplier, (
        f"multiplier estimated on a sample of {kept.size:,} pairs ({search.solves + 1} solves)"
    )


def solve_with_quota(
    network: FlowNetwork,
    instance: Instance,
    policy: Policy,
    quota: IncomeQuota,
    pinned: dict[int, int],
    big_m: int,
    unconstrained: NDArray[np.bool_],
    cover_weight: int = 0,
    tuning: Tuning = DEFAULT_TUNING,
) -> QuotaOutcome:
    """`unconstrained` is the round's optimum without the quota: the solve at multiplier 0
    (same optimum with big_m), which need not be done again.

    The search first looks among flows that house as many households as the round can
    (`unconstrained` houses that many): if one meets the quota, the best of them is the
    round's optimum, since housing more comes first. Only if none does must the round house
    fewer, and the search runs again on the model where big_m weighs each household housed
    against the quota.

    With a `cover_weight` (k > 1 candidates per unit), the network holds each unit's places
    apart (FlowNetwork.first_places_apart) and a pair on a first place is worth that much
    more: giving a unit a candidate outweighs any number of households housed. The search
    then first looks among flows that give as many units a candidate and house as many
    households as `unconstrained` (the first places counted by a node of their own, so
    neither weight enters the solves), which is the optimum if one meets the quota; else on
    the model of any size. Under building caps the first places cannot be counted that way,
    and the search runs on the model of any size from the start (measured at 1,000 x 1,000
    with k = 3: 4.6 s that way against 2.4 s counted)."""
    started = perf_counter()
    deadline = started + policy.time_limit_s
    n_units = len(instance.units)
    # a place's unit: the pair units of a network of places apart are u and u + n_units
    q = quota_weights(instance, quota, network.pair_household, network.pair_unit % n_units)
    pinned_h = np.fromiter(pinned.keys(), dtype=np.int64)
    pinned_u = np.fromiter(pinned.values(), dtype=np.int64)
    q_pinned = int(quota_weights(instance, quota, pinned_h, pinned_u).sum())
    base = SCALE * (big_m + network.pair_score.astype(np.int64))
    cardinality_value = SCALE * big_m
    most_housed = network.of_size(int(unconstrained.sum()))
    cover_values = None
    if cover_weight:
        on_first_place = network.pair_unit < n_units
        cover_values = np.where(on_first_place, SCALE * cover_weight, 0).astype(np.int64)
        base += cover_values
        covered = int(on_first_place[unconstrained].sum())
        counted = not network.building_capacity.size
        searched = most_housed.using_first_places(covered) if counted else network
    else:
        searched = most_housed
    search = MultiplierSearch(
        searched, base, q, q_pinned, unconstrained, cardinality_value, cover_values
    )

    low = search.at(0)
    high = None
    timed_out = False
    estimate_note = ""
    earlier_solves = 0
    if low.slack < 0:
        guess = None
        if network.pairs > tuning.sampled_above_pairs and not cover_weight:
            guess, estimate_note = _estimate(
                network,
                base,
                q,
                q_pinned,
                cardinality_value,
                tuning.sample_pairs_per_household,
                policy.seed,
                deadline,
            )
        low, high = search.bracket(low, guess, deadline)
        if high is None and search.network.size is not None:
            earlier_solves = search.solves
            search = MultiplierSearch(
                network, base, q, q_pinned, unconstrained, cardinality_value, cover_values
            )
            low, high = search.bracket(search.at(0), None, deadline)
        if high is not None:
            low, high, timed_out = search.cut(low, high, deadline)
    anchor, best = search.anchor, search.best
    assert anchor is not None
    if high is not None and low.slack < 0:
        blend = best_blend(
            network,
            low.chosen,
            high.chosen,
            base,
            q,
            q_pinned,
            deadline - perf_counter(),
            policy.seed,
        )
        if best is None or blend[1] > best[1]:
            best = blend

    def outcome(
        chosen: NDArray[np.bool_] | None,
        value: int,
        bound: int,
        note: str = "",
        stopped: bool = False,
    ) -> QuotaOutcome:
        solves = earlier_solves + search.solves
        return QuotaOutcome(chosen, value, bound, solves, timed_out or stopped, note, estimate_note)

    bound = anchor.lagrangian
    if best is None:
        return outcome(None, 0, bound)
    if best[1] >= bound:
        return outcome(best[0], best[1], bound)
    left = deadline - perf_counter()
    if left <= 0:
        return outcome(best[0], best[1], bound, stopped=True)
    closure = close_gap(
        search.network,
        Anchor(anchor.chosen, search.profits(anchor.multiplier), bound),
        best,
        base,
        q,
        q_pinned,
        SCALE,
        None if cover_weight else big_m,
        left,
        policy.seed,
    )
    return outcome(closure.chosen, closure.value, closure.bound, closure.note, closure.timed_out)
