"""Chains: the pairs of households that see units only through their cost, held as runs
instead of one by one.

A household with no workplace and no care site sees a unit through its class (rooms,
surface band, access, lease kind, priority neighbourhood) and its cost. Among the classes it
accepts, those where it scores a unit alike (the same room fit; and, in a quota round, the
same side of the priority-neighbourhood line) form its *requirement profile*: it can afford
the profile's units up to some cost, and its score falls in steps as the cost rises (the
affordability points count whole tenths). So its pairs with a profile are the profile's
cheapest units, in a few runs of equal score. Candidate generation emits those runs
(household, chain, first and last position by cost, score) instead of the pairs, and the flow
lets the household enter a chain of the profile's units sorted by cost, once per run, at the
run's dearest unit; the chain runs down to the cheaper units:

    household -> chain[c, p] -> chain[c, p-1] -> ... -> chain[c, 0]
                      |               |                     |
                     unit            unit                  unit

Households share profiles (measured at 50,000 x 50,000 over 8 regions: 72 profiles over 207
classes), so a unit sits in a few chains, one node in each, all feeding the unit. A chain is
cut into blocks of Tuning.chain_block units, those into blocks of as many blocks, and so on (see
`UnitChains`): the household enters at its unit, which leads down its own block, and at each
level at the block just below its own. So no path walks more than about Tuning.chain_block nodes a
level, which OR-tools' cost scaling takes much less time over than a long chain.

Every path through the chain ends on a unit the household can afford, scoring at least what
the entry arc says, and every pair is reachable at its own score, so the best flow of the
chained network is worth exactly the best flow of the pairs, and any way of splitting its
chain flow back into pairs is a best assignment (see `UnitChains.pairs_of_flow`).

Exactness is checked, not assumed: a household's pairs with a profile become runs only if
they are exactly the profile's cheapest units (no hole left by an excluded commune, a refused
pair or a pin) and its scores never rise with the cost (no preferred commune among the dearer
units). Where that fails, the same check is made class by class (each class is also a chain),
and any pairs still left keep one arc each.

Pair positions: a round's pairs are numbered with the pairs held one by one first, then the
runs' pairs, run by run, cheapest unit first.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.rules import EPSILON, SINGLE_STUDIO_MIN_M2, required_surface_m2
from matcher.types import Unit

Int32Array = NDArray[np.int32]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]

# Every surface the rules compare with: units between two of them are alike to every household.
SURFACE_THRESHOLDS = np.array(
    sorted({required_surface_m2(size) for size in range(1, 12)} | {SINGLE_STUDIO_MIN_M2})
)


def unit_classes(units: Sequence[Unit], usable: BoolArray) -> IntArray:
    """A class id per unit: units alike to every household but for their cost and place
    (-1: not usable, in no chain). Ids follow the order of the classes' keys, rooms first,
    so units sorted by class are sorted by rooms too."""
    bands = np.searchsorted(
        SURFACE_THRESHOLDS, np.array([u.surface_m2 for u in units]) + EPSILON, side="right"
    )
    keys = [
        (
            unit.rooms,
            int(bands[u]),
            unit.wheelchair_accessible,
            unit.floor <= 0 or unit.elevator,
            unit.lease_kind,
            unit.in_priority_neighbourhood,
        )
        for u, unit in enumerate(units)
    ]
    ids = {key: i for i, key in enumerate(sorted({keys[u] for u in np.flatnonzero(usable)}))}
    return np.array([ids[key] if usable[u] else -1 for u, key in enumerate(keys)], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class ChainLayout:
    """Chains of units, each sorted by cost (cheapest first); a unit may sit in several.
    A slot is one unit's place in one chain: slots are numbered chain by chain."""

    chain_units: IntArray  # per slot, its unit
    chain_starts: IntArray  # where each chain starts among the slots, and the end
    slot_keys: IntArray  # chain * units + unit of every slot, sorted (to find a unit's slot)
    slot_of_key: IntArray  # the slot of each of slot_keys
    units: int  # units of the round

    @classmethod
    def of_chains(cls, chains: Sequence[IntArray], units: int) -> ChainLayout:
        """A layout of these chains (unit indices, each sorted by cost)."""
        sizes = np.array([c.size for c in chains], dtype=np.int64)
        chain_units = (
            np.concatenate(chains).astype(np.int64) if chains else np.zeros(0, dtype=np.int64)
        )
        chain_starts: IntArray = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        keys = np.repeat(np.arange(sizes.size, dtype=np.int64), sizes) * units + chain_units
        order = np.argsort(keys, kind="stable")
        return cls(chain_units, chain_starts, keys[order], order.astype(np.int64), units)

    @property
    def slots(self) -> int:
        return int(self.chain_units.size)

    def chain_lengths(self) -> IntArray:
        lengths: IntArray = np.diff(self.chain_starts)
        return lengths

    def unit_at(self, chain: NDArray[np.integer[Any]], position: NDArray[Any]) -> IntArray:
        units: IntArray = self.chain_units[self.chain_starts[chain] + position]
        return units

    def positions(self, chain: NDArray[np.integer[Any]], units: NDArray[Any]) -> IntArray:
        """Each unit's position by cost in its chain (-1: not in that chain)."""
        keys = chain.astype(np.int64) * self.units + units
        found = np.minimum(np.searchsorted(self.slot_keys, keys), max(self.slots - 1, 0))
        if not self.slots:
            return np.full(keys.size, -1, dtype=np.int64)
        slot = self.slot_of_key[found]
        return np.where(
            self.slot_keys[found] == keys, slot - self.chain_starts[np.maximum(chain, 0)], -1
        )


