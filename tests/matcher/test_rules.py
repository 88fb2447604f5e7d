"""One feasible and one infeasible case for every hard rule (matcher/rules.py)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from matcher import CareSite, Household, Needs, Point, Policy, Unit, Weights, rules
from matcher.chains import unit_classes
from matcher.geo import EARTH_RADIUS_KM, haversine_km, reach_box
from matcher.profiles import requirement_signature
from matcher.rules import Rule, needed_rooms, required_surface_m2
from matcher.score import score_breakdown
from tests import strategies

POLICY = Policy(round_date=date(2026, 12, 1))
FAMILY = Household(
    id="h",
    adults=2,
    couple=True,
    children_ages=(4, 9),
    monthly_resources_eur=1600,
    housing_benefit_eur=300,
    registered_on=date(2026, 1, 1),
)
FLAT = Unit(
    id="u",
    lat=45.78,
    lon=3.08,
    rooms=3,
    surface_m2=60,
    rent_eur=400,
    charges_eur=80,
    available_from=date(2026, 12, 1),
    commune="Riom",
)


def failing(household: Household, unit: Unit, policy: Policy = POLICY) -> set[Rule]:
    return {v.rule for v in rules.violations(household, unit, policy)}


def test_reference_pair_is_feasible() -> None:
    """The family of four fits the three-room flat: every other test changes one thing."""
    assert failing(FAMILY, FLAT) == set()


@pytest.mark.parametrize(
    ("size", "required"), [(1, 9), (2, 16), (3, 25), (4, 34), (8, 70), (10, 70)]
)
def test_required_surface_follows_the_norm(size: int, required: float) -> None:
    """9 m2 alone, 16 for two, +9 per person, capped at 70."""
    assert required_surface_m2(size) == required


def test_surface() -> None:
    """34 m2 is the minimum for four persons."""
    assert Rule.SURFACE not in failing(FAMILY, replace(FLAT, surface_m2=34))
    assert Rule.SURFACE in failing(FAMILY, replace(FLAT, surface_m2=33.9))


@pytest.mark.parametrize(
    ("adults", "couple", "children", "needed"),
    [(1, False, 0, 2), (2, True, 0, 2), (2, False, 0, 3), (2, True, 3, 4), (3, True, 5, 6)],
)
def test_needed_rooms(adults: int, couple: bool, children: int, needed: int) -> None:
    """A living room, one for the couple, one per other adult, one per two children."""
    household = replace(FAMILY, adults=adults, couple=couple, children_ages=(5,) * children)
    assert needed_rooms(household) == needed


def test_min_rooms_and_the_allowed_shortfall() -> None:
    """Two rooms are too few for the family, unless the policy allows a one-room shortfall."""
    small = replace(FLAT, rooms=2)
    assert Rule.MIN_ROOMS in failing(FAMILY, small)
    assert Rule.MIN_ROOMS not in failing(FAMILY, small, replace(POLICY, room_shortfall_allowed=1))


def test_single_person_studio() -> None:
    """One person may take a one-room unit of at least 25 m2, not a smaller one."""
    single = replace(FAMILY, adults=1, couple=False, children_ages=())
    assert Rule.MIN_ROOMS not in failing(single, replace(FLAT, rooms=1, surface_m2=25))
    assert Rule.MIN_ROOMS in failing(single, replace(FLAT, rooms=1, surface_m2=24))


def test_max_rooms() -> None:
    """Four persons may have five rooms, not six (under-occupation)."""
    assert Rule.MAX_ROOMS not in failing(FAMILY, replace(FLAT, rooms=5, surface_m2=90))
    assert Rule.MAX_ROOMS in failing(FAMILY, replace(FLAT, rooms=6, surface_m2=100))


def test_wheelchair() -> None:
    """A wheelchair user needs an accessible unit."""
    user = replace(FAMILY, needs=Needs(wheelchair=True))
    assert Rule.WHEELCHAIR in failing(user, FLAT)
    assert Rule.WHEELCHAIR not in failing(user, replace(FLAT, wheelchair_accessible=True))


@pytest.mark.parametrize(
    ("floor", "elevator", "ok"),
    [(0, False, True), (-1, False, True), (3, True, True), (1, False, False)],
)
def test_step_free(floor: int, elevator: bool, ok: bool) -> None:
    """Reduced mobility needs the ground floor or an elevator; a wheelchair implies it."""
    unit = replace(FLAT, floor=floor, elevator=elevator, wheelchair_accessible=True)
    for needs in (Needs(reduced_mobility=True), Needs(wheelchair=True)):
        assert (Rule.STEP_FREE not in failing(replace(FAMILY, needs=needs), unit)) is ok


def test_care_distance() -> None:
    """The unit must be within the care site's maximum distance (about 11 km here)."""
    site = CareSite(45.88, 3.08, max_km=12)  # 0.1 degree of latitude north: 11.1 km
    assert Rule.CARE_DISTANCE not in failing(replace(FAMILY, needs=Needs(care_site=site)), FLAT)
    near = replace(site, max_km=11)
    violation = rules.care_distance(replace(FAMILY, needs=Needs(care_site=near)), FLAT, POLICY)
    assert violation is not None
    assert violation.needed == pytest.approx(11.12, abs=0.01)


