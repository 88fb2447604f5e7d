"""The flow network of a round and the two ways it is solved with OR-tools' min-cost flow.

    source -1-> household -1-> unit -k-> [building -cap->] sink

One arc household -> unit per feasible pair. Pinned pairs are fixed beforehand: their
households are left out and their capacity taken off their unit and building.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

from matcher.candidates import CandidateSet
from matcher.types import Instance, Policy

IntArray = NDArray[np.int64]


class SolverError(RuntimeError):
    """The solver failed in a way that is a bug, not a property of the instance."""


@dataclass(frozen=True, slots=True)
class FlowNetwork:
    tails: NDArray[np.int32]
    heads: NDArray[np.int32]
    capacities: IntArray
    pair_household: NDArray[np.int32]  # for the pair arcs, in arc order
    pair_unit: NDArray[np.int32]
    pair_score: NDArray[np.int32]
    first_pair_arc: int
    source: int
    sink: int
    households: int

    @classmethod
    def build(
        cls,
        instance: Instance,
        policy: Policy,
        candidates: CandidateSet,
        pinned: dict[int, int],
    ) -> FlowNetwork:
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

        # Filtering copies tens of millions of pairs: only when pins make some unusable.
        pair_household, pair_unit, pair_score = (
            candidates.household,
            candidates.unit,
            candidates.score,
        )
        if pinned:
            keep = ~np.isin(candidates.household, np.fromiter(pinned, dtype=np.int64))
            keep &= unit_capacity[candidates.unit] > 0
            pair_household, pair_unit, pair_score = (
                pair_household[keep],
                pair_unit[keep],
                pair_score[keep],
            )

        n_buildings = len(buildings)
        source = 0
        household_node = 1
        unit_node = household_node + n_households
        building_node = unit_node + n_units
        sink = building_node + n_buildings
        # Filled in place, in the dtypes OR-tools takes, rather than concatenated.
        n_pairs = int(pair_household.size)
        ends = np.cumsum([n_households, n_pairs, n_units, n_buildings])
        tails = np.empty(ends[-1], dtype=np.int32)
        heads = np.empty(ends[-1], dtype=np.int32)
        capacities = np.empty(ends[-1], dtype=np.int64)
        first, pairs_end, units_end = int(ends[0]), int(ends[1]), int(ends[2])
        tails[:first] = source
        heads[:first] = household_node + np.arange(n_households)
        capacities[:first] = 1
        np.add(pair_household, household_node, out=tails[first:pairs_end], casting="unsafe")
        np.add(pair_unit, unit_node, out=heads[first:pairs_end], casting="unsafe")
        capacities[first:pairs_end] = 1
        tails[pairs_end:units_end] = unit_node + np.arange(n_units)
        heads[pairs_end:units_end] = np.where(
            building_of_unit >= 0, building_node + building_of_unit, sink
        )
        capacities[pairs_end:units_end] = np.maximum(unit_capacity, 0)
        tails[units_end:] = building_node + np.arange(n_buildings)
        heads[units_end:] = sink
        capacities[units_end:] = np.maximum(building_capacity, 0)
        return cls(
            tails=tails,
            heads=heads,
            capacities=capacities,
            pair_household=pair_household,
            pair_unit=pair_unit,
            pair_score=pair_score,
            first_pair_arc=first,
            source=source,
            sink=sink,
            households=n_households,
        )

    @property
    def pairs(self) -> int:
        return int(self.pair_household.size)

    def _costs(self, pair_costs: NDArray[np.integer[Any]]) -> IntArray:
        costs = np.zeros(self.tails.size, dtype=np.int64)
        costs[self.first_pair_arc : self.first_pair_arc + self.pairs] = pair_costs
        return costs

    def _chosen(self, flow: min_cost_flow.SimpleMinCostFlow) -> NDArray[np.bool_]:
        arcs = np.arange(self.first_pair_arc, self.first_pair_arc + self.pairs)
        chosen: NDArray[np.bool_] = flow.flows(arcs) > 0
        return chosen

    def max_flow_min_cost(self) -> NDArray[np.bool_]:
        """Pairs of a maximum flow (most households) that, among maximum flows, has the
        highest total score: the lexicographic objective exactly, with no big-M weight."""
        if not self.pairs:
            return np.zeros(0, dtype=np.bool_)
        flow = min_cost_flow.SimpleMinCostFlow()
        best = int(self.pair_score.max())
        flow.add_arcs_with_capacity_and_unit_cost(
            self.tails, self.heads, self.capacities, self._costs(best - self.pair_score)
        )
        flow.set_node_supply(self.source, self.households)
        flow.set_node_supply(self.sink, -self.households)
        status = flow.solve_max_flow_with_min_cost()
        if status != flow.OPTIMAL:
            raise SolverError(f"min-cost flow ended with status {status}")
        return self._chosen(flow)

    def max_profit(self, pair_profits: IntArray) -> NDArray[np.bool_]:
        """Pairs of a flow of maximum total profit, where a pair may also be left out (a
        bypass arc source -> sink carries the flow no pair wants). Profits are integers."""
        if not self.pairs:
            return np.zeros(0, dtype=np.bool_)
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            np.append(self.tails, np.int32(self.source)),
            np.append(self.heads, np.int32(self.sink)),
            np.append(self.capacities, self.households),
            np.append(self._costs(-pair_profits), 0),
        )
        flow.set_node_supply(self.source, self.households)
        flow.set_node_supply(self.sink, -self.households)
        status = flow.solve()
        if status != flow.OPTIMAL:
            raise SolverError(f"min-cost flow ended with status {status}")
        return self._chosen(flow)