def class_chains(
    units: Sequence[Unit], usable: BoolArray
) -> tuple[ChainLayout, IntArray, IntArray]:
    """The usable units in one chain per class (chain id = class id), and per unit its class
    and its position by cost in it (-1: in no chain)."""
    classes = unit_classes(units, usable)
    cost = np.array([u.monthly_cost_eur for u in units], dtype=np.float64)
    by_cost = np.lexsort((np.arange(len(units)), cost, classes))
    by_cost = by_cost[classes[by_cost] >= 0]
    class_starts = np.searchsorted(classes[by_cost], np.arange(int(classes.max(initial=-1)) + 2))
    position = np.full(len(units), -1, dtype=np.int64)
    position[by_cost] = np.arange(by_cost.size) - class_starts[classes[by_cost]]
    layout = ChainLayout.of_chains(np.split(by_cost, class_starts[1:-1]), len(units))
    return layout, classes, position


class ChainRegistry:
    """The chains of a round, found while its candidates are generated: each class's chain
    (ids 0 .. classes - 1), then one per requirement profile some household has (a set of
    classes it scores alike but for cost), its units sorted by cost as a class's are."""

    def __init__(
        self,
        classes: ChainLayout,
        unit_class: IntArray,
        class_position: IntArray,
        cost: FloatArray,
        max_profiles: int,
    ) -> None:
        self.classes = classes
        self.max_profiles = max_profiles
        self.unit_class = unit_class
        self.class_position = class_position
        self.cost = cost
        self.profiles: list[IntArray] = []  # units of each profile's chain, by cost
        self.profile_positions: list[NDArray[np.int32]] = []  # per unit, its position
        self.profile_ids: dict[tuple[int, ...], int] = {}
        self.units_and_costs: dict[int, tuple[IntArray, FloatArray]] = {}

    def chain_of(self, classes: tuple[int, ...]) -> tuple[int, NDArray[np.integer[Any]]] | None:
        """The chain of a profile (its id and each unit's position in it); None once the
        registry holds max_profiles chains (then the classes' own chains serve)."""
        if len(classes) == 1:
            return classes[0], self.class_position
        known = self.profile_ids.get(classes)
        if known is None:
            if len(self.profiles) >= self.max_profiles:
                return None
            starts = self.classes.chain_starts
            units = np.concatenate(
                [self.classes.chain_units[starts[c] : starts[c + 1]] for c in classes]
            )
            units = units[np.lexsort((units, self.cost[units]))]
            position = np.full(self.classes.units, -1, dtype=np.int32)
            position[units] = np.arange(units.size)
            known = self.profile_ids[classes] = len(self.profiles)
            self.profiles.append(units)
            self.profile_positions.append(position)
        return len(self.classes.chain_starts) - 1 + known, self.profile_positions[known]

    def units_by_cost(self, chain: int) -> tuple[IntArray, FloatArray]:
        """A chain's units, cheapest first, and their costs."""
        if (known := self.units_and_costs.get(chain)) is not None:
            return known
        n_classes = len(self.classes.chain_starts) - 1
        if chain >= n_classes:
            units = self.profiles[chain - n_classes]
        else:
            starts = self.classes.chain_starts
            units = self.classes.chain_units[starts[chain] : starts[chain + 1]]
        found = self.units_and_costs[chain] = (units, self.cost[units])
        return found

    def layout(self, runs: PairRuns) -> tuple[ChainLayout, PairRuns]:
        """The layout of the chains the runs use, renumbered in order, and the runs on it."""
        used, renumbered = np.unique(runs.chain, return_inverse=True)
        n_classes = len(self.classes.chain_starts) - 1
        starts = self.classes.chain_starts
        chains = [
            self.classes.chain_units[starts[c] : starts[c + 1]]
            if c < n_classes
            else self.profiles[c - n_classes]
            for c in used.tolist()
        ]
        return (
            ChainLayout.of_chains(chains, self.classes.units),
            replace(runs, chain=renumbered.astype(np.int32).reshape(-1)),
        )

    def household_runs(
        self,
        household: int,
        units: NDArray[np.integer[Any]],
        scores: NDArray[np.integer[Any]],
        profile: IntArray,
        profile_classes: dict[int, tuple[int, ...]],
    ) -> tuple[BoolArray, PairRuns]:
        """Runs for one household's feasible pairs, and which pairs they stand for.
        `profile` is each pair's profile key (-1: the unit is in no chain), and
        `profile_classes` the classes each key spans for this household."""
        in_runs = np.zeros(units.size, dtype=np.bool_)
        parts: list[PairRuns] = []
        keys = profile[np.r_[True, profile[1:] != profile[:-1]]] if profile.size else profile
        for key in sorted(set(keys.tolist()) - {-1}):
            rows = np.flatnonzero(profile == key)
            found = self.chain_of(profile_classes[key])
            runs = (
                None if found is None else runs_down(household, *found, units[rows], scores[rows])
            )
            if runs is not None:
                parts.append(runs)
                in_runs[rows] = True
            elif len(profile_classes[key]) > 1:  # the same check class by class
                unit_class = self.unit_class[units[rows]]
                for class_id in profile_classes[key]:
                    of_class = rows[unit_class == class_id]
                    runs = runs_down(
                        household, class_id, self.class_position, units[of_class], scores[of_class]
                    )
                    if runs is not None:
                        parts.append(runs)
                        in_runs[of_class] = True
        return in_runs, PairRuns.joined(parts)


