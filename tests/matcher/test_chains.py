"""Chains of units (matcher/chains.py): rounds held as runs equal their exhaustive optimum."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from matcher import Household, Instance, Needs, Policy, check, solve
from matcher.candidates import generate_candidates
from matcher.flow import FlowNetwork
from matcher.unit_table import UnitTable
from tests.matcher.references import (
    SETTINGS,
    alike_units,
    always_chained,
    best_by_exhaustive_search,
    blocks,
    objective_of,
    profile_limits,
    quotas,
)
from tests.strategies import ROUND_DATE, chainable_instances, competing_rounds, policies


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_chained_rounds_are_valid_and_equal_the_exhaustive_optimum(data: st.DataObject) -> None:
    """Households without a workplace enter chains of a unit class's units instead of one
    arc per pair (matcher/chains.py): the round is still valid, houses the maximum and
    equals the exhaustive optimum, with or without the quota, and with profile chains or
    (past Tuning.max_profiles) class chains."""
    instance = data.draw(chainable_instances(max_households=6, max_units=5))
    policy = data.draw(policies(instance, allow_pins=False))
    if data.draw(st.booleans()):
        policy = replace(policy, income_quota=data.draw(quotas), max_effort_rate=0.5)
    tuning = always_chained(data.draw(blocks), data.draw(profile_limits))
    result = solve(instance, policy, tuning=tuning)
    assert check.violations(instance, policy, result) == []
    assert result.stats.optimal
    assert objective_of(instance, policy, result) == best_by_exhaustive_search(instance, policy)


def test_households_without_a_place_enter_a_chain_once_per_score_step() -> None:
    """Households without a workplace, alike units at rising rents: every household that
    can afford a unit enters the chain once per affordability step; the one excluding a
    unit's commune, and the one preferring the dearest unit's, keep one arc per pair; the
    round equals its exhaustive optimum."""
    alike = tuple(
        replace(unit, commune="B" if unit.rent_eur == 300 else "A")
        for unit in alike_units(300, 310, 400, 600)
    )
    units = (*alike, replace(alike[-1], id="u620", rent_eur=620, commune="C"))
    households = (
        Household(id="rich", adults=1, monthly_resources_eur=2000, registered_on=ROUND_DATE),
        Household(id="poor", adults=1, monthly_resources_eur=1000, registered_on=ROUND_DATE),
        Household(
            id="picky",
            adults=1,
            monthly_resources_eur=2000,
            registered_on=ROUND_DATE,
            excluded_communes=frozenset({"B"}),
        ),
        Household(
            id="fond",
            adults=1,
            monthly_resources_eur=2000,
            registered_on=ROUND_DATE,
            preferred_communes=frozenset({"C"}),
        ),
    )
    instance = Instance(households, units)
    policy = Policy(round_date=ROUND_DATE)
    candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
    network = FlowNetwork.build(instance, policy, candidates, {}, always_chained(2))
    assert network.chained is not None
    unit_chains = network.chained.chains
    # rich (budget 700): 300 and 310 leave 5 tenths, 400 leaves 4, 600 and 620 leave 1:
    # 3 steps. poor (budget 350): 300 and 310 leave 1 tenth: one step. picky: a hole at
    # 300. fond: 620 scores more than 600.
    assert len(unit_chains.runs) == 4
    assert network.pair_household[: unit_chains.single].tolist() == [2] * 4 + [3] * 5
    result = solve(instance, policy, tuning=always_chained(2))
    assert objective_of(instance, policy, result) == best_by_exhaustive_search(instance, policy)


def test_households_accepting_several_classes_alike_share_one_chain() -> None:
    """A household without needs scores plain and wheelchair-accessible units alike but for
    their cost: it enters one chain of both classes' units, by cost, once per affordability
    step. A household needing wheelchair access enters the accessible class's own chain, so
    those units sit in two chains. The round equals its exhaustive optimum."""
    plain = alike_units(300, 350, 400)
    accessible = tuple(replace(unit, wheelchair_accessible=True) for unit in alike_units(320, 380))
    anyone = Household(id="any", adults=1, monthly_resources_eur=2000, registered_on=ROUND_DATE)
    wheelchair = replace(anyone, id="wheelchair", needs=Needs(wheelchair=True))
    instance = Instance((anyone, wheelchair), plain + accessible)
    policy = Policy(round_date=ROUND_DATE)
    candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
    layout, runs = candidates.layout, candidates.runs
    chains_by_units = {
        tuple(instance.units[u].id for u in layout.unit_at(np.full(n, c), np.arange(n))): c
        for c, n in enumerate(layout.chain_lengths().tolist())
    }
    assert set(chains_by_units) == {("u300", "u320", "u350", "u380", "u400"), ("u320", "u380")}
    assert not candidates.single.household.size  # every pair is in a run
    merged = chains_by_units[("u300", "u320", "u350", "u380", "u400")]
    # budget 700: 300, 320 and 350 leave 5 tenths of it, 380 and 400 leave 4
    assert list(
        zip(
            runs.household.tolist(),
            runs.chain.tolist(),
            runs.first.tolist(),
            runs.last.tolist(),
            strict=True,
        )
    ) == [
        (0, merged, 0, 2),
        (0, merged, 3, 4),
        (1, chains_by_units[("u320", "u380")], 0, 0),
        (1, chains_by_units[("u320", "u380")], 1, 1),
    ]
    result = solve(instance, policy, tuning=always_chained(2))
    assert objective_of(instance, policy, result) == best_by_exhaustive_search(instance, policy)


@SETTINGS
@given(data=st.data())
def test_pins_on_pairs_held_as_runs_are_kept(data: st.DataObject) -> None:
    """A pin on a pair a run stands for is found feasible and kept; the round stays valid
    and chained. About 92% of the competing rounds drawn have runs (62% before); the rest
    are rejected."""
    instance, policy = data.draw(competing_rounds(chainable=True))
    policy = replace(policy, pinned_pairs=frozenset())
    candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
    assume(len(candidates.runs))
    run = data.draw(st.integers(0, len(candidates.runs) - 1))
    position = data.draw(
        st.integers(int(candidates.runs.first[run]), int(candidates.runs.last[run]))
    )
    h = int(candidates.runs.household[run])
    u = int(candidates.layout.unit_at(candidates.runs.chain[run : run + 1], np.r_[position])[0])
    pin = (instance.households[h].id, instance.units[u].id)
    policy = replace(policy, pinned_pairs=frozenset({pin}))
    result = solve(instance, policy, tuning=always_chained(data.draw(blocks)))
    assert check.violations(instance, policy, result) == []
    assert [p.applied for p in result.pins] == [True]
    assert pin in {(m.household, m.unit) for m in result.matches}


def test_a_household_entering_a_block_is_placed_before_one_passing_through() -> None:
    """Blocks of two, eight alike units: three levels (8 slots, 4 blocks, 2 blocks of
    blocks). "rich" can afford all eight at one score, "modest" the four cheapest. In the
    flow where rich enters the block of blocks below its own (positions 0-3) and modest
    enters at its dearest unit (position 3, reaching down to 2), the pairs found are exactly
    those: the household whose reach ends first must get the unit both reach."""
    units = alike_units(401, 402, 403, 404, 405, 406, 407, 408)
    rich = Household(id="rich", adults=1, monthly_resources_eur=1170, registered_on=ROUND_DATE)
    modest = replace(rich, id="modest", monthly_resources_eur=1155)
    instance = Instance((rich, modest), units)
    policy = Policy(round_date=ROUND_DATE)
    candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
    network = FlowNetwork.build(instance, policy, candidates, {}, always_chained(2))
    result = solve(instance, policy, tuning=always_chained(2))
    assert network.chained is not None
    unit_chains = network.chained.chains
    assert unit_chains.runs.household.tolist() == [0, 1]  # one run each
    assert unit_chains.runs.last.tolist() == [7, 3]
    reach = list(
        zip(
            unit_chains.entry_run.tolist(),
            unit_chains.entry_top.tolist(),
            unit_chains.entry_floor.tolist(),
            strict=True,
        )
    )
    # rich: its slot (6-7), the block below at level 1 (4-5), the level-2 block below (0-3);
    # modest: its slot (2-3) and the block below at level 1 (0-1).
    assert sorted(reach) == [(0, 3, 0), (0, 5, 4), (0, 7, 6), (1, 1, 0), (1, 3, 2)]
    entered = np.array([entry in {(0, 3, 0), (1, 3, 2)} for entry in reach])
    slot_inflow = np.zeros(8, dtype=np.int64)  # one chain: slot i holds unit i
    slot_inflow[[0, 3]] = 1
    households, units_taken = network.pairs_at(unit_chains.pairs_of_flow(entered, slot_inflow))
    assert sorted(zip(households.tolist(), units_taken.tolist(), strict=True)) == [(0, 0), (1, 3)]
    assert len(result.matches) == 2


@SETTINGS
@given(data=st.data())
def test_a_runs_entries_reach_each_position_up_to_its_dearest_once(data: st.DataObject) -> None:
    """However a chain is cut into blocks, the entries of a run reach every position from
    the chain's cheapest up to the run's dearest unit, each exactly once (so a household can
    take each of its units by exactly one path), with at most `block` - 1 entries a level
    besides the run's own slot."""
    instance = data.draw(chainable_instances())
    policy = data.draw(policies(instance))
    block = data.draw(blocks)
    candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
    network = FlowNetwork.build(instance, policy, candidates, {}, always_chained(block))
    assume(network.chained is not None)
    assert network.chained is not None
    chains = network.chained.chains
    longest = int(chains.layout.chain_lengths().max())
    levels = max(1, math.ceil(math.log(longest, block))) if longest > 1 else 1
    event(f"{'nested' if levels > 1 else 'one level of'} blocks")
    for run in range(len(chains.runs)):
        mine = chains.entry_run == run
        floors, tops = chains.entry_floor[mine].tolist(), chains.entry_top[mine].tolist()
        reaches = sorted(zip(floors, tops, strict=True))
        covered = [p for floor, top in reaches for p in range(floor, top + 1)]
        assert covered == list(range(int(chains.runs.last[run]) + 1))
        assert len(reaches) <= 1 + levels * (block - 1)
