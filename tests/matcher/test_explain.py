"""Why a household is unmatched (matcher/explain.py): true reasons, checked against the rules."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from matcher import Household, Instance, Point, Policy, RoundResult, Tuning, Unit, check, solve
from matcher.candidates import barred_units_by_household
from matcher.masks import checks_of_every_unit, pair_checks
from matcher.rules import feasible, violations
from matcher.score import priority_points, score
from matcher.unit_table import UnitTable
from tests.matcher.references import SETTINGS, always_chained, blocks, feasible_pairs, quotas
from tests.strategies import ROUND_DATE, chainable_instances, competing_rounds, instances, policies


def check_outcompeted(instance: Instance, policy: Policy, result: RoundResult) -> int:
    """Checks every outcompeted household's explanation with the scalar rules and scores;
    returns how many there were. Each unit it names is feasible for it, named once, among
    its best by score then id, with what kept it: the households the unit went to (pinned
    or not), its building's cap, or the income quota."""
    from matcher.explain import MAX_LISTED_UNITS

    households = {h.id: h for h in instance.households}
    units = {u.id: u for u in instance.units}
    takers: dict[str, list[str]] = {}
    for m in result.matches:
        takers.setdefault(m.unit, []).append(m.household)
    pinned = {p.household: p.unit for p in result.pins if p.applied}
    per_building = Counter(units[m.unit].building_id for m in result.matches)
    count = 0
    for unmatched in result.unmatched:
        if unmatched.detail["kind"] != "outcompeted":
            continue
        count += 1
        household = households[unmatched.household]
        ranked = sorted(
            (u for u in instance.units if feasible(household, u, policy)),
            key=lambda u: (-score(household, u, policy), u.id),
        )
        assert unmatched.detail["feasible_unit_count"] == len(ranked)
        listed = unmatched.detail["feasible_units"]
        assert listed == [u.id for u in ranked[:MAX_LISTED_UNITS]]
        kept = unmatched.detail["kept_from_it"]
        assert [k["unit"] for k in kept] == listed
        for k in kept:
            unit = units[k["unit"]]
            if k["kept_by"] in ("household", "pin"):
                assert k["households"] == sorted(takers[unit.id], key=k["households"].index)
                assert set(k["households"]) == set(takers[unit.id])
                assert k["pinned"] == [t for t in k["households"] if pinned.get(t) == unit.id]
                assert (k["kept_by"] == "pin") is (k["pinned"] == k["households"])
            else:
                assert unit.id not in takers
                if k["kept_by"] == "building_cap":
                    assert policy.max_per_building is not None
                    assert per_building[unit.building_id] >= policy.max_per_building
                else:
                    assert k["kept_by"] == "income_quota"
                    assert policy.income_quota is not None
        check_passed_over(instance, policy, result, household, unmatched.detail, ranked)
    passed_over = [u for u in result.unmatched if u.detail.get("passed_over_count")]
    assert result.stats.passed_over_households == len(passed_over)
    urgent = sum(households[u.household].urgent for u in passed_over)
    assert result.stats.passed_over_urgent == urgent
    return count


def check_passed_over(
    instance: Instance,
    policy: Policy,
    result: RoundResult,
    household: Household,
    detail: dict[str, Any],
    ranked: list[Unit],
) -> None:
    """An unmatched household's feasible units that went to a household of lower priority
    (`ranked`: its feasible units, best first): counted, the best named, each with the
    lowest-priority taker and why, by the scalar scores."""
    from matcher.explain import MAX_NAMED_UNITS

    households = {h.id: h for h in instance.households}

    def priority(h: Household) -> int:
        return sum(priority_points(h, policy).values())

    takers: dict[str, list[Household]] = {}
    for m in result.matches:
        takers.setdefault(m.unit, []).append(households[m.household])
    pinned = {(p.household, p.unit) for p in result.pins if p.applied}
    passed = [
        u for u in ranked if any(priority(t) < priority(household) for t in takers.get(u.id, []))
    ]
    assert detail["passed_over_count"] == len(passed)
    listed = detail["passed_over"]
    assert len(listed) == min(len(passed), MAX_NAMED_UNITS)
    assert [item["unit"] for item in listed] == [u.id for u in passed[: len(listed)]]
    for item, unit in zip(listed, passed, strict=False):
        taker = min(
            (t for t in takers[unit.id] if priority(t) < priority(household)),
            key=lambda t: (priority(t), t.id),
        )
        assert item["went_to"] == taker.id
        assert item["its_score"] == score(household, unit, policy)
        assert item["their_score"] == score(taker, unit, policy)
        assert (item["its_priority"], item["their_priority"]) == (
            priority(household),
            priority(taker),
        )
        if (taker.id, unit.id) in pinned:
            assert item["why"] == "pin"
        elif item["their_score"] >= item["its_score"]:
            assert item["why"] == "fit_score"
        else:  # swapping them houses as many and scores more: only the quota forbids it
            assert item["why"] == "income_quota"
            assert policy.income_quota is not None


