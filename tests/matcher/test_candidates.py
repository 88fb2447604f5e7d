"""Candidate generation (matcher/candidates.py): exactly the feasible pairs, held one by one
or as runs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher import Household, Instance, Point, Policy, Tuning, Unit
from matcher.candidates import Pairs, RoundTooLarge, generate_candidates
from matcher.score import score
from matcher.unit_table import UnitTable
from tests.matcher.references import SETTINGS, feasible_pairs, profile_limits
from tests.strategies import ROUND_DATE, chainable_instances, instances, policies


@SETTINGS
@given(data=st.data())
def test_candidates_are_exactly_the_feasible_pairs_with_their_scores(data: st.DataObject) -> None:
    """The vectorised generator finds every feasible pair and no other, scored as score()."""
    instance = data.draw(instances())
    policy = data.draw(policies(instance))
    table = UnitTable.build(instance, policy)
    candidates = generate_candidates(instance, policy, table)
    pairs = candidates.every_pair()
    found = {
        (h, u): s
        for h, u, s in zip(
            pairs.household.tolist(), pairs.unit.tolist(), pairs.score.tolist(), strict=True
        )
    }
    assert len(found) == len(candidates)  # no pair twice, single and in a run
    expected = {
        (h, u): score(instance.households[h], instance.units[u], policy)
        for h, u in feasible_pairs(instance, policy)
    }
    assert found == expected


def test_a_round_with_too_many_pairs_stops_with_a_clear_error() -> None:
    """Past the arc limit, generation stops early and says how to make the round smaller.
    (The household works, so its pairs are held one by one: no runs.)"""
    household = Household(
        id="h",
        adults=1,
        monthly_resources_eur=1500,
        registered_on=ROUND_DATE,
        workplaces=(Point(45.78, 3.08),),
    )
    units = tuple(
        Unit(
            id=f"u{i}",
            lat=45.78,
            lon=3.08,
            rooms=1,
            surface_m2=28,
            rent_eur=300,
            available_from=ROUND_DATE,
        )
        for i in range(3)
    )
    instance = Instance((household, replace(household, id="g")), units)
    policy = Policy(round_date=ROUND_DATE)
    table = UnitTable.build(instance, policy)
    assert len(generate_candidates(instance, policy, table, Tuning(max_arcs=6))) == 6
    with pytest.raises(RoundTooLarge, match=r"more than 5 feasible pairs.*split it"):
        generate_candidates(instance, policy, table, Tuning(max_arcs=5))


@SETTINGS
@given(data=st.data())
def test_runs_stand_for_exactly_the_feasible_pairs(data: st.DataObject) -> None:
    """On rounds where most pairs are held as runs: every feasible pair is found once, with
    score(); `contains` and `best_pairs_of` agree with the scalar rules; every pair of a run
    shares its score and its unit is among the class's cheapest. Past Tuning.max_profiles profile
    chains (drawn small here), households fall back to their classes' chains."""
    instance = data.draw(chainable_instances())
    policy = data.draw(policies(instance))
    tuning = Tuning(max_profiles=data.draw(profile_limits))
    table = UnitTable.build(instance, policy)
    candidates = generate_candidates(instance, policy, table, tuning=tuning)
    expected = {
        (h, u): score(instance.households[h], instance.units[u], policy)
        for h, u in feasible_pairs(instance, policy)
    }
    pairs = candidates.every_pair()
    found = dict(
        zip(
            zip(pairs.household.tolist(), pairs.unit.tolist(), strict=True),
            pairs.score.tolist(),
            strict=True,
        )
    )
    assert found == expected
    assert len(candidates) == len(expected)
    for h in range(len(instance.households)):
        for u in range(len(instance.units)):
            assert candidates.contains(h, u) is ((h, u) in expected)
    marked = np.array([data.draw(st.booleans()) for _ in instance.households], dtype=np.bool_)
    at_least = data.draw(st.integers(1, 4))
    best, counts = candidates.best_pairs_of(marked, at_least)
    taken = dict(
        zip(
            zip(best.household.tolist(), best.unit.tolist(), strict=True),
            best.score.tolist(),
            strict=True,
        )
    )
    assert len(taken) == best.score.size  # no pair twice
    for h in range(len(instance.households)):
        own = sorted((score, u) for (g, u), score in expected.items() if g == h)
        assert counts[h] == (len(own) if marked[h] else 0)
        mine = {u: score for (g, u), score in taken.items() if g == h}
        if not marked[h] or not own:
            assert not mine
            continue
        assert all(expected[(h, u)] == score for u, score in mine.items())
        # every pair scoring at least its at_least-th best is there (the ties too)
        cutoff = sorted((score for score, _ in own), reverse=True)[min(at_least, len(own)) - 1]
        assert {u for score, u in own if score >= cutoff} <= set(mine)
    runs, layout = candidates.runs, candidates.layout
    for run in range(len(runs)):
        h = int(runs.household[run])
        assert not instance.households[h].workplaces
        for position in range(int(runs.first[run]), int(runs.last[run]) + 1):
            unit = int(layout.unit_at(runs.chain[run : run + 1], np.r_[position])[0])
            assert expected[(h, unit)] == runs.score[run]


@SETTINGS
@given(data=st.data())
def test_runs_found_by_cost_equal_those_found_row_by_row(data: st.DataObject) -> None:
    """Households alike to one already scanned get their runs straight from their profiles'
    chains by binary search on the cost: the same pairs with the same scores as scanning
    their rows one by one."""
    instance = data.draw(chainable_instances(max_households=16, max_units=12))
    policy = data.draw(policies(instance))
    table = UnitTable.build(instance, policy)
    row_by_row = generate_candidates(
        instance, policy, table, Tuning(alike_by_cost=False)
    ).every_pair()
    by_cost = generate_candidates(instance, policy, table).every_pair()

    def scored(pairs: Pairs) -> dict[tuple[int, int], int]:
        return dict(
            zip(
                zip(pairs.household.tolist(), pairs.unit.tolist(), strict=True),
                pairs.score.tolist(),
                strict=True,
            )
        )

    assert scored(by_cost) == scored(row_by_row)
    assert by_cost.score.size == row_by_row.score.size
