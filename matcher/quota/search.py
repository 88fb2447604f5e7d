"""The income quota's multiplier search: Lagrangian relaxation over the min-cost flow.

Moving the quota (problem.py) into the objective with a multiplier lambda >= 0 keeps the
problem a min-cost flow:
    g(lambda) = max_x  value(x) + lambda * sum(q x)
and every g(lambda) is an upper bound on the best value that meets the quota. The multiplier
is found by a one-dimensional cutting plane (each pair of solutions on either side of the
constraint gives the lambda where their lines cross), usually in a handful of solves. The
best quota-meeting flow found and the lowest bound are usually a hair apart; blend.py
combines the last two flows (either side of the quota) into a better quota-meeting one, then
close.py closes the gap exactly (reduced-cost fixing and HiGHS on the few pairs left). If the
time limit stops either phase, the remaining gap is reported, never hidden.

The search runs first among flows housing as many households as the round can (no big-M in
the solves, which makes them faster), and on the big-M model only when none of those meets
the quota. On large rounds it starts around the best multiplier of a random sample of the
pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import numpy as np
from numpy.typing import NDArray

from matcher.flow import FlowNetwork, IntArray, PairNetwork
from matcher.quota.blend import best_blend
from matcher.quota.close import Anchor, close_gap
from matcher.quota.problem import SCALE, QuotaProblem, ValuedFlow, quota_weights
from matcher.simplex import WarmSimplex
from matcher.types import DEFAULT_TUNING, IncomeQuota, Instance, Policy, Tuning

MAX_SOLVES = 40


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


def safe_multiplier(network: FlowNetwork, values: IntArray) -> int:
    """The largest multiplier whose costs, times the node count (OR-tools scales costs by
    it), stay inside 64 bits; costs span up to twice the largest profit (flow.py shifts
    them to best - profit)."""
    return (2**61 // (network.nodes + 1) - int(values.max(initial=0))) // SCALE


def multiplier_ceiling(most_value: int, least_hurt: int) -> int:
    """Past this multiplier every pair that hurts the quota (q <= -least_hurt) has a
    negative profit, so a flow of any size takes none of them: if the quota still fails
    there, no flow meets it."""
    return most_value // max(least_hurt, 1) + 1


def multipliers_fit(network: FlowNetwork, best_value: int, quota: IncomeQuota) -> bool:
    """Whether the search can reach, on this network, every multiplier it may need when the
    best pair is worth `best_value` (unscaled)."""
    values = np.array([SCALE * best_value], dtype=np.int64)
    least_hurt = round(quota.share * SCALE)  # -q of a pair that hurts the quota
    return multiplier_ceiling(SCALE * best_value, least_hurt) <= safe_multiplier(network, values)


class MultiplierSearch:
    """The multiplier search over one problem: every solve it makes, the best quota-meeting
    flow among them and the lowest bound (with the flow that gave it). Its solves are warm:
    each starts from the last one's basis (matcher/simplex.py).

    On a network of_size(n), where every flow houses n households, the big-M part of the
    values is the same for all flows, so the solves leave it out; on one
    using_first_places(c), so are the first places' covers: smaller costs, faster solves."""

    def __init__(self, problem: QuotaProblem, unconstrained: NDArray[np.bool_]) -> None:
        self.problem = problem
        network = problem.network
        self.unconstrained = unconstrained  # the optimum at multiplier 0, known already
        offset: int | IntArray = SCALE * problem.big_m if network.size is not None else 0
        if network.first_places_used is not None:
            assert problem.covers is not None
            offset = offset + problem.covers
        self.offset = offset
        self.solves = 0
        self.simplex: WarmSimplex | None = None  # built at the first solve, kept warm
        self.best: ValuedFlow | None = None
        self.anchor: RelaxedFlow | None = None  # the point of the lowest bound
        self.first_step = max(1, int(network.pair_score.max(initial=0)))
        hurting = problem.weights[problem.weights < 0]
        least_hurt = int(-hurting.max()) if hurting.size else 1
        self.ceiling = min(
            multiplier_ceiling(int(problem.values.max(initial=0)), least_hurt),
            safe_multiplier(network, problem.values),
        )

    def profits(self, multiplier: int) -> IntArray:
        """What the flow maximises at this multiplier (values plus the quota's term, less
        what all flows of the network share)."""
        return self.problem.values + (multiplier * self.problem.weights - self.offset)

    def at(self, multiplier: int) -> RelaxedFlow:
        if multiplier == 0:
            chosen = self.unconstrained
        else:
            if self.simplex is None:
                self.simplex = WarmSimplex(self.problem.network)
            chosen = self.simplex.max_profit(self.profits(multiplier))
            self.solves += 1
        point = RelaxedFlow(
            multiplier, chosen, self.problem.value(chosen), self.problem.slack(chosen)
        )
        if self.anchor is None or point.lagrangian < self.anchor.lagrangian:
            self.anchor = point
        if point.slack >= 0 and (self.best is None or point.value > self.best.value):
            self.best = ValuedFlow(point.chosen, point.value)
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
    problem: QuotaProblem, pairs_per_household: int, seed: int, deadline: float
) -> tuple[int | None, str]:
    """The best multiplier of a random sample of the pairs (None if the sample cannot meet
    the quota housing as many as it can), and a note saying so."""
    network = problem.network
    share = pairs_per_household * network.households / max(network.pairs, 1)
    rng = np.random.default_rng(seed)
    kept = np.flatnonzero(rng.random(network.pairs, dtype=np.float32) < share)
    sample = problem.restricted(kept)
    unconstrained = np.zeros(sample.network.pairs, dtype=np.bool_)
    unconstrained[sample.network.max_flow_min_cost()] = True
    most_housed = sample.network.of_size(int(unconstrained.sum()))
    search = MultiplierSearch(sample.on(most_housed), unconstrained)
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
    network: PairNetwork,
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
    and the search runs on the model of any size from the start."""
    started = perf_counter()
    deadline = started + policy.time_limit_s
    n_units = len(instance.units)
    pinned_h = np.fromiter(pinned.keys(), dtype=np.int64)
    pinned_u = np.fromiter(pinned.values(), dtype=np.int64)
    values = SCALE * (big_m + network.pair_score.astype(np.int64))
    covers = None
    if cover_weight:
        on_first_place = network.pair_unit < n_units
        covers = np.where(on_first_place, SCALE * cover_weight, 0).astype(np.int64)
        values += covers
    problem = QuotaProblem(
        network,
        values,
        # a place's unit: the pair units of a network of places apart are u and u + n_units
        quota_weights(instance, quota, network.pair_household, network.pair_unit % n_units),
        int(quota_weights(instance, quota, pinned_h, pinned_u).sum()),
        big_m,
        covers,
    )
    most_housed = network.of_size(int(unconstrained.sum()))
    if not cover_weight:
        searched = most_housed
    elif network.building_capacity.size:  # first places cannot be counted under caps
        searched = network
    else:
        covered = int((network.pair_unit < n_units)[unconstrained].sum())
        searched = most_housed.using_first_places(covered)
    search = MultiplierSearch(problem.on(searched), unconstrained)

    low = search.at(0)
    high = None
    timed_out = False
    estimate_note = ""
    earlier_solves = 0
    if low.slack < 0:
        guess = None
        if network.pairs > tuning.sampled_above_pairs and not cover_weight:
            guess, estimate_note = _estimate(
                problem, tuning.sample_pairs_per_household, policy.seed, deadline
            )
        low, high = search.bracket(low, guess, deadline)
        if high is None and searched.size is not None:
            earlier_solves = search.solves
            search = MultiplierSearch(problem, unconstrained)
            low, high = search.bracket(search.at(0), None, deadline)
        if high is not None:
            low, high, timed_out = search.cut(low, high, deadline)
    anchor, best = search.anchor, search.best
    assert anchor is not None
    if high is not None and low.slack < 0:
        blend = best_blend(problem, low.chosen, high.chosen, deadline - perf_counter(), policy.seed)
        if best is None or blend.value > best.value:
            best = blend

    def outcome(
        flow: ValuedFlow | None, bound: int, note: str = "", stopped: bool = False
    ) -> QuotaOutcome:
        return QuotaOutcome(
            None if flow is None else flow.chosen,
            0 if flow is None else flow.value,
            bound,
            earlier_solves + search.solves,
            timed_out or stopped,
            note,
            estimate_note,
        )

    bound = anchor.lagrangian
    if best is None:
        return outcome(None, bound)
    if best.value >= bound:
        return outcome(best, bound)
    left = deadline - perf_counter()
    if left <= 0:
        return outcome(best, bound, stopped=True)
    closure = close_gap(
        search.problem,
        Anchor(anchor.chosen, search.profits(anchor.multiplier), bound),
        best,
        search.simplex or WarmSimplex(search.problem.network),
        left,
        policy.seed,
    )
    return outcome(closure.best, closure.bound, closure.note, closure.timed_out)