def test_no_feasible_unit_names_the_smallest_relaxation() -> None:
    """A worker whose only unit is 47 km away is told it fits at a 48 km maximum commute."""
    from datetime import date

    from matcher import Household, Unit

    worker = Household(
        id="w",
        adults=1,
        monthly_resources_eur=1400,
        registered_on=date(2026, 1, 1),
        workplaces=(Point(46.20, 3.08),),
    )
    studio = Unit(
        id="s",
        lat=45.78,
        lon=3.08,
        rooms=1,
        surface_m2=28,
        rent_eur=250,
        available_from=ROUND_DATE,
    )
    result = solve(Instance((worker,), (studio,)), Policy(round_date=ROUND_DATE))
    (unmatched,) = result.unmatched
    assert unmatched.detail["units_ruled_out_by"] == {"commute": 1}
    assert unmatched.detail["relaxations"] == [
        {"parameter": "max_commute_km", "value": 47.0, "units": 1}
    ]
    assert "1 unit(s) would fit if max commute were 47 km" in unmatched.reasons


@SETTINGS
@given(data=st.data())
def test_a_household_with_no_feasible_unit_is_told_what_each_rule_rules_out(
    data: st.DataObject,
) -> None:
    """Each rule's count equals a count with the scalar rules; and the checks behind it,
    which measure distances only within reach of the household's places or where every
    other rule passes, equal the checks measured on every unit wherever the explanation
    reads them: every pass or fail, and the value a rule failing alone would need."""
    instance = data.draw(instances())
    policy = data.draw(policies(instance))
    result = solve(instance, policy)
    household_index = {h.id: i for i, h in enumerate(instance.households)}
    for unmatched in result.unmatched:
        if unmatched.detail["kind"] != "no_feasible_unit":
            continue
        household = instance.households[household_index[unmatched.household]]
        ruled_out = Counter(
            str(v.rule) for unit in instance.units for v in violations(household, unit, policy)
        )
        assert unmatched.detail["units_ruled_out_by"] == dict(ruled_out)

    table = UnitTable.build(instance, policy)
    barred = barred_units_by_household(instance, policy)
    every_row = slice(0, len(instance.units))
    for h, household in enumerate(instance.households):
        measured = pair_checks(household, table, every_row, policy, barred.get(h, set()))
        lazily = checks_of_every_unit(household, table, policy, barred.get(h, set()))
        assert lazily.passes.keys() == measured.passes.keys()
        for rule, passes in measured.passes.items():
            assert np.array_equal(lazily.passes[rule], passes), rule
        failures = np.sum([~passes for passes in measured.passes.values()], axis=0)
        assert lazily.needed.keys() == measured.needed.keys()
        for rule, needed in measured.needed.items():
            alone = ~measured.passes[rule] & (failures == 1)
            assert np.array_equal(lazily.needed[rule][alone], needed[alone]), rule


def test_outcompeted_household_names_who_got_its_unit() -> None:
    """Two households, one unit: the longer-waiting one gets it, the other is told so."""
    from datetime import date

    from matcher import Household, Unit

    older = Household(
        id="older", adults=1, monthly_resources_eur=900, registered_on=date(2025, 6, 1)
    )
    newer = replace(older, id="newer", registered_on=date(2026, 9, 1))
    studio = Unit(
        id="s", lat=45.78, lon=3.08, rooms=1, surface_m2=28, rent_eur=250, available_from=ROUND_DATE
    )
    result = solve(Instance((newer, older), (studio,)), Policy(round_date=ROUND_DATE))
    assert [(m.household, m.unit) for m in result.matches] == [("older", "s")]
    (unmatched,) = result.unmatched
    assert unmatched.household == "newer"
    assert unmatched.reasons == ("its 1 feasible unit(s) went to others: s (to older)",)
    assert result.stats.justified_envy_pairs == 0


