"""The hard rules of matcher/rules.py, vectorised: one household against rows of the unit table.

`pair_checks` must agree with the scalar rules exactly (the tests check that it does). It is
also what the explanations use, over all units, so the reasons given for an unmatched
household come from the very masks that excluded its units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from matcher.geo import haversine_km_many
from matcher.rules import EPSILON, Rule, fits_as_studio, needed_rooms, required_surface_m2
from matcher.types import Household, Policy
from matcher.unit_table import BoolArray, FloatArray, Rows, UnitTable


@dataclass(frozen=True, slots=True)
class PairChecks:
    """For one household over a slice of unit rows: which rules pass, and the distances."""

    passes: dict[Rule, BoolArray]
    needed: dict[Rule, FloatArray]  # the policy value each row would need, where relaxable
    workplace_km: list[FloatArray]
    care_km: FloatArray | None

    def feasible(self) -> BoolArray:
        masks = iter(self.passes.values())
        result = next(masks).copy()
        for mask in masks:
            result &= mask
        return result


def pair_checks(
    household: Household,
    table: UnitTable,
    rows: Rows,
    policy: Policy,
    barred_units: set[int],
) -> PairChecks:
    rooms = table.rooms[rows]
    surface = table.surface[rows]
    size = household.size
    needed_room_count = needed_rooms(household)
    passes: dict[Rule, BoolArray] = {}
    needed: dict[Rule, FloatArray] = {}

    passes[Rule.SURFACE] = surface + EPSILON >= required_surface_m2(size)
    passes[Rule.MIN_ROOMS] = (
        rooms >= needed_room_count - policy.room_shortfall_allowed
    ) | fits_as_studio(size, rooms, surface)
    needed[Rule.MIN_ROOMS] = (needed_room_count - rooms).astype(np.float64)
    passes[Rule.MAX_ROOMS] = rooms <= size + 1
    all_pass = np.ones(rooms.shape, dtype=np.bool_)
    passes[Rule.WHEELCHAIR] = table.wheelchair[rows] if household.needs.wheelchair else all_pass
    passes[Rule.STEP_FREE] = table.step_free[rows] if household.needs.step_free else all_pass

    lats, lons = table.lat[rows], table.lon[rows]
    site = household.needs.care_site
    care_km = None
    if site is None:
        passes[Rule.CARE_DISTANCE] = all_pass
    else:
        care_km = haversine_km_many(site.lat, site.lon, lats, lons)
        passes[Rule.CARE_DISTANCE] = care_km <= site.max_km + EPSILON
        needed[Rule.CARE_DISTANCE] = care_km

    workplace_km = [haversine_km_many(w.lat, w.lon, lats, lons) for w in household.workplaces]
    if workplace_km:
        farthest = np.maximum.reduce(workplace_km)
        passes[Rule.COMMUTE] = farthest <= policy.max_commute_km + EPSILON
        needed[Rule.COMMUTE] = farthest
    else:
        passes[Rule.COMMUTE] = all_pass

    net_cost = table.cost[rows] - household.housing_benefit_eur
    passes[Rule.AFFORDABILITY] = (
        net_cost <= policy.max_effort_rate * household.monthly_resources_eur + EPSILON
    )
    if household.monthly_resources_eur > 0:
        with np.errstate(over="ignore"):  # tiny resources: an infinite rate is the right answer
            needed[Rule.AFFORDABILITY] = net_cost / household.monthly_resources_eur

    communes = table.commune_code[rows]
    excluded = table.codes_of_communes(household.excluded_communes)
    passes[Rule.EXCLUDED_COMMUNE] = ~np.isin(communes, excluded) if excluded.size else all_pass
    if barred_units:
        barred = np.fromiter(barred_units, dtype=np.int64)
        passes[Rule.EXCLUDED_PAIR] = ~np.isin(table.unit_index[rows], barred)
    else:
        passes[Rule.EXCLUDED_PAIR] = all_pass
    if household.accepted_lease_kinds:
        accepted = np.array(
            [
                table.lease_codes[k]
                for k in household.accepted_lease_kinds
                if k in table.lease_codes
            ],
            dtype=np.int64,
        )
        passes[Rule.LEASE_KIND] = np.isin(table.lease_code[rows], accepted)
    else:
        passes[Rule.LEASE_KIND] = all_pass
    passes[Rule.AVAILABILITY] = table.available[rows]
    return PairChecks(passes=passes, needed=needed, workplace_km=workplace_km, care_km=care_km)


def checks_of_every_unit(
    household: Household, table: UnitTable, policy: Policy, barred_units: set[int]
) -> PairChecks:
    """pair_checks over every unit row, for a household with no feasible unit (what each
    rule rules out, and by how much), measuring distances only where they can matter: on
    the rows within reach of the household's places (the spatial index: every other row
    fails that distance rule), and on the rows that pass every other rule, where a
    distance rule may be the only one failing and its relaxation needs the distance. On the
    national 50,000 x 50,000 round (2,238 such households) this took explanations from 14 s
    to 8 s. The distances themselves are not kept: no scores are made from these checks."""
    every_row = slice(0, int(table.rooms.size))
    placeless = replace(household, workplaces=(), needs=replace(household.needs, care_site=None))
    checks = pair_checks(placeless, table, every_row, policy, barred_units)
    site = household.needs.care_site
    if not household.workplaces and site is None:
        return checks
    others_pass = checks.feasible()
    by_rule: list[tuple[Rule, list[tuple[float, float]], float]] = []
    if household.workplaces:
        places = [(w.lat, w.lon) for w in household.workplaces]
        by_rule.append((Rule.COMMUTE, places, policy.max_commute_km))
    if site is not None:
        by_rule.append((Rule.CARE_DISTANCE, [(site.lat, site.lon)], site.max_km))
    for rule, places, reach_km in by_rule:
        measured = others_pass.copy()
        if every_row.stop:  # the spatial index needs a unit
            reach = [(lat, lon, reach_km + EPSILON) for lat, lon in places]
            measured[table.rows_near(every_row, reach)] = True
        rows = np.flatnonzero(measured)
        farthest = np.maximum.reduce(
            [haversine_km_many(lat, lon, table.lat[rows], table.lon[rows]) for lat, lon in places]
        )
        passes = np.zeros(every_row.stop, dtype=np.bool_)
        passes[rows] = farthest <= reach_km + EPSILON
        needed = np.full(every_row.stop, np.inf)
        needed[rows] = farthest
        checks.passes[rule], checks.needed[rule] = passes, needed
    return checks
