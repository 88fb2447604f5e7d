"""The greedy yardsticks (matcher/greedy.py) the round report compares the optimiser with."""

from __future__ import annotations

from datetime import date

import numpy as np

from matcher import Household, Instance, Policy, Unit
from matcher.candidates import Pairs
from matcher.greedy import first_come_first_served, greedy


def pairs(*triples: tuple[int, int, int]) -> Pairs:
    household, unit, score = (
        np.array(column, dtype=np.int32) for column in zip(*triples, strict=True)
    )
    return Pairs(household, unit, score)


def test_each_household_in_turn_takes_its_best_free_unit() -> None:
    """Household 0 goes first and takes unit 0, the only unit household 1 could have had:
    greedy houses one where an exchange houses both."""
    feasible = pairs((0, 0, 10), (0, 1, 5), (1, 0, 8))
    assert greedy(feasible, np.array([0, 1]), n_units=2, candidates_per_unit=1) == [(0, 0)]
    assert greedy(feasible, np.array([1, 0]), n_units=2, candidates_per_unit=1) == [
        (1, 0),
        (0, 1),
    ]


def test_a_unit_takes_up_to_k_candidates() -> None:
    feasible = pairs((0, 0, 10), (1, 0, 9), (2, 0, 8))
    assert greedy(feasible, np.array([0, 1, 2]), n_units=1, candidates_per_unit=2) == [
        (0, 0),
        (1, 0),
    ]


def test_first_come_first_served_follows_the_registration_dates() -> None:
    """The household registered first chooses first, whatever its place in the instance."""
    later = Household("late", adults=1, registered_on=date(2026, 5, 1))
    earlier = Household("early", adults=1, registered_on=date(2026, 1, 1))
    units = tuple(Unit(f"U{i}", 45.8, 3.1, 2, 40.0, 300.0, date(2026, 6, 1)) for i in range(2))
    instance = Instance((later, earlier), units)
    feasible = pairs((0, 0, 10), (1, 0, 10), (0, 1, 1))
    policy = Policy(round_date=date(2026, 6, 1))
    assert first_come_first_served(instance, policy, feasible) == [(1, 0), (0, 1)]


def test_a_building_takes_up_to_its_cap() -> None:
    """Units 0 and 1 share building 0 capped at one match: the second household goes to
    unit 2 in another building."""
    feasible = pairs((0, 0, 10), (1, 1, 10), (1, 2, 5))
    buildings = np.array([0, 0, 1])
    assert greedy(feasible, np.array([0, 1]), 3, 1, buildings, max_per_building=1) == [
        (0, 0),
        (1, 2),
    ]