def runs_down(
    household: int,
    chain: int,
    position: NDArray[np.integer[Any]],
    units: NDArray[np.integer[Any]],
    scores: NDArray[np.integer[Any]],
) -> PairRuns | None:
    """The runs of one household's pairs with a chain's units (`position`: each unit's place
    in the chain), or None when they are not exactly the chain's cheapest units with scores
    that never rise with the cost."""
    if not units.size:
        return None
    at = position[units]
    # Positions in a chain are distinct, so n of them in [0, n) are the n cheapest: no sort
    # needed, the scores are scattered into cost order.
    if at.min() < 0 or at.max() != units.size - 1:
        return None
    by_cost = np.empty(units.size, dtype=scores.dtype)
    by_cost[at] = scores
    if (by_cost[1:] > by_cost[:-1]).any():
        return None
    return runs_by_score(household, chain, by_cost)


def runs_by_score(household: int, chain: int, by_cost: NDArray[np.integer[Any]]) -> PairRuns:
    """The runs of a household's pairs with a chain's cheapest units, given their scores
    in cost order (never rising): one run per score."""
    # np.concatenate, not np.r_: this runs for every household, and np.r_ costs more
    starts = np.concatenate(([0], np.flatnonzero(by_cost[1:] != by_cost[:-1]) + 1))
    return PairRuns(
        np.full(starts.size, household, dtype=np.int32),
        np.full(starts.size, chain, dtype=np.int32),
        starts.astype(np.int32),
        (np.concatenate((starts[1:], [by_cost.size])) - 1).astype(np.int32),
        by_cost[starts].astype(np.int32),
    )


