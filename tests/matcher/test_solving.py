"""The round end to end (matcher/solving.py): valid, housing the most, then the best score."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import Household, IncomeQuota, Instance, Policy, Status, Tuning, Unit, check, solve
from matcher.candidates import RoundTooLarge, generate_candidates
from matcher.unit_table import UnitTable
from tests.matcher.references import (
    SETTINGS,
    alike_units,
    best_by_exhaustive_search,
    fills_units_first,
    max_matchable,
    objective_of,
)
from tests.strategies import ROUND_DATE, competing_rounds, instances, policies


@SETTINGS
@given(data=st.data())
def test_every_result_is_valid_and_houses_the_maximum(data: st.DataObject) -> None:
    """No rule or capacity is broken, every unmatched household has reasons, and as many
    households are matched as scipy's independent max-flow says is possible."""
    instance = data.draw(instances())
    policy = data.draw(policies(instance, allow_pins=False))
    result = solve(instance, policy)
    assert check.violations(instance, policy, result) == []
    if fills_units_first(policy):
        # units first: as many get a candidate as one candidate per unit would house; without
        # building caps some maximum flow does that too (Mendelsohn-Dulmage)
        one_each = replace(policy, candidates_per_unit=1)
        assert result.stats.units_with_candidates == max_matchable(instance, one_each)
        if policy.max_per_building is None:
            assert result.stats.matched == max_matchable(instance, policy)
    else:
        assert result.stats.matched == max_matchable(instance, policy)
    assert result.stats.candidates == result.stats.matched == len(result.matches)
    assert all(u.reasons for u in result.unmatched)
    assert result.stats.objective == check.objective(instance, policy, result)[1]
    if result.stats.candidate_pairs == 0:
        assert result.status is Status.NO_CANDIDATES
        assert result.matches == ()


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_total_score_is_the_exhaustive_optimum(data: st.DataObject) -> None:
    """On tiny rounds with competition (more households than units), the lexicographic
    objective equals the best found by trying everything. 55-80% of the examples house
    someone (measured over runs of 200; 16% before competing rounds); the rest check that
    nothing feasible is missed."""
    instance, policy = data.draw(competing_rounds(max_households=5, max_units=4))
    policy = replace(policy, pinned_pairs=frozenset())
    result = solve(instance, policy)
    assert objective_of(instance, policy, result) == best_by_exhaustive_search(instance, policy)


@SETTINGS
@given(data=st.data())
def test_feasible_pins_are_kept_and_others_explained(data: st.DataObject) -> None:
    """An applied pin is in the result; a refused pin says why; the result stays valid."""
    instance = data.draw(instances())
    policy = data.draw(policies(instance))
    result = solve(instance, policy)
    assert check.violations(instance, policy, result) == []
    matched = {(m.household, m.unit) for m in result.matches}
    assert {(p.household, p.unit) for p in result.pins} == set(policy.pinned_pairs)
    for pin in result.pins:
        assert ((pin.household, pin.unit) in matched) is pin.applied
        assert pin.reason


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_results_are_deterministic(data: st.DataObject) -> None:
    """The same input gives the same matches, ranks and reasons."""
    instance = data.draw(instances())
    policy = data.draw(policies(instance))
    first, second = solve(instance, policy), solve(instance, policy)
    assert first.matches == second.matches
    assert first.unmatched == second.unmatched


def test_units_get_a_candidate_first_even_where_a_building_cap_binds() -> None:
    """k = 2, a building capped at 2 holding units x and y, a unit z outside it. a1 and a2
    can take only x, d only y or z, f only z. Housing the most (four: a1, a2 on x, d and f
    on z) leaves y empty; giving the most units a candidate (three) houses three: x, y, z
    each get one, which is what the round must do."""
    person = Household(id="a1", adults=1, monthly_resources_eur=1500, registered_on=ROUND_DATE)
    people = (person, *(replace(person, id=name) for name in ("a2", "d", "f")))
    studio = Unit(
        id="x", lat=45.78, lon=3.08, rooms=1, surface_m2=28, rent_eur=300,
        available_from=ROUND_DATE, building_id="b",
    )  # fmt: skip
    units = (studio, replace(studio, id="y"), replace(studio, id="z", building_id=None))
    can_take = {"a1": {"x"}, "a2": {"x"}, "d": {"y", "z"}, "f": {"z"}}
    forbidden = frozenset(
        (h, u.id) for h, allowed in can_take.items() for u in units if u.id not in allowed
    )
    policy = Policy(
        round_date=ROUND_DATE,
        candidates_per_unit=2,
        max_per_building=2,
        forbidden_pairs=forbidden,
    )
    instance = Instance(people, units)
    result = solve(instance, policy)
    assert check.violations(instance, policy, result) == []
    assert result.stats.units_with_candidates == 3
    assert result.stats.matched == result.stats.candidates == 3
    assert objective_of(instance, policy, result) == best_by_exhaustive_search(instance, policy)
    # with one candidate per unit the same three units are filled
    assert solve(instance, replace(policy, candidates_per_unit=1)).stats.matched == 3


def test_a_quota_round_too_large_to_hold_pair_by_pair_stops_with_a_clear_error() -> None:
    """The quota weighs pairs one by one: a round whose runs stand for more pairs than can be
    held stops with the same message as one too large to generate, not by exhausting the
    machine."""
    units = alike_units(300, 310, 320)
    poor = Household(
        id="poor",
        adults=1,
        monthly_resources_eur=500,
        housing_benefit_eur=200,
        registered_on=ROUND_DATE,
    )
    well_off = replace(poor, id="well-off", monthly_resources_eur=3000)
    instance = Instance((poor, well_off), units)
    policy = Policy(round_date=ROUND_DATE, income_quota=IncomeQuota(1.0, 8000.0))
    candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
    assert len(candidates) == 6
    assert candidates.arcs < 6  # held as runs
    assert check.violations(instance, policy, solve(instance, policy)) == []
    with pytest.raises(RoundTooLarge, match=r"more than \d feasible pairs.*split it"):
        solve(instance, policy, tuning=Tuning(max_arcs=candidates.arcs))
