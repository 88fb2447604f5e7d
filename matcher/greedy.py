"""Greedy assignments, the yardsticks the optimiser is compared with: households one after
another, each taking its best-scoring feasible unit that still has room (within
`candidates_per_unit` and `max_per_building`). They ignore pins and the income quota, and
can leave a household unhoused that an exchange would have
housed: the round report and the benchmark show how many more households the min-cost flow
houses on the same feasible pairs."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.candidates import Pairs
from matcher.explain import priorities
from matcher.types import Instance, Policy


def greedy(
    pairs: Pairs,
    rank: NDArray[Any],
    n_units: int,
    candidates_per_unit: int,
    building_of_unit: NDArray[Any] | None = None,
    max_per_building: int | None = None,
) -> list[tuple[int, int]]:
    """Households in the order of `rank` (lowest first, by household index), each taking
    its best-scoring pair whose unit has fewer than `candidates_per_unit` households and
    whose building (index, -1 for none) fewer than `max_per_building` matches."""
    order = np.lexsort((-pairs.score, rank[pairs.household]))
    load = np.zeros(n_units, dtype=np.int64)
    buildings = np.full(n_units, -1) if building_of_unit is None else building_of_unit
    building_load = np.zeros(int(buildings.max(initial=-1)) + 1, dtype=np.int64)
    done = np.zeros(rank.size, dtype=bool)
    assignment = []
    for index in order:
        h, u = int(pairs.household[index]), int(pairs.unit[index])
        if done[h] or load[u] >= candidates_per_unit:
            continue
        building = int(buildings[u])
        if max_per_building is not None and building >= 0:
            if building_load[building] >= max_per_building:
                continue
            building_load[building] += 1
        done[h] = True
        load[u] += 1
        assignment.append((h, u))
    return assignment


def _greedy(
    instance: Instance, policy: Policy, pairs: Pairs, rank: NDArray[Any]
) -> list[tuple[int, int]]:
    ids: dict[str, int] = {}
    building_of_unit = np.array(
        [
            -1 if u.building_id is None else ids.setdefault(u.building_id, len(ids))
            for u in instance.units
        ],
        dtype=np.int64,
    )
    return greedy(
        pairs,
        rank,
        len(instance.units),
        policy.candidates_per_unit,
        building_of_unit,
        policy.max_per_building,
    )


def first_come_first_served(
    instance: Instance, policy: Policy, pairs: Pairs
) -> list[tuple[int, int]]:
    """Households in order of registration (then of the instance), as a waiting list is
    served without an optimiser."""
    registered = np.array([h.registered_on.toordinal() for h in instance.households])
    rank = np.argsort(np.argsort(registered, kind="stable"), kind="stable")
    return _greedy(instance, policy, pairs, rank)


def by_priority(instance: Instance, policy: Policy, pairs: Pairs) -> list[tuple[int, int]]:
    """Households by priority points (waiting time and urgency), highest first."""
    return _greedy(instance, policy, pairs, -priorities(instance, policy))