def test_commute_is_checked_for_every_workplace() -> None:
    """Every working adult's workplace must be within the maximum commute."""
    near, far = Point(45.80, 3.08), Point(46.20, 3.08)  # about 2 km and 47 km away
    assert Rule.COMMUTE not in failing(replace(FAMILY, workplaces=(near,)), FLAT)
    assert Rule.COMMUTE in failing(replace(FAMILY, workplaces=(near, far)), FLAT)
    assert Rule.COMMUTE not in failing(
        replace(FAMILY, workplaces=(near, far)), FLAT, replace(POLICY, max_commute_km=50)
    )


def test_affordability() -> None:
    """Net cost (rent + charges - benefit) must not exceed the effort rate of resources."""
    # net cost 480 - 300 = 180; 35% of 515 = 180.25
    assert Rule.AFFORDABILITY not in failing(replace(FAMILY, monthly_resources_eur=515), FLAT)
    assert Rule.AFFORDABILITY in failing(replace(FAMILY, monthly_resources_eur=500), FLAT)


def test_excluded_commune_ignores_case_and_hyphens() -> None:
    """A commune the household excluded is never proposed, however it is spelt."""
    unit = replace(FLAT, commune="Saint-Ours")
    assert Rule.EXCLUDED_COMMUNE in failing(
        replace(FAMILY, excluded_communes=frozenset({"saint ours"})), unit
    )
    assert Rule.EXCLUDED_COMMUNE not in failing(
        replace(FAMILY, excluded_communes=frozenset({"Riom"})), unit
    )


def test_excluded_and_forbidden_pairs() -> None:
    """An earlier refusal or a coordinator's veto bars that exact pair only."""
    assert Rule.EXCLUDED_PAIR in failing(
        FAMILY, FLAT, replace(POLICY, excluded_pairs=frozenset({("h", "u")}))
    )
    assert Rule.EXCLUDED_PAIR in failing(
        FAMILY, FLAT, replace(POLICY, forbidden_pairs=frozenset({("h", "u")}))
    )
    assert Rule.EXCLUDED_PAIR not in failing(
        FAMILY, FLAT, replace(POLICY, forbidden_pairs=frozenset({("h", "other")}))
    )


def test_lease_kind() -> None:
    """A household needing a supported lease takes only units offered that way."""
    supported = replace(FAMILY, accepted_lease_kinds=frozenset({"sliding"}))
    assert Rule.LEASE_KIND in failing(supported, FLAT)
    assert Rule.LEASE_KIND not in failing(supported, replace(FLAT, lease_kind="sliding"))
    assert Rule.LEASE_KIND not in failing(FAMILY, replace(FLAT, lease_kind="intermediation"))


def test_availability_horizon() -> None:
    """Available within round date + horizon (60 days): 30 January, not 31 January."""
    assert Rule.AVAILABILITY not in failing(FAMILY, replace(FLAT, available_from=date(2027, 1, 30)))
    assert Rule.AVAILABILITY in failing(FAMILY, replace(FLAT, available_from=date(2027, 1, 31)))


