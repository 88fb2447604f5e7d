"""Repeated solves of one pair network under changing profits, warm-started.

The income quota's multiplier search solves the same network again and again with profits a
little different each time. OR-tools' min-cost flow starts from scratch at each solve; a
network simplex can restart from the previous solve's basis, which is still nearly optimal.
This is LEMON's network simplex through pylmcf (Boost licence, wheels for Linux): on a
5,000 x 5,000 quota round (6.2 million arcs) the first solve took 2.0 s against OR-tools'
3.5 s and each later one about 0.2 s against 3 s (measured; docs/benchmarks.md has the
rounds end to end).

Only `max_profit`'s model is solved here: flows housing any number of households (the
bypass arc carries the rest) or, on a network of_size(n), exactly n, optionally using
exactly a given number of first places. The round's own lexicographic solve stays with
OR-tools (flow.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.flow import IntArray, PairNetwork, SolverError


class WarmSimplex:
    """One pair network, solved for any pair profits; each solve starts from the last."""

    def __init__(self, network: PairNetwork) -> None:
        import pylmcf  # 0.15 s to load: only rounds with the quota do

        self.network = network
        tails, heads, capacities = network.model_arcs()
        # pylmcf takes arcs sorted by tail, then head; flows come back in that order.
        self.order = np.lexsort((heads, tails))
        self.graph = pylmcf.Graph(
            network.model_nodes,
            np.ascontiguousarray(tails[self.order], dtype=np.int32),
            np.ascontiguousarray(heads[self.order], dtype=np.int32),
        )
        self.graph.set_edge_capacities(np.ascontiguousarray(capacities[self.order]))
        supply = np.zeros(network.model_nodes, dtype=np.int64)
        housed = network.households if network.size is None else network.size
        for node, amount in network.supplies(housed).items():
            supply[node] = amount
        self.graph.set_node_supply(supply)
        self.arcs = int(tails.size)
        self.pair_arcs = slice(network.first_pair_arc, network.first_pair_arc + network.pairs)

    def max_profit(self, pair_profits: NDArray[np.integer[Any]]) -> NDArray[np.bool_]:
        """The pairs of a flow of maximum total profit (FlowNetwork.max_profit's model)."""
        flows = self._solve(pair_profits)
        chosen: NDArray[np.bool_] = flows[self.pair_arcs] > 0
        return chosen

    def reduced_costs(
        self, pair_profits: NDArray[np.integer[Any]], chosen: NDArray[np.bool_]
    ) -> IntArray:
        """Reduced costs of max_profit's model (in its arc order) at node potentials that
        prove `chosen` optimal for these profits. Solved again here (warm: at the search's
        last multiplier it is a few pivots), then checked against `chosen` on every arc, so
        that a flow that is not optimal is a SolverError, never a wrong proof."""
        self._solve(pair_profits)
        reduced: IntArray = np.empty(self.arcs, dtype=np.int64)
        reduced[self.order] = self.graph.reduced_costs()
        # Costs were shifted by `best` on every arc from the households' side to the units'
        # side (the pair arcs and the bypass): potentials absorb that, reduced costs do not
        # change.
        flows = self.network.arc_flows(chosen)
        _, _, capacities = self.network.model_arcs()
        if ((reduced < 0) & (flows < capacities)).any() or ((reduced > 0) & (flows > 0)).any():
            raise SolverError("the flow is not optimal: a residual arc has a negative reduced cost")
        return reduced

    def _solve(self, pair_profits: NDArray[np.integer[Any]]) -> IntArray:
        """Flows on every arc of max_profit's model at these pair profits."""
        network = self.network
        # Each unit of flow crosses exactly one pair arc or the bypass (worth 0), so costs of
        # best - profit give the same optima, and LEMON takes non-negative costs only.
        best = max(int(np.max(pair_profits, initial=0)), 0)
        costs = np.zeros(self.arcs, dtype=np.int64)
        costs[self.pair_arcs] = best - pair_profits
        if network.size is None:
            costs[-1] = best  # the bypass: housing nobody more
        self.graph.set_edge_costs(np.ascontiguousarray(costs[self.order]))
        self.graph.solve()
        flows: IntArray = np.empty(self.arcs, dtype=np.int64)
        flows[self.order] = self.graph.result()
        if flows.min(initial=0) < 0:
            raise SolverError("the network simplex returned a negative flow")
        return flows
