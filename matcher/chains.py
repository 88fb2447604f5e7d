"""Grouping the pairs of households that see units only through their class and cost.

A household with no workplace and no care site sees a unit through its class (rooms,
surface band, access, lease kind, priority neighbourhood) and its cost: it can afford a
class's units up to some cost, and its score falls in steps as the cost rises (the
affordability points count whole tenths). Instead of one arc per pair, such a household
enters a chain of the class's units sorted by cost, once per score step, at the dearest unit
of that step; the chain runs down to the cheaper units:

    household -> chain[c, p] -> chain[c, p-1] -> ... -> chain[c, 0]
                      |               |                     |
                     unit            unit                  unit

Every path through the chain ends on a unit the household can afford, scoring at least what
the entry arc says, and every pair is reachable at its own score, so the best flow of the
chained network is worth exactly the best flow of the pairs, and any way of splitting its
chain flow back into pairs is a best assignment (see `UnitChains.pairs_of_flow`).

Exactness is checked, not assumed: a (household, class) group is chained only if its pairs are
exactly the class's cheapest units (no hole left by an excluded commune, a refused pair or a
pin) and its scores never rise with the cost (no preferred commune among the dearer units);
any other group keeps one arc per pair. Measured at 10,000 x 10,000 in one departement: 14
million pairs of households without a workplace become 1.2 million entry arcs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.rules import EPSILON, SINGLE_STUDIO_MIN_M2, required_surface_m2
from matcher.types import Household, Unit

Int32Array = NDArray[np.int32]
IntArray = NDArray[np.int64]

# Every surface the rules compare with: units between two of them are alike to every household.
SURFACE_THRESHOLDS = np.array(
    sorted({required_surface_m2(size) for size in range(1, 12)} | {SINGLE_STUDIO_MIN_M2})
)


def unit_classes(units: Sequence[Unit], usable: NDArray[np.bool_]) -> IntArray:
    """A class id per unit: units alike to every household but for their cost and place
    (-1: not usable, in no chain)."""
    keys: dict[tuple[Any, ...], int] = {}
    classes = np.full(len(units), -1, dtype=np.int64)
    bands = np.searchsorted(
        SURFACE_THRESHOLDS, np.array([u.surface_m2 for u in units]) + EPSILON, side="right"
    )
    for u, unit in enumerate(units):
        if usable[u]:
            key = (
                unit.rooms,
                int(bands[u]),
                unit.wheelchair_accessible,
                unit.floor <= 0 or unit.elevator,
                unit.lease_kind,
                unit.in_priority_neighbourhood,
            )
            classes[u] = keys.setdefault(key, len(keys))
    return classes


@dataclass(frozen=True, slots=True)
class UnitChains:
    """Which pairs keep their own arc, and the entry arcs standing for the others.

    A run is a maximal set of pairs of one (household, class) group with the same score: the
    household enters the chain once per run, at the run's dearest unit.
    """

    explicit: Int32Array  # pair positions that keep one arc each
    chained: Int32Array  # the other pair positions, by household, class, then cost
    run_starts: IntArray  # where each run starts in `chained`
    run_pair: Int32Array  # the run's dearest pair (its entry), a pair position
    run_group_start: IntArray  # where the run's group starts in `chained`
    run_entry_unit: IntArray  # the unit of run_pair
    below: IntArray  # per unit, the next cheaper unit of its class (-1: the cheapest, or none)
    entered_from: IntArray  # per unit, how many runs enter its class's chain at it or above
    tops: IntArray  # the dearest unit of each class
    position: IntArray  # per unit, its rank by cost in its class (-1: in no chain)

    @property
    def runs(self) -> int:
        return int(self.run_pair.size)

    @classmethod
    def build(
        cls,
        households: Sequence[Household],
        units: Sequence[Unit],
        usable: NDArray[np.bool_],
        pair_household: Int32Array,
        pair_unit: Int32Array,
        pair_score: Int32Array,
    ) -> UnitChains:
        classes = unit_classes(units, usable)
        cost = np.array([u.monthly_cost_eur for u in units], dtype=np.float64)
        by_cost = np.lexsort((np.arange(len(units)), cost, classes))
        by_cost = by_cost[classes[by_cost] >= 0]
        position = np.full(len(units), -1, dtype=np.int64)
        below = np.full(len(units), -1, dtype=np.int64)
        class_starts = np.flatnonzero(_starts(classes[by_cost]))
        rank = np.arange(by_cost.size) - np.repeat(
            class_starts, np.diff(np.r_[class_starts, by_cost.size])
        )
        position[by_cost] = rank
        has_below = rank > 0
        below[by_cost[has_below]] = by_cost[np.flatnonzero(has_below) - 1]

        # Households whose place matters never pass the checks below: skip them early.
        placeless = np.array(
            [not h.workplaces and h.needs.care_site is None for h in households], dtype=np.bool_
        )
        tried = np.flatnonzero(placeless[pair_household] & (classes[pair_unit] >= 0))
        group_key = pair_household[tried].astype(np.int64) * (int(classes.max(initial=0)) + 1)
        group_key += classes[pair_unit[tried]]
        longest = int(position.max(initial=0)) + 1
        # One int64 key, unique per pair: ten times faster to sort than lexsort's two keys.
        order = np.argsort(group_key * longest + position[pair_unit[tried]])
        tried, group_key = tried[order], group_key[order]
        del order
        pos = position[pair_unit[tried]]
        score = pair_score[tried]

        group_first = _starts(group_key)
        group_starts = np.flatnonzero(group_first)
        group_sizes = np.diff(np.r_[group_starts, tried.size])
        # The group's units are exactly the class's cheapest (positions 0..size-1) ...
        whole_prefix = pos[group_starts + group_sizes - 1] == group_sizes - 1
        # ... and its scores never rise with the cost.
        rises = np.zeros(tried.size, dtype=np.int64)
        rises[1:] = (score[1:] > score[:-1]) & ~group_first[1:]
        rising = np.add.reduceat(rises, group_starts) > 0 if tried.size else whole_prefix
        ok = np.repeat(whole_prefix & ~rising, group_sizes)

        chained = tried[ok].astype(np.int32)
        kept_first = group_first[ok]
        score = score[ok]
        run_first = kept_first | _starts(score)
        run_starts = np.flatnonzero(run_first)
        run_last = np.r_[run_starts[1:], chained.size][: run_starts.size] - 1
        group_start_of = np.maximum.accumulate(np.where(kept_first, np.arange(chained.size), 0))

        run_entry_unit = pair_unit[chained[run_last]].astype(np.int64)
        entries = np.bincount(run_entry_unit, minlength=len(units))[by_cost]
        from_top = np.r_[np.cumsum(entries[::-1])[::-1], 0]
        class_ends = np.r_[class_starts[1:], by_cost.size][: class_starts.size]
        entered_from = np.zeros(len(units), dtype=np.int64)
        entered_from[by_cost] = from_top[:-1] - np.repeat(
            from_top[class_ends], class_ends - class_starts
        )

        explicit_mask = np.ones(pair_household.size, dtype=np.bool_)
        explicit_mask[chained] = False
        return cls(
            explicit=np.flatnonzero(explicit_mask).astype(np.int32),
            chained=chained,
            run_starts=run_starts,
            run_pair=chained[run_last],
            run_group_start=group_start_of[run_starts],
            run_entry_unit=run_entry_unit,
            below=below,
            entered_from=entered_from,
            tops=by_cost[class_ends - 1],
            position=position,
        )

    def run_profits(self, pair_profits: NDArray[np.integer[Any]]) -> IntArray | None:
        """Each run's profit, or None when the profits are not alike within every run or
        rise with the cost within a group: then only one arc per pair is exact."""
        profits = np.asarray(pair_profits, dtype=np.int64)
        run_profit = profits[self.run_pair]
        sizes = np.diff(np.r_[self.run_starts, self.chained.size])
        if not np.array_equal(profits[self.chained], np.repeat(run_profit, sizes)):
            return None
        same_group = self.run_group_start[1:] == self.run_group_start[:-1]
        if (same_group & (run_profit[1:] > run_profit[:-1])).any():
            return None
        return run_profit

    def pairs_of_flow(self, entered: NDArray[np.bool_], unit_inflow: IntArray) -> Int32Array:
        """Pair positions for a chain flow: `entered` marks the runs whose entry arc carries a
        household, `unit_inflow` is what each unit receives from its chain.

        Each class's chain is walked from its dearest unit down; a household entering at a
        unit joins the pool, and each unit takes households from the pool. Any household of
        the pool can afford the unit and scores it at least its entry's profit, so the pairs
        are worth at least the flow, hence exactly as much when the flow is the best."""
        runs = np.flatnonzero(entered)
        entries_at: dict[int, list[int]] = {}
        for run, unit in zip(runs.tolist(), self.run_entry_unit[runs].tolist(), strict=True):
            entries_at.setdefault(unit, []).append(run)
        chosen: list[int] = []
        for top in self.tops.tolist():
            pool: list[int] = []
            unit = top
            while unit >= 0:
                pool.extend(entries_at.get(unit, ()))
                for _ in range(int(unit_inflow[unit])):
                    if not pool:
                        raise ValueError("a chain's flow reaches a unit no household entered")
                    run = pool.pop()
                    chosen.append(
                        int(self.chained[self.run_group_start[run] + self.position[unit]])
                    )
                unit = int(self.below[unit])
        return np.array(chosen, dtype=np.int32)


def _starts(keys: NDArray[Any]) -> NDArray[np.bool_]:
    """Where a new value begins in a sorted (or grouped) array."""
    first = np.ones(keys.size, dtype=np.bool_)
    first[1:] = keys[1:] != keys[:-1]
    return first