@SETTINGS
@given(data=st.data())
def test_justified_envy_counts_every_envious_pair(data: st.DataObject) -> None:
    """The envy count, over single pairs and runs, equals a count pair by pair with the
    scalar rules and scores."""
    instance = data.draw(chainable_instances())
    policy = data.draw(policies(instance))
    result = solve(instance, policy, tuning=always_chained(data.draw(blocks)))
    household_index = {h.id: i for i, h in enumerate(instance.households)}
    unit_index = {u.id: i for i, u in enumerate(instance.units)}
    own = {household_index[m.household]: unit_index[m.unit] for m in result.matches}
    takers: dict[int, list[int]] = {}
    for h, u in own.items():
        takers.setdefault(u, []).append(h)

    def priority(h: int) -> float:
        return sum(priority_points(instance.households[h], policy).values())

    envious = 0
    for h, u in feasible_pairs(instance, policy):
        if u == own.get(h) or not takers.get(u):
            continue
        pair_score = score(instance.households[h], instance.units[u], policy)
        own_score = (
            score(instance.households[h], instance.units[own[h]], policy) if h in own else None
        )
        if min(priority(t) for t in takers[u]) < priority(h) and (
            own_score is None or own_score < pair_score
        ):
            envious += 1
    assert result.stats.justified_envy_pairs == envious


@SETTINGS
@given(data=st.data())
def test_every_outcompeted_household_is_told_true_units_and_what_kept_them(
    data: st.DataObject,
) -> None:
    """On rounds with competition (more households than units), with or without a quota,
    chained or not: every unit an outcompeted household is told of is feasible for it by
    the scalar rules (its exclusions and forbidden pairs included), named once, among its
    best, and kept from it by a household, a pin, a building cap or the quota; its count
    is the true count. About 70% of examples have an outcompeted household (assume)."""
    chainable = data.draw(st.booleans())
    instance, policy = data.draw(competing_rounds(chainable=chainable))
    if data.draw(st.booleans()):
        policy = replace(policy, income_quota=data.draw(quotas))
    tuning = always_chained(data.draw(blocks)) if chainable else Tuning()
    result = solve(instance, policy, tuning=tuning)
    assert check.violations(instance, policy, result) == []
    assume(check_outcompeted(instance, policy, result) > 0)


def test_an_outcompeted_household_is_told_its_best_units_first() -> None:
    """Its reasons name its best-scoring units first, with who got them; its detail counts
    every feasible unit and lists the best at most MAX_LISTED_UNITS, by score then id."""
    from matcher.explain import MAX_LISTED_UNITS, MAX_NAMED_UNITS

    studios = tuple(
        Unit(
            id=f"s{i:03}",
            lat=45.78,
            lon=3.08,
            rooms=1,
            surface_m2=28,
            rent_eur=300 + 2 * i,
            available_from=ROUND_DATE,
        )
        for i in range(MAX_LISTED_UNITS + 20)
    )
    waiting = Household(
        id="w", adults=1, monthly_resources_eur=2000, registered_on=date(2026, 6, 1)
    )
    latest = replace(waiting, id="latest", registered_on=date(2026, 11, 1))
    households = (latest, *(replace(waiting, id=f"w{i:03}") for i in range(len(studios))))
    policy = Policy(round_date=ROUND_DATE)
    result = solve(Instance(households, studios), policy)
    (unmatched,) = result.unmatched
    assert unmatched.household == "latest"
    assert unmatched.detail["feasible_unit_count"] == len(studios)
    listed = unmatched.detail["feasible_units"]
    assert len(listed) == MAX_LISTED_UNITS
    by_id = {u.id: u for u in studios}
    ranked = sorted(studios, key=lambda u: (-score(latest, u, policy), u.id))
    assert listed == [u.id for u in ranked[:MAX_LISTED_UNITS]]
    assert score(latest, ranked[0], policy) > score(latest, by_id[listed[-1]], policy)
    (reason,) = unmatched.reasons
    assert reason.startswith(
        f"its {len(studios)} feasible unit(s) went to others: {listed[0]} (to "
    )
    assert reason.endswith(f" and {len(studios) - MAX_NAMED_UNITS} more")
