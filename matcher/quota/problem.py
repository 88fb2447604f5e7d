"""The income quota as one problem over a flow network: what each pair is worth, what it
weighs in the quota, and the flows found, each with its value.

The quota: of the matches on units outside priority neighbourhoods, at least a share s goes to
low-income households (annual resources per OECD consumption unit below a threshold). With
q = 1 - s for a low-income household on such a unit, q = -s for any other household on it and
q = 0 on a priority-neighbourhood unit, the quota reads sum(q x) >= 0: one side constraint on
an otherwise pure flow problem.

Values are scaled by SCALE = 1000 so that the share has a resolution of 0.1% and all costs
stay integers. A pair's value is SCALE * (big_m + score), so housing one more household
always beats any score difference, as in the quota-free round; with k > 1 candidates per unit
a pair on a unit's first place is worth SCALE * cover_weight more, which beats any number of
households housed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.flow import IntArray, PairNetwork
from matcher.income import is_low_income, quota_shortfall
from matcher.types import IncomeQuota, Instance

SCALE = 1000


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
class ValuedFlow:
    """A flow, as the pairs it takes, and its scaled value."""

    chosen: NDArray[np.bool_]
    value: int


@dataclass(frozen=True, slots=True)
class QuotaProblem:
    """The quota round on one network. A flow meets the quota when its `slack` is >= 0.

    The searches solve variants of the network that keep its pairs (flows of one size,
    flows using a given number of first places: FlowNetwork.of_size, using_first_places);
    `on` gives the same problem on such a variant."""

    network: PairNetwork
    values: IntArray  # per pair: SCALE * (big_m + score), plus `covers` on first places
    weights: IntArray  # per pair: q, scaled
    pinned_weight: int  # the pinned pairs' q, scaled
    big_m: int  # what one more household housed is worth, unscaled
    covers: IntArray | None = None  # per pair, with k > 1: SCALE * cover_weight on a first place

    def value(self, chosen: NDArray[np.bool_]) -> int:
        return int(self.values[chosen].sum())

    def slack(self, chosen: NDArray[np.bool_]) -> int:
        """sum(q x) + the pinned pairs' q: the quota holds when it is >= 0."""
        return self.pinned_weight + int(self.weights[chosen].sum())

    def valued(self, chosen: NDArray[np.bool_]) -> ValuedFlow:
        return ValuedFlow(chosen, self.value(chosen))

    @property
    def housed_outweighs_all(self) -> bool:
        """Whether housing one more household outweighs everything else a flow is worth (not
        so with k > 1, where a unit's first place weighs more): then a better flow never
        houses fewer."""
        return self.covers is None

    def on(self, network: PairNetwork) -> QuotaProblem:
        """This problem on a variant of its network (the same pairs)."""
        assert network.pairs == self.network.pairs, "a variant keeps the pairs"
        return replace(self, network=network)

    def restricted(self, kept: NDArray[np.int64]) -> QuotaProblem:
        """This problem on the pairs `kept` only (sorted positions), housing any number."""
        return replace(
            self,
            network=self.network.restricted(kept),
            values=self.values[kept],
            weights=self.weights[kept],
            covers=None if self.covers is None else self.covers[kept],
        )
