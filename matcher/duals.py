"""The duals of a pair network's flow: node potentials that prove a flow optimal for given
pair profits, and each arc's regret (how much the best profit must drop for a flow to differ
there). OR-tools does not expose its duals, so they are found again from the flow, by a
vectorised Bellman-Ford on its residual graph. Only the quota's exact closing uses them
(matcher/quota/close.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matcher.flow import IntArray, PairNetwork, SolverError


@dataclass(frozen=True, slots=True)
class Regrets:
    """Per arc of max_profit's model (see `regrets`), grouped by kind, with the
    anchor flow's load on each unit and building arc."""

    pairs: IntArray
    households: IntArray
    units: IntArray
    unit_loads: IntArray
    buildings: IntArray
    building_loads: IntArray


def potentials(network: PairNetwork, pair_profits: IntArray, chosen: NDArray[np.bool_]) -> IntArray:
    """Node potentials that prove `chosen` a maximum-profit flow (max_profit's model):
    shortest distances in its residual graph. Checked on every residual arc; a failure means
    `chosen` is not optimal, a bug, raised as SolverError."""
    tails, heads, capacities = network.model_arcs()
    costs = network.model_costs(pair_profits)
    flows = network.arc_flows(chosen)
    forward, backward = flows < capacities, flows > 0
    potential = shortest_distances(
        network.model_nodes,
        np.concatenate([tails[forward], heads[backward]]),
        np.concatenate([heads[forward], tails[backward]]),
        np.concatenate([costs[forward], -costs[backward]]),
    )
    reduced = costs + potential[tails] - potential[heads]
    if (reduced[forward] < 0).any() or (reduced[backward] > 0).any():
        raise SolverError("the flow is not optimal: a residual arc has a negative reduced cost")
    return potential


def regrets(network: PairNetwork, pair_profits: IntArray, chosen: NDArray[np.bool_]) -> Regrets:
    """How much the best profit must drop for a flow to differ from `chosen` on each arc:
    the absolute reduced costs at node potentials that prove `chosen` a maximum-profit flow
    (max_profit's model). A flow whose arcs differ from `chosen` by d_a has a profit at most
    the best minus the sum of regret_a * |d_a|: what lets a gap be closed on the few arcs
    whose regret is small."""
    potential = potentials(network, pair_profits, chosen)
    tails, heads, _ = network.model_arcs()
    reduced = network.model_costs(pair_profits) + potential[tails] - potential[heads]
    regret = np.abs(reduced)
    flows = network.arc_flows(chosen)
    pairs_end = network.first_pair_arc + network.pairs
    units_end = pairs_end + network.units
    return Regrets(
        pairs=regret[network.first_pair_arc : pairs_end],
        households=regret[: network.first_pair_arc],
        units=regret[pairs_end:units_end],
        unit_loads=flows[pairs_end:units_end],
        buildings=regret[units_end : network.arc_count],
        building_loads=flows[units_end : network.arc_count],
    )


def shortest_distances(
    nodes: int, tails: NDArray[np.int32], heads: NDArray[np.int32], costs: IntArray
) -> IntArray:
    """Shortest distance to every node from a virtual root joined to each at cost 0, by
    Bellman-Ford with each round over all arcs at once. Rounds = arcs on the longest shortest
    path, a few dozen on round networks. The graph must have no negative cycle."""
    distance = np.zeros(nodes, dtype=np.int64)
    if not tails.size:
        return distance
    order = np.argsort(heads, kind="stable")
    tails, heads, costs = tails[order], heads[order], costs[order]
    del order
    starts = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]])
    targets = heads[starts]
    for _ in range(nodes + 1):
        best = np.minimum.reduceat(distance[tails] + costs, starts)
        improved = best < distance[targets]
        if not improved.any():
            return distance
        distance[targets[improved]] = best[improved]
    raise SolverError("negative cycle in a residual graph")