@pytest.mark.parametrize(
    ("resources", "points"),
    [
        (1600, 320),  # budget 560, net cost 105: 81% left, eight whole tenths
        (1000, 280),  # budget 350: exactly 70% left, float error or not
        (303, 0),  # budget 106.05: 1% left
        (100_000, 360),  # 99.7% left: nine whole tenths
    ],
)
def test_affordability_points_count_whole_steps_of_the_budget_left(
    resources: float, points: int
) -> None:
    """The affordability points go in tenths of the effort budget left (10 steps), so that
    a unit class's units score alike within a cost band."""
    household = replace(FAMILY, monthly_resources_eur=resources, housing_benefit_eur=375)
    assert score_breakdown(household, FLAT, POLICY)["affordability"] == points
    finer = replace(POLICY, weights=Weights(affordability_steps=400))
    assert (
        score_breakdown(replace(FAMILY, monthly_resources_eur=1600), FLAT, finer)["affordability"]
        == 271
    )  # 380 of 560 left: 271.4 points, 271 whole 400ths


@settings(max_examples=500, deadline=None)
@given(
    lat=st.floats(-89.0, 89.0),
    lon=st.floats(-180.0, 180.0),
    km=st.floats(0.1, 3000.0),
    bearing=st.sampled_from([0.0, math.pi / 2, math.pi, 3 * math.pi / 2])
    | st.floats(0.0, 2 * math.pi),
    share=st.just(1.0) | st.floats(0.0, 1.0),
)
def test_the_reach_box_holds_every_point_within_reach(
    lat: float, lon: float, km: float, bearing: float, share: float
) -> None:
    """Any point within km (on any bearing, near the poles or across the date line) lies in
    the box the spatial index scans: it never drops a feasible unit."""
    angle = km * share / EARTH_RADIUS_KM
    phi, lam = math.radians(lat), math.radians(lon)
    phi2 = math.asin(
        math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(bearing)
    )
    lam2 = lam + math.atan2(
        math.sin(bearing) * math.sin(angle) * math.cos(phi),
        math.cos(angle) - math.sin(phi) * math.sin(phi2),
    )
    lat2, lon2 = math.degrees(phi2), (math.degrees(lam2) + 180) % 360 - 180
    assert haversine_km(lat, lon, lat2, lon2) <= km + 1e-9  # rounding
    half_lat, half_lon = reach_box(lat, km)
    assert abs(lat2 - lat) <= half_lat
    assert abs((lon2 - lon + 180) % 360 - 180) <= half_lon


def test_the_table_has_every_rule_once_in_order() -> None:
    """Every Rule has its line in RULES, in the enum's order (the order reasons count them),
    and every rule of scope PLACE or UNIT says when it passes every unit."""
    assert list(rules.RULES) == list(Rule)
    assert all(spec.check.__name__ == rule.value for rule, spec in rules.RULES.items())
    for spec in rules.RULES.values():
        needs_it = spec.scope in (rules.Scope.PLACE, rules.Scope.UNIT)
        assert (spec.passes_every_unit is not None) == needs_it


def test_a_relaxable_rule_says_what_it_needs() -> None:
    """A rule with a relaxation gives its Violation the value its parameter would need."""
    far = Point(46.5, 3.08)
    cases = {
        Rule.MIN_ROOMS: (FAMILY, replace(FLAT, rooms=2)),
        Rule.CARE_DISTANCE: (
            replace(FAMILY, needs=Needs(care_site=CareSite(46.5, 3.08, 10))),
            FLAT,
        ),
        Rule.COMMUTE: (replace(FAMILY, workplaces=(far,)), FLAT),
        Rule.AFFORDABILITY: (replace(FAMILY, monthly_resources_eur=300), FLAT),
        Rule.AVAILABILITY: (FAMILY, replace(FLAT, available_from=date(2027, 6, 1))),
    }
    relaxable = {rule for rule, spec in rules.RULES.items() if spec.relaxable is not None}
    assert relaxable == set(cases)
    for rule, (household, unit) in cases.items():
        (violation,) = [v for v in rules.violations(household, unit, POLICY) if v.rule is rule]
        assert (violation.needed or 0) > 0


