"""Chains: the pairs of households that see units only through their class and cost, held
as runs instead of one by one.

A household with no workplace and no care site sees a unit through its class (rooms,
surface band, access, lease kind, priority neighbourhood) and its cost: it can afford a
class's units up to some cost, and its score falls in steps as the cost rises (the
affordability points count whole tenths). So its pairs with a class are the class's cheapest
units, in a few runs of equal score. Candidate generation emits those runs (household, class,
first and last position by cost, score) instead of the pairs, and the flow lets the household
enter a chain of the class's units sorted by cost, once per run, at the run's dearest unit;
the chain runs down to the cheaper units:

    household -> chain[c, p] -> chain[c, p-1] -> ... -> chain[c, 0]
                      |               |                     |
                     unit            unit                  unit

A class's chain is cut into blocks of CHAIN_BLOCK units, and above them runs a chain of the
blocks, each feeding its block's dearest unit: the household enters at its unit, which leads
down its own block, and at the block below, which leads to every cheaper block. So no path
walks more than (class size / CHAIN_BLOCK + CHAIN_BLOCK) nodes, which OR-tools' cost scaling
takes much less time over.

Every path through the chain ends on a unit the household can afford, scoring at least what
the entry arc says, and every pair is reachable at its own score, so the best flow of the
chained network is worth exactly the best flow of the pairs, and any way of splitting its
chain flow back into pairs is a best assignment (see `UnitChains.pairs_of_flow`).

Exactness is checked, not assumed: a (household, class) group becomes runs only if its pairs
are exactly the class's cheapest units (no hole left by an excluded commune, a refused pair
or a pin) and its scores never rise with the cost (no preferred commune among the dearer
units); any other group keeps its pairs one by one. Measured at 10,000 x 10,000 in one
departement: 14 million pairs of households without a workplace become 1.2 million runs.

Pair positions: a round's pairs are numbered with the pairs held one by one first, then the
runs' pairs, run by run, cheapest unit first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.rules import EPSILON, SINGLE_STUDIO_MIN_M2, required_surface_m2
from matcher.types import Unit

Int32Array = NDArray[np.int32]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# Measured at 20,000 x 20,000 over 8 regions (classes of up to 1,288 units): a solve took 35 s
# on plain chains, 20 s with blocks of 12, 21 s with blocks of 64, 22 s with blocks of
# sqrt(class size).
CHAIN_BLOCK = 12

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
    """The usable units laid out in chains: class by class, cheapest first."""

    chain_units: IntArray  # unit indices, class by class, by cost within a class
    class_starts: IntArray  # where each class starts in chain_units, and the end
    unit_class: IntArray  # per unit (-1: in no chain)
    position: IntArray  # per unit, its rank by cost in its class (-1: in no chain)

    @classmethod
    def build(cls, units: Sequence[Unit], usable: BoolArray) -> ChainLayout:
        classes = unit_classes(units, usable)
        cost = np.array([u.monthly_cost_eur for u in units], dtype=np.float64)
        by_cost = np.lexsort((np.arange(len(units)), cost, classes))
        by_cost = by_cost[classes[by_cost] >= 0]
        class_starts = np.searchsorted(
            classes[by_cost], np.arange(int(classes.max(initial=-1)) + 2)
        ).astype(np.int64)
        position = np.full(len(units), -1, dtype=np.int64)
        position[by_cost] = np.arange(by_cost.size) - class_starts[classes[by_cost]]
        return cls(by_cost.astype(np.int64), class_starts, classes, position)

    @property
    def units(self) -> int:
        return int(self.unit_class.size)

    def block_starts(self, block: int) -> IntArray:
        """Where each class's blocks of `block` units start among all blocks, and the end."""
        blocks = -(-np.diff(self.class_starts) // block)
        starts: IntArray = np.r_[0, np.cumsum(blocks)].astype(np.int64)
        return starts

    def block_tops(self, block: int) -> tuple[IntArray, IntArray]:
        """For each block of `block` units, its class's block below (-1: the class's
        cheapest block) and its dearest unit."""
        starts = self.block_starts(block)
        blocks = np.diff(starts)
        chain = np.repeat(np.arange(blocks.size), blocks)
        rank = np.arange(int(starts[-1])) - starts[chain]
        below = np.where(rank > 0, np.arange(rank.size) - 1, -1)
        top = np.minimum((rank + 1) * block, np.diff(self.class_starts)[chain]) - 1
        return below, self.unit_at(chain, top)

    def unit_at(self, chain: NDArray[np.integer[Any]], position: NDArray[Any]) -> IntArray:
        units: IntArray = self.chain_units[self.class_starts[chain] + position]
        return units

    def below(self, block: int) -> IntArray:
        """Per unit, the next cheaper unit of its block of `block` units (-1: the block's
        cheapest, or in no chain)."""
        below = np.full(self.units, -1, dtype=np.int64)
        has_below = self.chain_units[self.position[self.chain_units] % block > 0]
        below[has_below] = self.chain_units[
            self.class_starts[self.unit_class[has_below]] + self.position[has_below] - 1
        ]
        return below


def runs_of_household(
    chain: IntArray, position: IntArray, score: NDArray[np.integer[Any]]
) -> tuple[BoolArray, IntArray, IntArray]:
    """For one household's feasible pairs with the units in chains, sorted by class then
    cost: which pairs runs can stand for, and where each run starts and ends (indices into
    the pairs). A class's pairs go into runs only if they are exactly the class's cheapest
    units and their scores never rise with the cost."""
    starts = _starts(chain)
    group_starts = np.flatnonzero(starts)
    group_sizes = np.diff(np.r_[group_starts, chain.size])
    whole_prefix = position[group_starts + group_sizes - 1] == group_sizes - 1
    rises = np.zeros(chain.size, dtype=np.bool_)
    rises[1:] = (score[1:] > score[:-1]) & ~starts[1:]
    rising = np.logical_or.reduceat(rises, group_starts) if chain.size else whole_prefix
    in_runs = np.repeat(whole_prefix & ~rising, group_sizes)
    run_first = in_runs & (starts | _starts(score))
    run_starts = np.flatnonzero(run_first)
    # A run ends where the next begins, or where its group does.
    ends = np.flatnonzero(in_runs & np.r_[run_first[1:] | ~in_runs[1:] | starts[1:], True])
    return in_runs, run_starts, ends


@dataclass(frozen=True, slots=True)
class PairRuns:
    """Runs of pairs of one household with one class's consecutive units (by cost), all
    with the same score. A household's runs for a class are consecutive, cheapest first, and
    the first starts at the class's cheapest unit (position 0)."""

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

    def entry_units(self, layout: ChainLayout) -> IntArray:
        return layout.unit_at(self.chain, self.last)

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

    def pairs_in_chunks(
        self, layout: ChainLayout, pairs_per_chunk: int
    ) -> Iterator[tuple[Int32Array, Int32Array, Int32Array]]:
        """`pairs`, a bounded number at a time (runs may stand for hundreds of millions)."""
        chunk_of_run = self.offsets() // pairs_per_chunk
        bounds = np.flatnonzero(np.diff(chunk_of_run)) + 1
        for chunk in np.split(np.arange(len(self)), bounds):
            if chunk.size:
                yield self.taken(chunk).pairs(layout)

    def holding(self, layout: ChainLayout, households: IntArray, units: IntArray) -> IntArray:
        """For each (household, unit), the run standing for that pair (-1: none): a binary
        search, the runs being sorted by household, class and position."""
        if not len(self):
            return np.full(households.size, -1, dtype=np.int64)
        chain, position = layout.unit_class[units], layout.position[units]
        classes, positions = layout.class_starts.size, int(layout.position.max(initial=0)) + 1

        def key(household: NDArray[Any], chain: NDArray[Any], position: NDArray[Any]) -> IntArray:
            keys: IntArray = (household.astype(np.int64) * classes + chain) * positions + position
            return keys

        # The first run ending at or above the pair's key: the group's runs cover the class's
        # cheapest units without a gap, so if that run is of the pair's group and ends at or
        # above its position, it holds the pair.
        run = np.searchsorted(
            key(self.household, self.chain, self.last), key(households, chain, position)
        )
        run = np.minimum(run, len(self) - 1)
        found = (
            (chain >= 0)
            & (self.household[run] == households)
            & (self.chain[run] == chain)
            & (self.last[run] >= position)
        )
        return np.where(found, run, -1)


@dataclass(frozen=True, slots=True)
class UnitChains:
    """The flow's view of a round's runs: entry arcs, chain arcs and how to turn a chain flow
    back into pair positions (the runs' pairs come after `explicit` pairs held one by one)."""

    explicit: int  # pairs held one by one: positions 0 .. explicit - 1
    runs: PairRuns
    layout: ChainLayout
    block: int  # units a block
    run_entry_unit: IntArray
    run_block_below: IntArray  # the block below the run's entry block (-1: none)
    run_group_offset: IntArray  # where the run's group starts among the runs' pairs
    below: IntArray  # per unit, the next cheaper unit of its block (-1: none)
    entered_from: IntArray  # per unit, how many runs enter its class's chain at it or above

    @classmethod
    def build(cls, explicit: int, runs: PairRuns, layout: ChainLayout) -> UnitChains:
        entry_unit = runs.entry_units(layout)
        entries = np.bincount(entry_unit, minlength=layout.units)[layout.chain_units]
        from_top = np.r_[np.cumsum(entries[::-1])[::-1], 0]
        starts, ends = layout.class_starts[:-1], layout.class_starts[1:]
        entered_from = np.zeros(layout.units, dtype=np.int64)
        entered_from[layout.chain_units] = from_top[:-1] - np.repeat(from_top[ends], ends - starts)
        block = CHAIN_BLOCK
        entry_block = runs.last // block
        return cls(
            explicit=explicit,
            runs=runs,
            layout=layout,
            block=block,
            run_entry_unit=entry_unit,
            run_block_below=np.where(
                entry_block > 0, layout.block_starts(block)[runs.chain] + entry_block - 1, -1
            ),
            run_group_offset=runs.offsets() - runs.first,
            below=layout.below(block),
            entered_from=entered_from,
        )

    @property
    def chained(self) -> int:
        """Pairs the runs stand for."""
        return self.runs.pair_count

    def run_profits(self, pair_profits: NDArray[np.integer[Any]]) -> IntArray | None:
        """Each run's profit, for profits of every pair position, or None when the profits
        are not alike within every run or rise with the cost within a group: then only one
        arc per pair is exact."""
        chained = np.asarray(pair_profits[self.explicit :], dtype=np.int64)
        sizes = self.runs.sizes()
        run_profit: IntArray = chained[self.runs.offsets() + sizes - 1]
        if not np.array_equal(chained, np.repeat(run_profit, sizes)):
            return None
        same_group = self.runs.first[1:] > 0
        if (same_group & (run_profit[1:] > run_profit[:-1])).any():
            return None
        return run_profit

    def pairs_of_flow(
        self, entered: BoolArray, entered_below: BoolArray, unit_inflow: IntArray
    ) -> IntArray:
        """Pair positions for a chain flow: `entered` marks the runs whose entry arc carries a
        household, `entered_below` those whose arc into the chain of blocks below does;
        `unit_inflow` is what each unit receives from its chain.

        Each class's chain is walked from its dearest unit down, block by block. A household
        entering the chain of blocks joins the block pool at that block, one entering at a
        unit joins its block's pool there; each unit takes households from the block's pool
        first, whom no cheaper block can take, then from the block pool. Any household of
        either pool can afford the unit and scores it at least its entry's profit, so the
        pairs are worth at least the flow, hence exactly as much when the flow is the best."""
        entries_at: dict[int, list[int]] = {}
        for run in np.flatnonzero(entered).tolist():
            entries_at.setdefault(int(self.run_entry_unit[run]), []).append(run)
        block_entries_at: dict[int, list[int]] = {}
        for run in np.flatnonzero(entered_below).tolist():
            block_entries_at.setdefault(int(self.run_block_below[run]), []).append(run)
        position = self.layout.position
        block_starts = self.layout.block_starts(self.block)
        _, block_tops = self.layout.block_tops(self.block)
        chosen: list[int] = []
        for chain in range(block_starts.size - 1):
            from_above: list[int] = []
            for block in range(int(block_starts[chain + 1]) - 1, int(block_starts[chain]) - 1, -1):
                from_above.extend(block_entries_at.get(block, ()))
                pool: list[int] = []
                unit = int(block_tops[block])
                while unit >= 0:
                    pool.extend(entries_at.get(unit, ()))
                    for _ in range(int(unit_inflow[unit])):
                        if not pool and not from_above:
                            raise ValueError("a chain's flow reaches a unit no household entered")
                        run = pool.pop() if pool else from_above.pop()
                        chosen.append(int(self.run_group_offset[run] + position[unit]))
                    unit = int(self.below[unit])
                if pool:
                    raise ValueError("households entered a block whose units did not take them")
        return self.explicit + np.array(chosen, dtype=np.int64)


def _starts(keys: NDArray[Any]) -> BoolArray:
    """Where a new value begins in a sorted (or grouped) array."""
    first = np.ones(keys.size, dtype=np.bool_)
    first[1:] = keys[1:] != keys[:-1]
    return first
