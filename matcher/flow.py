"""The flow network of a round and the ways it is solved with OR-tools' min-cost flow.

    source -1-> household -1-> unit -k-> [building -cap->] sink

One arc household -> unit per feasible pair. Pinned pairs are fixed beforehand: their
households are left out and their capacity taken off their unit and building.

`max_profit` solves one of two models: by default any number of households may be housed (a
bypass arc source -> sink carries the rest), so cardinality must be bought with a big-M in
the profits; a network `of_size(n)` houses exactly n, which needs no big-M. Its costs are
thousands of times smaller, which leaves OR-tools' cost scaling fewer phases: measured 4.3 s
against 6.0 s a solve at 5,000 x 5,000 (at 10,000 x 10,000 both take about 26 s).

The arcs are the network's pairs, but OR-tools is handed a `ChainedGraph` where it can be:
households without a workplace or care site enter chains of the units of their requirement
profile instead of having one arc per pair (matcher/chains.py).
The two kinds are types: a `ChainedNetwork` holds only the pairs held singly, and its runs
stand for the rest; a `PairNetwork` holds every pair one by one (the income quota weighs
pairs one by one), and `expanded()` gives one from either. Only a pair network solves for
arbitrary pair profits (`max_profit`), restricts its pairs or splits its units' places, and
only it has duals (matcher/duals.py). Results are pair positions either way (`pairs_at`
says which pairs they are).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple, Self

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

from matcher.candidates import CandidateSet, Pairs
from matcher.chains import UnitChains
from matcher.types import DEFAULT_TUNING, Instance, Policy, Tuning

IntArray = NDArray[np.int64]


class SolverError(RuntimeError):
    """The solver failed in a way that is a bug, not a property of the instance."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowNetwork:
    """What both kinds of network share: the places, the nodes, the arcs around the pairs
    and the solve. Built by `FlowNetwork.build`, as a PairNetwork or a ChainedNetwork."""

    pair_household: NDArray[np.int32]  # for the pair arcs held one by one, in arc order
    pair_unit: NDArray[np.int32]
    pair_score: NDArray[np.int32]
    unit_capacity: IntArray  # places left on each unit
    building_of_unit: IntArray  # -1: no building, or no cap
    building_capacity: IntArray  # places left in each capped building
    households: int
    size: int | None = None  # households housed by max_profit's flows; None: any number
    chained: ChainedGraph | None = None  # the same flows with fewer arcs (matcher/chains.py)
    # With k > 1 candidates per unit (and no quota), units with a candidate come first: each
    # unit's arc is split into its first place (1 where no pin covers it yet) and the rest.
    first_places: IntArray | None = None
    # On a network of first places apart (see first_places_apart), flows that use exactly
    # this many first places: those arcs lead to a node of their own that takes that much.
    first_places_used: int | None = None

    @staticmethod
    def build(
        instance: Instance,
        policy: Policy,
        candidates: CandidateSet,
        pinned: dict[int, int],
        tuning: Tuning = DEFAULT_TUNING,
    ) -> PairNetwork | ChainedNetwork:
        """The round's network. Where the candidates' runs save arcs it is chained, and holds
        only the single pairs one by one (`expanded` makes the runs' pairs too)."""
        n_households, n_units = len(instance.households), len(instance.units)
        unit_capacity = np.full(n_units, policy.candidates_per_unit, dtype=np.int64)
        for u in pinned.values():
            unit_capacity[u] -= 1
        buildings: dict[str, int] = {}
        building_of_unit = np.full(n_units, -1, dtype=np.int64)
        if policy.max_per_building is not None:
            for u, unit in enumerate(instance.units):
                if unit.building_id is not None:
                    building_of_unit[u] = buildings.setdefault(unit.building_id, len(buildings))
        building_capacity = np.full(len(buildings), policy.max_per_building or 0, dtype=np.int64)
        for u in pinned.values():
            if building_of_unit[u] >= 0:
                building_capacity[building_of_unit[u]] -= 1

        # Filtering copies tens of millions of pairs: only when pins make some unusable. A
        # run may pass a full unit: its chain carries no flow into it.
        single, runs = candidates.single, candidates.runs
        if pinned:
            pinned_households = np.zeros(n_households, dtype=np.bool_)
            pinned_households[list(pinned)] = True
            single = single.taken(
                ~pinned_households[single.household] & (unit_capacity[single.unit] > 0)
            )
            runs = runs.taken(~pinned_households[runs.household])

        # chains add 2 arcs a slot (one unit's place in one chain)
        arcs_saved = runs.pair_count - len(runs) - 2 * candidates.layout.slots
        chained = len(runs) > 0 and arcs_saved >= tuning.chaining_min_arcs_saved
        if not chained:
            single = Pairs.joined([single, Pairs(*runs.pairs(candidates.layout))])
        network = PairNetwork(
            pair_household=single.household,
            pair_unit=single.unit,
            pair_score=single.score,
            unit_capacity=np.maximum(unit_capacity, 0),
            building_of_unit=building_of_unit,
            building_capacity=np.maximum(building_capacity, 0),
            households=n_households,
        )
        if not chained:
            return network
        chains = UnitChains.build(
            single.household.size, runs, candidates.layout, tuning.chain_block
        )
        return ChainedNetwork.of(network, ChainedGraph.build(network, chains))

    def with_unit_capacity(self, unit_capacity: IntArray) -> Self:
        """This network with these places left on each unit (the chains feed units by the
        places they have, so they are laid out anew for each solve either way)."""
        return replace(self, unit_capacity=unit_capacity)

    def filling_units_first(self, places_per_unit: int) -> Self:
        """This network, whose `max_flow_min_cost` gives a candidate to as many units as it
        can before it looks at how many households it houses (k = `places_per_unit` > 1
        candidates per unit): each unit's first place, where no pin took it, is an arc of
        its own (see `_solve`). Its chained graph, if any, is laid out for the split arcs."""
        first_places = (self.unit_capacity == places_per_unit).astype(np.int64)
        split = replace(self, first_places=first_places)
        if self.chained is None:
            return split
        return replace(split, chained=ChainedGraph.build(split, self.chained.chains))

    def pairs_at(self, positions: NDArray[np.integer[Any]]) -> tuple[IntArray, IntArray]:
        """The households and units of the pairs at these positions."""
        held = positions < self.pair_household.size
        households = np.empty(positions.size, dtype=np.int64)
        units = np.empty(positions.size, dtype=np.int64)
        households[held] = self.pair_household[positions[held]]
        units[held] = self.pair_unit[positions[held]]
        if not held.all():
            assert self.chained is not None
            chains = self.chained.chains
            offset = positions[~held] - chains.single
            offsets = chains.runs.offsets()
            run = np.searchsorted(offsets, offset, side="right") - 1
            households[~held] = chains.runs.household[run]
            units[~held] = chains.layout.unit_at(
                chains.runs.chain[run], chains.runs.first[run] + offset - offsets[run]
            )
        return households, units

    # Nodes: source, households, units, capped buildings, sink. Arcs: source -> household,
    # the pairs, unit -> building or sink, building -> sink. Only the pair arcs are many, so
    # the arc arrays are laid out when a solve needs them rather than kept.
    source = 0

    @property
    def units(self) -> int:
        return int(self.unit_capacity.size)

    @property
    def first_pair_arc(self) -> int:
        return self.households

    @property
    def sink(self) -> int:
        return 1 + self.households + self.units + int(self.building_capacity.size)

    @property
    def pairs(self) -> int:
        """Pairs of the round: positions 0 .. pairs - 1 of its flows."""
        return int(self.pair_household.size)

    def expanded(self) -> PairNetwork:
        raise NotImplementedError

    def outer_arcs(self) -> tuple[Arcs, Arcs]:
        """The arcs before the pairs (source -> household) and after them (unit ->
        building or sink, then building -> sink)."""
        unit_node = 1 + self.households
        building_node = unit_node + self.units
        n_buildings = int(self.building_capacity.size)
        before = Arcs(
            np.zeros(self.households, dtype=np.int32),
            (1 + np.arange(self.households)).astype(np.int32),
            np.ones(self.households, dtype=np.int64),
        )
        unit_tails = unit_node + np.arange(self.units)
        unit_heads = np.where(
            self.building_of_unit >= 0, building_node + self.building_of_unit, self.sink
        )
        if self.first_places_used is not None:
            assert not self.building_capacity.size, "first places counted without building caps"
            unit_heads[: self.units // 2] = self.first_places_node
        if self.first_places is None:
            unit_arcs = Arcs(unit_tails, unit_heads, self.unit_capacity)
        else:  # first places, then the other places (weighted in _fill_units_first)
            unit_arcs = Arcs(
                np.r_[unit_tails, unit_tails],
                np.r_[unit_heads, unit_heads],
                np.r_[self.first_places, self.unit_capacity - self.first_places],
            )
        building_arcs = Arcs(
            building_node + np.arange(n_buildings),
            np.full(n_buildings, self.sink),
            self.building_capacity,
        )
        return before, Arcs.joined([unit_arcs, building_arcs])

    @property
    def after_arc_count(self) -> int:
        """Arcs after the pairs: units (twice when their first places are split off) and
        buildings."""
        split = self.first_places is not None
        return self.units * (2 if split else 1) + int(self.building_capacity.size)

    def arcs(self) -> Arcs:
        """Every arc: source -> household, one per pair, then units and buildings."""
        before, after = self.outer_arcs()
        pairs = Arcs(
            self.pair_household + np.int32(1),
            self.pair_unit + np.int32(1 + self.households),
            np.ones(self.pairs, dtype=np.int64),
        )
        return Arcs.joined([before, pairs, after])

    @property
    def arc_count(self) -> int:
        """Arcs of the network with one arc per pair held."""
        held = int(self.pair_household.size)
        return self.households + held + self.after_arc_count

    def _costs(self, pair_costs: NDArray[np.integer[Any]]) -> IntArray:
        costs = np.zeros(self.arc_count, dtype=np.int64)
        costs[self.first_pair_arc : self.first_pair_arc + pair_costs.size] = pair_costs
        return costs

    @property
    def first_places_node(self) -> int:
        """Where the first places lead when their number is fixed (first_places_used)."""
        return self.sink + 1

    @property
    def model_nodes(self) -> int:
        """Nodes of max_profit's model: up to the sink, and the first places' node."""
        return self.sink + 1 + (self.first_places_used is not None)

    def supplies(self, housed: int) -> dict[int, int]:
        """Node supplies of flows housing `housed` households: what the source sends, and
        what the sink (and, when their number is fixed, the first places' node) takes."""
        if self.first_places_used is None:
            return {self.source: housed, self.sink: -housed}
        return {
            self.source: housed,
            self.first_places_node: -self.first_places_used,
            self.sink: self.first_places_used - housed,
        }

    @property
    def nodes(self) -> int:
        """Nodes of the graph OR-tools solves (its costs are scaled by this count)."""
        if self.chained is None:
            return self.model_nodes
        return self.model_nodes + self.chained.chains.nodes

    def _solve(
        self,
        pair_profits: NDArray[np.integer[Any]],
        lexicographic: bool,
        run_profits: IntArray | None = None,
    ) -> IntArray:
        """Positions of the pairs of the flow OR-tools finds, on the chained graph when the
        profits allow it. `pair_profits` covers the pairs held; `run_profits`, the runs'
        (else found from `pair_profits`, which must then cover every pair).
        lexicographic: a maximum flow of maximum profit among maximum flows; otherwise a
        flow of maximum profit housing any number (or exactly `size`) households."""
        chained = self.chained
        if chained is not None and run_profits is None:
            run_profits = chained.chains.run_profits(pair_profits)
        if chained is not None and run_profits is not None:
            tails, heads, capacities = chained.arcs(self)
            profits = chained.profits(pair_profits, run_profits)
            weighted = chained.weighted_arcs
            best = max(int(np.max(pair_profits, initial=0)), int(run_profits.max(initial=0)))
        else:
            assert isinstance(self, PairNetwork), "a chained network's runs need run profits"
            tails, heads, capacities = self.arcs()
            profits = self._costs(pair_profits)
            weighted = slice(self.first_pair_arc, self.first_pair_arc + self.pairs)
            best = max(int(np.max(pair_profits)), 0)
        # Each unit of flow crosses exactly one weighted arc (or the bypass, worth 0), so
        # costs of (best - profit) give the same optima, and non-negative costs in a narrower
        # range take OR-tools' cost scaling less time (measured: 15.5 s against 17.8 s at
        # 10,000 x 10,000 on the chained graph).
        costs = np.zeros(tails.size, dtype=np.int64)
        costs[weighted] = best - profits[weighted]
        del profits
        bypass_cost = best if not lexicographic and self.size is None else None
        if lexicographic and self.first_places is not None:
            bypass_cost = self._fill_units_first(costs, best)
            lexicographic = bypass_cost is None
        if bypass_cost is not None:  # the bypass carries those unhoused
            tails = np.append(tails, np.int32(self.source))
            heads = np.append(heads, np.int32(self.sink))
            capacities = np.append(capacities, self.households)
            costs = np.append(costs, bypass_cost)
        # A common factor of every cost changes no optimum, but OR-tools' cost scaling takes
        # a phase per factor of 5 in the cost range: the quota's costs are multiples of 500
        # (SCALE times the score, the multiplier times q), measured 24% faster a solve.
        common = int(np.gcd.reduce(costs))
        if common > 1:
            costs //= common
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
        del tails, heads, capacities, costs  # OR-tools holds its own copy
        housed = self.households if lexicographic or self.size is None else self.size
        for node, supply in self.supplies(housed).items():
            flow.set_node_supply(node, supply)
        status = flow.solve_max_flow_with_min_cost() if lexicographic else flow.solve()
        if status != flow.OPTIMAL:
            raise SolverError(f"min-cost flow ended with status {status}")
        if chained is None or run_profits is None:
            return np.flatnonzero(flow.flows(np.arange(weighted.start, weighted.stop)) > 0)
        return chained.pairs_of(flow)

    def _fill_units_first(self, costs: IntArray, best: int) -> int | None:
        """Weights a flow's places beyond each unit's first (`costs` holds every arc's, the
        last `after_arc_count` being the units' and buildings'), so that the best flow gives
        a candidate to the most units, then houses the most households, then scores best.
        Returns the bypass's cost when that needs a flow of any size (None: the lexicographic
        maximum flow does it).

        A unit's extra place costs more than any score difference across the flows, so among
        maximum flows the cheapest gives the most units a candidate. Without building caps
        some maximum flow also gives as many units a candidate as any flow can (Mendelsohn-
        Dulmage, on the units' places as vertices), so the lexicographic solve is exact. A
        building cap breaks that (two places of one unit can fill a building that also holds
        another unit nobody else can take), so there every order of the three is a big-M
        weight of the flow of any size: covering a unit outweighs any number of households
        housed, which outweighs any score."""
        start = costs.size - self.after_arc_count + self.units
        extra = slice(start, start + self.units)
        housed_weight = best * (self.households + 1) + 1  # more than any score difference
        if not self.building_capacity.size:
            costs[extra] = housed_weight
            return None
        cover_weight = (housed_weight + best) * (self.households + 1) + 1
        bypass_cost = best + housed_weight + cover_weight
        if bypass_cost >= 2**62 // (self.nodes + 2):  # OR-tools scales costs by the nodes
            raise SolverError(
                "the round is too large to weigh units with a candidate first under building "
                "caps: set candidates_per_unit to 1 or drop max_per_building"
            )
        costs[extra] = cover_weight
        return bypass_cost

    def max_flow_min_cost(self) -> IntArray:
        """Positions of the pairs of a maximum flow (most households) that, among maximum
        flows, has the highest total score: the lexicographic objective exactly, with no
        big-M weight."""
        if not self.pairs:
            return np.zeros(0, dtype=np.int64)
        run_scores = None
        if isinstance(self, ChainedNetwork):
            run_scores = self.chained.chains.runs.score.astype(np.int64)
        return self._solve(self.pair_score.astype(np.int64), True, run_scores)


@dataclass(frozen=True, slots=True, kw_only=True)
class PairNetwork(FlowNetwork):
    """A network holding every pair one by one: what the income quota solves, with any pair
    profits. Where the round has runs it keeps their chained graph, and solves on it when
    the profits are alike within each run (they are for the score and the quota's term)."""

    def expanded(self) -> PairNetwork:
        return self

    def first_places_apart(self, places_per_unit: int) -> PairNetwork:
        """This network with each unit split in two, its first place (where no pin
        took it) and its other places, and every pair made twice, once on each: the pair at
        position p in this network is at p (first place) and p + pairs (other places) in the
        new one, and unit u's places are units u and u + units. A bonus on the first-place
        pairs then gives units a candidate first in models that weigh pairs one by one (the
        income quota's), where `filling_units_first` weighs the units' arcs. Building caps
        hold both places of a unit."""
        first = (self.unit_capacity == places_per_unit).astype(np.int64)
        return replace(
            self,
            pair_household=np.r_[self.pair_household, self.pair_household],
            pair_unit=np.r_[self.pair_unit, self.pair_unit + np.int32(self.units)],
            pair_score=np.r_[self.pair_score, self.pair_score],
            unit_capacity=np.r_[first, self.unit_capacity - first],
            building_of_unit=np.r_[self.building_of_unit, self.building_of_unit],
            size=None,
            chained=None,
        )

    def of_size(self, size: int | None) -> PairNetwork:
        """This network, whose max_profit and regrets consider only flows housing `size`
        households (None: any number). `size` must be reachable: at most the largest flow."""
        return replace(self, size=size)

    def restricted(self, kept_pairs: NDArray[np.integer[Any]]) -> PairNetwork:
        """The same network with only the pair arcs `kept_pairs` (sorted positions), housing
        any number of households (fewer pairs may not house as many)."""
        return replace(
            self,
            pair_household=self.pair_household[kept_pairs],
            pair_unit=self.pair_unit[kept_pairs],
            pair_score=self.pair_score[kept_pairs],
            size=None,
            chained=None,
        )

    def using_first_places(self, count: int | None) -> PairNetwork:
        """This network of first places apart, whose flows use exactly `count` first places
        (None: any number). Only without building caps."""
        assert self.chained is None
        return replace(self, first_places_used=count)

    def model_arcs(self) -> Arcs:
        """The arcs of max_profit's model: this network, plus a bypass arc source -> sink
        when any number of households may be housed."""
        arcs = self.arcs()
        if self.size is None:
            arcs = Arcs.joined(
                [arcs, Arcs(np.r_[self.source], np.r_[self.sink], np.r_[self.households])]
            )
        return arcs

    def model_costs(self, pair_profits: NDArray[np.integer[Any]]) -> IntArray:
        costs = self._costs(-pair_profits)
        return costs if self.size is not None else np.append(costs, 0)

    def max_profit(self, pair_profits: IntArray) -> NDArray[np.bool_]:
        """Pairs of a flow of maximum total profit, housing any number of households (the
        flow no pair wants takes the bypass arc) or, for a network of_size(n), exactly n.
        Profits are integers."""
        chosen = np.zeros(self.pairs, dtype=np.bool_)
        if self.pairs:
            chosen[self._solve(pair_profits, lexicographic=False)] = True
        return chosen

    def arc_flows(self, chosen: NDArray[np.bool_]) -> IntArray:
        """Flow on every arc of max_profit's model when the pairs `chosen` are used: a
        household's arc carries what leaves the household, a unit's or building's arc what
        enters the unit or building, and the bypass, if any, the rest."""
        assert self.first_places is None, "the quota's networks keep one arc a unit"
        tails, heads, _ = self.model_arcs()
        flows = np.zeros(tails.size, dtype=np.int64)
        pairs_end = self.first_pair_arc + self.pairs
        flows[self.first_pair_arc : pairs_end] = chosen
        used_pairs = slice(self.first_pair_arc, pairs_end)
        outflow = np.bincount(tails[used_pairs][chosen], minlength=self.model_nodes)
        flows[: self.first_pair_arc] = outflow[heads[: self.first_pair_arc]]
        inflow = np.bincount(heads[used_pairs][chosen], minlength=self.model_nodes)
        # unit arcs first, then building arcs: a building's inflow is its units' flow
        for start, stop in (
            (pairs_end, pairs_end + self.units),
            (pairs_end + self.units, self.arc_count),
        ):
            flows[start:stop] = inflow[tails[start:stop]]
            inflow += np.bincount(
                heads[start:stop], weights=flows[start:stop], minlength=self.model_nodes
            ).astype(np.int64)
        if self.size is None:
            flows[-1] = self.households - int(chosen.sum())
        return flows


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainedNetwork(FlowNetwork):
    """A compact network: it holds only the pairs held singly, and its chained graph's runs
    stand for the rest. It solves the round's own lexicographic objective
    (`max_flow_min_cost`); `expanded()` gives the pair network of the same round."""

    chained: ChainedGraph

    @classmethod
    def of(cls, network: FlowNetwork, graph: ChainedGraph) -> ChainedNetwork:
        return cls(
            pair_household=network.pair_household,
            pair_unit=network.pair_unit,
            pair_score=network.pair_score,
            unit_capacity=network.unit_capacity,
            building_of_unit=network.building_of_unit,
            building_capacity=network.building_capacity,
            households=network.households,
            first_places=network.first_places,
            chained=graph,
        )

    @property
    def pairs(self) -> int:
        return self.chained.chains.single + self.chained.chains.chained

    def expanded(self) -> PairNetwork:
        """The same network holding every pair one by one (the income quota weighs pairs);
        it keeps the chained graph, to solve on when profits are alike within runs."""
        households, units, scores = self.chained.chains.runs.pairs(self.chained.chains.layout)
        return PairNetwork(
            pair_household=np.concatenate([self.pair_household, households]),
            pair_unit=np.concatenate([self.pair_unit, units]),
            pair_score=np.concatenate([self.pair_score, scores]),
            unit_capacity=self.unit_capacity,
            building_of_unit=self.building_of_unit,
            building_capacity=self.building_capacity,
            households=self.households,
            first_places=self.first_places,
            chained=self.chained,
        )


class Arcs(NamedTuple):
    tails: NDArray[np.integer[Any]]  # int32 once joined
    heads: NDArray[np.integer[Any]]
    capacities: IntArray

    @classmethod
    def joined(cls, parts: list[Arcs]) -> Arcs:
        """One set of arcs, in the dtypes OR-tools takes."""
        return cls(
            np.concatenate([p.tails for p in parts]).astype(np.int32, copy=False),
            np.concatenate([p.heads for p in parts]).astype(np.int32, copy=False),
            np.concatenate([p.capacities for p in parts]).astype(np.int64, copy=False),
        )


@dataclass(frozen=True, slots=True)
class ChainedGraph:
    """The network's arcs with the runs' pairs replaced by entry arcs into chains of units
    (matcher/chains.py): households -> [single pairs | entries -> chain nodes -> slots] ->
    units -> [buildings ->] sink. Chain node n (a slot, or a block of some level) is node
    sink + 1 + n. Every slot feeds its unit.

    The arcs themselves are laid out for each solve (`arcs`) and dropped once OR-tools holds
    its copy: kept, they were about 600 MB of the national 50,000 round's peak, during a solve
    that takes over a minute. Laying them out again costs about 0.1 s a solve for the 11
    million arcs of the 10,000 x 10,000 departement round (measured)."""

    chains: UnitChains
    arc_count: int
    single_arcs: slice
    entry_arcs: slice  # household -> chain node, one per entry of chains.entry_run
    feed_arcs: slice  # slot -> its unit, slot by slot

    @property
    def weighted_arcs(self) -> slice:
        return slice(self.single_arcs.start, self.entry_arcs.stop)

    def profits(self, pair_profits: NDArray[np.integer[Any]], run_profits: IntArray) -> IntArray:
        profits = np.zeros(self.arc_count, dtype=np.int64)
        profits[self.single_arcs] = pair_profits[: self.chains.single]
        profits[self.entry_arcs] = run_profits[self.chains.entry_run]
        return profits

    @staticmethod
    def _parts(network: FlowNetwork, chains: UnitChains) -> list[Arcs]:
        household_node, unit_node = 1, 1 + network.households
        chain_node = network.sink + 1
        layout = chains.layout
        single = slice(0, chains.single)
        before, after = network.outer_arcs()
        return [
            before,
            Arcs(
                household_node + network.pair_household[single],
                unit_node + network.pair_unit[single],
                np.ones(chains.single, dtype=np.int64),
            ),
            Arcs(
                household_node + chains.runs.household[chains.entry_run],
                chain_node + chains.entry_node,
                np.ones(chains.entry_run.size, dtype=np.int64),
            ),
            # No more can go down from a node than entered the chain above it: with this
            # bound, a quota solve at 10,000 x 10,000 measured 2-20% faster.
            Arcs(
                chain_node + chains.tails,
                chain_node + chains.heads,
                np.minimum(chains.capacities, network.households),
            ),
            Arcs(
                chain_node + np.arange(layout.slots),
                unit_node + layout.chain_units,
                network.unit_capacity[layout.chain_units],
            ),
            after,
        ]

    @classmethod
    def build(cls, network: FlowNetwork, chains: UnitChains) -> ChainedGraph:
        sizes = [
            network.households,  # source -> household
            chains.single,
            chains.entry_run.size,
            chains.tails.size,
            chains.layout.slots,
            network.after_arc_count,  # units and buildings onwards
        ]
        ends = np.cumsum(sizes)
        return cls(
            chains=chains,
            arc_count=int(ends[-1]),
            single_arcs=slice(int(ends[0]), int(ends[1])),
            entry_arcs=slice(int(ends[1]), int(ends[2])),
            feed_arcs=slice(int(ends[3]), int(ends[4])),
        )

    def arcs(self, network: FlowNetwork) -> Arcs:
        """Every arc, in the order the slices above index."""
        arcs = Arcs.joined(self._parts(network, self.chains))
        assert arcs.tails.size == self.arc_count, "the slices no longer match the arcs"
        return arcs

    def pairs_of(self, flow: min_cost_flow.SimpleMinCostFlow) -> IntArray:
        """Positions of the pairs a solved flow on this graph stands for, sorted."""
        single_flow = flow.flows(np.arange(self.single_arcs.start, self.single_arcs.stop))
        entered = flow.flows(np.arange(self.entry_arcs.start, self.entry_arcs.stop)) > 0
        slot_inflow = flow.flows(np.arange(self.feed_arcs.start, self.feed_arcs.stop))
        return np.sort(
            np.r_[
                np.flatnonzero(single_flow > 0),
                self.chains.pairs_of_flow(entered, slot_inflow),
            ]
        )