# Units drawn from few values of every attribute, so that many share a class: within a class,
# every attribute the class key leaves out still varies.
coarse_units = st.builds(
    Unit,
    id=st.just("u"),
    lat=st.sampled_from([45.7, 45.8]),
    lon=st.sampled_from([3.0, 3.1]),
    rooms=st.integers(1, 3),
    surface_m2=st.sampled_from([9.0, 16.0, 24.9, 25.0, 25.0 - 1e-12, 30.0, 52.0]),
    rent_eur=st.sampled_from([200.0, 450.0]),
    charges_eur=st.sampled_from([0.0, 90.0]),
    available_from=st.sampled_from([date(2026, 12, 1), date(2027, 1, 15), date(2027, 9, 1)]),
    building_id=st.sampled_from(["b1", None]),
    commune=st.sampled_from(["A", "B"]),
    floor=st.integers(-1, 2),
    elevator=st.booleans(),
    wheelchair_accessible=st.booleans(),
    in_priority_neighbourhood=st.booleans(),
    lease_kind=st.sampled_from(["direct", "sliding"]),
)


def class_verdicts(household: Household, unit: Unit) -> dict[Rule, bool]:
    return {
        rule: spec.check(household, unit, POLICY) is None
        for rule, spec in rules.RULES.items()
        if spec.scope is rules.Scope.CLASS
    }


@settings(max_examples=300, deadline=None)
@given(
    st.lists(coarse_units, min_size=40, max_size=60),
    st.lists(strategies.households(0), min_size=1, max_size=3),
)
def test_the_class_key_covers_every_class_rule(
    units: list[Unit], households: list[Household]
) -> None:
    """Units of one class (matcher/chains.py) get the same verdict from every rule of scope
    CLASS, for any household: a rule reading an attribute the key leaves out fails here."""
    last_day = POLICY.round_date + timedelta(days=POLICY.horizon_days)
    usable = np.array([u.available_from <= last_day for u in units])
    classes = unit_classes(units, usable)
    shared = [c for c in set(classes.tolist()) if c >= 0 and (classes == c).sum() > 1]
    assume(shared)
    event(f"classes with several units: {min(len(shared), 5)}+")
    for household in households:
        for unit_class in shared:
            members = [units[i] for i in np.flatnonzero(classes == unit_class)]
            first = class_verdicts(household, members[0])
            assert all(class_verdicts(household, other) == first for other in members[1:])


@settings(max_examples=300, deadline=None)
@given(strategies.households(0), strategies.households(1), st.lists(coarse_units, max_size=20))
def test_households_alike_in_their_signature_get_the_same_class_verdicts(
    household: Household, other: Household, units: list[Unit]
) -> None:
    """Two households with the same requirement signature (what candidates.py shares
    profiles by) get the same verdict from every rule of scope CLASS on every unit: a rule
    reading a household attribute the signature leaves out fails here."""
    alike = replace(
        other,
        adults=household.adults,
        couple=household.couple,
        children_ages=household.children_ages,
        accepted_lease_kinds=household.accepted_lease_kinds,
        needs=replace(
            other.needs,
            wheelchair=household.needs.wheelchair,
            reduced_mobility=household.needs.reduced_mobility,
        ),
    )
    rows = slice(0, len(units))
    assert requirement_signature(household, rows) == requirement_signature(alike, rows)
    for unit in units:
        assert class_verdicts(household, unit) == class_verdicts(alike, unit)


@settings(max_examples=300, deadline=None)
@given(strategies.households(0), st.lists(coarse_units, min_size=1, max_size=20), st.data())
def test_a_rule_that_says_it_passes_every_unit_does(
    household: Household, units: list[Unit], data: st.DataObject
) -> None:
    """Where a rule's passes_every_unit says so, the rule passes every unit: households alike
    but for such rules are then handled through classes and costs (candidates.py)."""
    refused = data.draw(st.sets(st.integers(0, len(units) - 1), max_size=2))
    named = [replace(unit, id=f"u{i}") for i, unit in enumerate(units)]
    policy = replace(POLICY, excluded_pairs=frozenset((household.id, f"u{i}") for i in refused))
    for rule, spec in rules.RULES.items():
        if spec.passes_every_unit is not None and spec.passes_every_unit(household, refused):
            event(f"{rule} passes every unit")
            assert all(spec.check(household, unit, policy) is None for unit in named)
