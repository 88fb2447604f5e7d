"""Hypothesis strategies: small random rounds around one town, dense enough to compete."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import strategies as st

from matcher import CareSite, Household, Instance, Needs, Point, Policy, Unit

ROUND_DATE = date(2026, 12, 1)
CENTRE = (45.78, 3.08)

offsets = st.floats(min_value=-0.6, max_value=0.6, allow_nan=False)


@st.composite
def points(draw: st.DrawFn) -> Point:
    return Point(CENTRE[0] + draw(offsets), CENTRE[1] + draw(offsets))


@st.composite
def households(draw: st.DrawFn, index: int) -> Household:
    adults = draw(st.integers(1, 3))
    couple = adults >= 2 and draw(st.booleans())
    site = None
    if draw(st.integers(0, 9)) == 0:
        place = draw(points())
        site = CareSite(place.lat, place.lon, draw(st.sampled_from([10.0, 25.0, 60.0])))
    return Household(
        id=f"h{index}",
        adults=adults,
        couple=couple,
        children_ages=tuple(draw(st.lists(st.integers(0, 18), max_size=4))),
        monthly_resources_eur=draw(st.floats(0, 2500, allow_nan=False)),
        housing_benefit_eur=draw(st.floats(0, 400, allow_nan=False)),
        workplaces=tuple(draw(st.lists(points(), max_size=min(adults, 2)))),
        needs=Needs(
            wheelchair=draw(st.integers(0, 9)) == 0,
            reduced_mobility=draw(st.integers(0, 5)) == 0,
            care_site=site,
        ),
        preferred_communes=frozenset(draw(st.sets(st.sampled_from(["A", "B", "C"]), max_size=1))),
        excluded_communes=frozenset(draw(st.sets(st.sampled_from(["A", "B", "C"]), max_size=1))),
        # a few common dates, so that priorities tie (the envy count compares them)
        registered_on=ROUND_DATE
        - timedelta(days=draw(st.one_of(st.integers(0, 900), st.sampled_from([30, 365])))),
        urgent=draw(st.integers(0, 7)) == 0,
        accepted_lease_kinds=draw(
            st.sampled_from([frozenset(), frozenset(), frozenset({"sliding", "intermediation"})])
        ),
    )


@st.composite
def units(draw: st.DrawFn, index: int) -> Unit:
    place = draw(points())
    rooms = draw(st.integers(1, 6))
    return Unit(
        id=f"u{index}",
        lat=place.lat,
        lon=place.lon,
        rooms=rooms,
        surface_m2=draw(st.floats(8, 30 + 18 * rooms, allow_nan=False)),
        rent_eur=draw(st.floats(100, 700, allow_nan=False)),
        charges_eur=draw(st.floats(0, 150, allow_nan=False)),
        available_from=ROUND_DATE + timedelta(days=draw(st.integers(-30, 90))),
        building_id=draw(st.sampled_from(["b1", "b2", "b3", None])),
        commune=draw(st.sampled_from(["A", "B", "C"])),
        floor=draw(st.integers(-1, 6)),
        elevator=draw(st.booleans()),
        wheelchair_accessible=draw(st.booleans()),
        in_priority_neighbourhood=draw(st.booleans()),
        lease_kind=draw(st.sampled_from(["direct", "direct", "sliding", "intermediation"])),
    )


@st.composite
def instances(
    draw: st.DrawFn,
    max_households: int = 12,
    max_units: int = 10,
    min_households: int = 0,
    min_units: int = 0,
) -> Instance:
    n_households = draw(st.integers(min_households, max_households))
    n_units = draw(st.integers(min_units, max_units))
    return Instance(
        tuple(draw(households(i)) for i in range(n_households)),
        tuple(draw(units(i)) for i in range(n_units)),
    )


@st.composite
def policies(draw: st.DrawFn, instance: Instance, allow_pins: bool = True) -> Policy:
    pairs = [(h.id, u.id) for h in instance.households for u in instance.units]
    pick = st.sets(st.sampled_from(pairs), max_size=3) if pairs else st.just(set())
    return Policy(
        round_date=ROUND_DATE,
        max_commute_km=draw(st.sampled_from([20.0, 40.0, 80.0])),
        max_effort_rate=draw(st.sampled_from([0.25, 0.35, 0.5])),
        room_shortfall_allowed=draw(st.integers(0, 1)),
        candidates_per_unit=draw(st.integers(1, 3)),
        max_per_building=draw(st.sampled_from([None, None, 1, 2])),
        excluded_pairs=frozenset(draw(pick)),
        forbidden_pairs=frozenset(draw(pick)),
        pinned_pairs=frozenset(draw(pick)) if allow_pins else frozenset(),
    )


@st.composite
def chainable_instances(
    draw: st.DrawFn,
    max_households: int = 12,
    max_units: int = 10,
    min_households: int = 0,
    min_units: int = 0,
) -> Instance:
    """Rounds whose units fall in few classes (alike but for cost and place) and whose
    households mostly have no workplace or care site: what matcher/chains.py groups. Units
    differ in surface band, access and lease kind, and households in what they accept, so
    requirement profiles span several classes and overlap (a unit in several chains)."""
    instance = draw(instances(max_households, max_units, min_households, min_units))
    units = tuple(
        replace(
            unit,
            rooms=(rooms := draw(st.integers(2, 3))),
            surface_m2=draw(st.sampled_from([20.0 + 15 * rooms, 30.0 + 20 * rooms])),
            floor=draw(st.sampled_from([0, 0, 3])),
            wheelchair_accessible=draw(st.integers(0, 3)) == 0,
            lease_kind=draw(st.sampled_from(["direct", "direct", "sliding"])),
            available_from=ROUND_DATE,
            in_priority_neighbourhood=draw(st.integers(0, 3)) == 0,
        )
        for unit in instance.units
    )
    households = tuple(
        replace(
            household,
            workplaces=(),
            needs=replace(household.needs, care_site=None),
        )
        if draw(st.integers(0, 3))
        else household
        for household in instance.households
    )
    # Households alike in what they need share their profiles (candidates.py's shortcut for
    # the second and later): make some plain single people.
    households = tuple(
        replace(
            household,
            adults=1,
            couple=False,
            children_ages=(),
            preferred_communes=frozenset(),
            excluded_communes=frozenset(),
        )
        if not household.workplaces and draw(st.booleans())
        else household
        for household in households
    )
    return Instance(households, units)


@st.composite
def competing_rounds(
    draw: st.DrawFn, max_households: int = 14, max_units: int = 8, chainable: bool = False
) -> tuple[Instance, Policy]:
    """Rounds where households compete: more households than units, resources and a policy
    generous enough that most households have several feasible units, so that some are
    outcompeted rather than left with nothing feasible. `chainable`: mostly households
    without a place, in units of few classes (the runs and chains of matcher/chains.py)."""
    n_units = draw(st.integers(1, max_units))
    kind = chainable_instances if chainable else instances
    base = draw(kind(max(max_households, n_units + 1), n_units, n_units + 1, n_units))
    households = tuple(
        replace(
            h,
            monthly_resources_eur=draw(st.floats(900, 2500, allow_nan=False)),
            needs=replace(h.needs, wheelchair=False),
            accepted_lease_kinds=frozenset(),
        )
        for h in base.households
    )
    # roomy enough for their rooms' occupants: the surface norm then rarely rules a unit out
    units = tuple(
        replace(
            u,
            available_from=ROUND_DATE,
            surface_m2=draw(st.floats(18.0 * u.rooms, 30.0 + 18 * u.rooms)),
            rent_eur=draw(st.floats(100, 550)),
        )
        for u in base.units
    )
    instance = Instance(households, units)
    policy = replace(
        draw(policies(instance)),
        max_commute_km=80.0,
        max_effort_rate=0.5,
        room_shortfall_allowed=1,
    )
    return instance, policy