@dataclass(frozen=True, slots=True)
class PairRuns:
    """Runs of pairs of one household with one chain's consecutive units (by cost), all
    with the same score. A household's runs for a chain are consecutive, cheapest first, and
    the first starts at the chain's cheapest unit (position 0)."""

    household: Int32Array
    chain: Int32Array
    first: Int32Array  # position of the run's cheapest unit
    last: Int32Array  # position of its dearest unit, where the household enters
    score: Int32Array

    @classmethod
    def empty(cls) -> PairRuns:
        return cls(*(np.empty(0, dtype=np.int32) for _ in range(5)))

    @classmethod
    def joined(cls, parts: Sequence[PairRuns]) -> PairRuns:
        if not parts:
            return cls.empty()
        return cls(
            *(
                np.concatenate([getattr(p, name) for p in parts])
                for name in ("household", "chain", "first", "last", "score")
            )
        )

    def __len__(self) -> int:
        return int(self.household.size)

    def sizes(self) -> IntArray:
        return self.last.astype(np.int64) - self.first + 1

    @property
    def pair_count(self) -> int:
        return int(self.sizes().sum())

    def offsets(self) -> IntArray:
        """Where each run's pairs start among the runs' pairs."""
        sizes = self.sizes()
        return np.cumsum(sizes) - sizes

    def taken(self, runs: NDArray[Any]) -> PairRuns:
        """The runs selected by a mask or sorted indices, whole groups at a time."""
        return PairRuns(
            self.household[runs],
            self.chain[runs],
            self.first[runs],
            self.last[runs],
            self.score[runs],
        )

    def pairs(self, layout: ChainLayout) -> tuple[Int32Array, Int32Array, Int32Array]:
        """Every pair the runs stand for, in pair-position order: households, units, scores."""
        sizes = self.sizes()
        run_of_pair = np.repeat(np.arange(sizes.size), sizes)
        step = np.arange(run_of_pair.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        units = layout.unit_at(self.chain[run_of_pair], self.first[run_of_pair] + step)
        return (
            self.household[run_of_pair],
            units.astype(np.int32),
            self.score[run_of_pair],
        )

    def holding(self, layout: ChainLayout, households: IntArray, units: IntArray) -> IntArray:
        """For each (household, unit), the run standing for that pair (-1: none). The runs
        are sorted by household: each pair is looked up among its household's runs."""
        found = np.full(households.size, -1, dtype=np.int64)
        if not len(self) or not households.size:
            return found
        low = np.searchsorted(self.household, households, side="left")
        high = np.searchsorted(self.household, households, side="right")
        counts = high - low
        query = np.repeat(np.arange(households.size), counts)
        run = np.repeat(low - (np.cumsum(counts) - counts), counts) + np.arange(query.size)
        at = layout.positions(self.chain[run], units[query])
        hit = (at >= self.first[run]) & (at <= self.last[run])
        found[query[hit]] = run[hit]
        return found


@dataclass(frozen=True, slots=True)
class UnitChains:
    """The flow's view of a round's runs: the nodes and arcs that lead down each chain, the
    entry arcs, and how to turn a chain flow back into pair positions (the runs' pairs come
    after `single` pairs held one by one).

    Nodes: slot s is node s; the blocks come after. A chain is cut into blocks of `block`
    units, the blocks into blocks of `block` blocks, and so on up to a top level of at most
    `block` blocks, which is chained whole. Every node leads to the next cheaper node of its
    block at its level, and a block's node to the node of its dearest part. A run whose dearest
    unit is at position p enters at p's slot, which leads down p's block, and at each level at
    the block just below the one holding p, where there is one in the same block a level up:
    together they reach every position up to p, and no path walks more than about `block`
    nodes a level."""

    single: int  # pairs held one by one: positions 0 .. single - 1
    runs: PairRuns
    layout: ChainLayout
    block: int
    nodes: int  # slots, then the blocks of every level
    tails: IntArray  # the arcs down the chains, between nodes
    heads: IntArray
    capacities: IntArray  # how many runs enter the chain at or above the arc's dearest slot
    entry_run: IntArray  # per entry arc, its run
    entry_node: IntArray
    entry_top: IntArray  # the positions an entry reaches: from entry_top down to entry_floor
    entry_floor: IntArray
    run_group_offset: IntArray  # where the run's group starts among the runs' pairs

    @classmethod
    def build(cls, single: int, runs: PairRuns, layout: ChainLayout, block: int) -> UnitChains:
        assert block >= 2, "blocks of one unit would never end"
        lengths = layout.chain_lengths()
        chain_starts = layout.chain_starts[:-1]
        entry_slot = chain_starts[runs.chain] + runs.last
        entries = np.bincount(entry_slot, minlength=layout.slots)
        from_top = np.r_[np.cumsum(entries[::-1])[::-1], 0]
        entered_from = from_top[:-1] - np.repeat(from_top[layout.chain_starts[1:]], lengths)
        top_level = np.zeros(lengths.size, dtype=np.int64)
        groups = lengths.copy()
        while (more := groups > block).any():
            top_level += more
            groups = np.where(more, -(-groups // block), groups)

        chain_of_slot = np.repeat(np.arange(lengths.size), lengths)
        position = np.arange(layout.slots) - chain_starts[chain_of_slot]
        down = np.flatnonzero(
            (position > 0) & ((position % block > 0) | (top_level[chain_of_slot] == 0))
        )
        tails, heads, capacities = [down], [down - 1], [entered_from[down]]
        run_top_level = top_level[runs.chain]
        entry_run = [np.arange(len(runs))]
        entry_node = [entry_slot]
        entry_top = [runs.last.astype(np.int64)]
        last = runs.last.astype(np.int64)
        entry_floor = [np.where(run_top_level == 0, 0, last // block * block)]

        nodes = layout.slots
        below_first, below_count = chain_starts, lengths  # the level below's nodes per chain
        span = 1  # positions a block of the level holds
        for level in range(1, int(top_level.max(initial=0)) + 1):
            span *= block
            count = np.where(top_level >= level, -(-lengths // span), 0)
            first = nodes + np.cumsum(count) - count
            chain = np.repeat(np.arange(lengths.size), count)
            node = nodes + np.arange(int(count.sum()))
            index = node - first[chain]
            top_slot = chain_starts[chain] + np.minimum((index + 1) * span, lengths[chain]) - 1
            # into the dearest part of the block, then along the level
            child = np.minimum((index + 1) * block, below_count[chain]) - 1
            along = (index > 0) & ((index % block > 0) | (top_level[chain] == level))
            tails += [node, node[along]]
            heads += [below_first[chain] + child, node[along] - 1]
            capacities += [entered_from[top_slot], entered_from[top_slot[along]]]
            entering = np.flatnonzero(run_top_level >= level)
            holding = runs.last[entering].astype(np.int64) // span
            at_top = run_top_level[entering] == level
            enters = np.where(at_top, holding > 0, holding % block > 0)
            entering, holding, at_top = entering[enters], holding[enters], at_top[enters]
            entry_run.append(entering)
            entry_node.append(first[runs.chain[entering]] + holding - 1)
            entry_top.append(holding * span - 1)
            entry_floor.append(np.where(at_top, 0, holding // block * block * span))
            nodes += int(count.sum())
            below_first, below_count = first, count
        return cls(
            single=single,
            runs=runs,
            layout=layout,
            block=block,
            nodes=nodes,
            tails=np.concatenate(tails),
            heads=np.concatenate(heads),
            capacities=np.concatenate(capacities),
            entry_run=np.concatenate(entry_run),
            entry_node=np.concatenate(entry_node),
            entry_top=np.concatenate(entry_top),
            entry_floor=np.concatenate(entry_floor),
            run_group_offset=runs.offsets() - runs.first,
        )

    @property
    def chained(self) -> int:
        """Pairs the runs stand for."""
        return self.runs.pair_count

    def run_profits(self, pair_profits: NDArray[np.integer[Any]]) -> IntArray | None:
        """Each run's profit, for profits of every pair position, or None when the profits
        are not alike within every run or rise with the cost within a group: then only one
        arc per pair is exact."""
        chained = np.asarray(pair_profits[self.single :], dtype=np.int64)
        sizes = self.runs.sizes()
        run_profit: IntArray = chained[self.runs.offsets() + sizes - 1]
        if not np.array_equal(chained, np.repeat(run_profit, sizes)):
            return None
        same_group = self.runs.first[1:] > 0
        if (same_group & (run_profit[1:] > run_profit[:-1])).any():
            return None
        return run_profit

    def pairs_of_flow(self, entered: BoolArray, slot_inflow: IntArray) -> IntArray:
        """Pair positions for a chain flow: `entered` marks the entry arcs that carry a
        household, and `slot_inflow` is what each slot passes to its unit.

        Each chain is walked from its dearest slot down; every household entered reaches an
        interval of positions (entry_floor .. entry_top), and each slot takes the household
        whose interval ends soonest. Intervals of a flow's paths fit the slots, so this
        never strands one (the earliest-deadline rule). Any household entered can afford
        every unit of its interval and scores it at least its entry's profit, so the pairs
        are worth at least the flow, hence exactly as much when the flow is the best."""
        used = np.flatnonzero(entered)
        run = self.entry_run[used]
        chain = self.runs.chain[run].astype(np.int64)
        order = np.lexsort((-self.entry_top[used], chain))
        starts = self.layout.chain_starts
        fed = np.flatnonzero(slot_inflow > 0)
        fed_chain = np.searchsorted(starts, fed, side="right") - 1
        by_chain = np.lexsort((-fed, fed_chain))
        fed, fed_chain = fed[by_chain], fed_chain[by_chain]
        fed_position = fed - starts[fed_chain]
        waiting = list(
            zip(
                chain[order].tolist(),
                self.entry_top[used][order].tolist(),
                self.entry_floor[used][order].tolist(),
                run[order].tolist(),
                strict=True,
            )
        )
        next_entry = 0
        pool: list[tuple[int, int]] = []  # (-floor, run)
        current = -1
        chosen: list[int] = []
        for slot, slot_chain, position in zip(
            fed.tolist(), fed_chain.tolist(), fed_position.tolist(), strict=True
        ):
            if slot_chain != current:
                if pool or (next_entry < len(waiting) and waiting[next_entry][0] < slot_chain):
                    raise ValueError("households entered a chain whose units did not take them")
                current = slot_chain
            while (
                next_entry < len(waiting)
                and waiting[next_entry][0] == slot_chain
                and waiting[next_entry][1] >= position
            ):
                _, _, floor, entry_run = waiting[next_entry]
                heapq.heappush(pool, (-floor, entry_run))
                next_entry += 1
            for _ in range(int(slot_inflow[slot])):
                if not pool or -pool[0][0] > position:
                    raise ValueError("a chain's flow reaches a unit no household entered can")
                _, taken = heapq.heappop(pool)
                chosen.append(int(self.run_group_offset[taken]) + position)
        if pool or next_entry < len(waiting):
            raise ValueError("households entered a chain whose units did not take them")
        return self.single + np.array(chosen, dtype=np.int64)
