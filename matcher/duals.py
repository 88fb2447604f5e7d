"""The duals of a pair network's flow: each arc's regret, how much the best profit must drop
for a flow to differ there (the absolute reduced cost at optimal node potentials). OR-tools
does not expose its duals; the quota's network simplex does (matcher/simplex.py, which
checks them against the flow). Only the quota's exact closing uses them
(matcher/quota/close.py): a flow whose arcs differ from the optimal one by d_a has a profit
at most the best minus the sum of regret_a * |d_a|, so a gap can be closed on the few arcs
whose regret is small."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matcher.flow import IntArray, PairNetwork


@dataclass(frozen=True, slots=True)
class Regrets:
    """Per arc of max_profit's model, grouped by kind, with the anchor flow's load on each
    unit and building arc."""

    pairs: IntArray
    households: IntArray
    units: IntArray
    unit_loads: IntArray
    buildings: IntArray
    building_loads: IntArray


def regrets(network: PairNetwork, reduced: IntArray, chosen: NDArray[np.bool_]) -> Regrets:
    """The regrets of `chosen` from optimal reduced costs of max_profit's model."""
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
