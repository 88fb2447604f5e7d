"""Candidate generation: every feasible (household, unit) pair with its integer score.

Scanning all H x U pairs in Python is far too slow at scale, so the units are laid out as numpy
columns sorted by rooms: the room rules (at least the need, at most size + 1) make each
household's compatible units one contiguous slice, and every other rule is a vectorised mask
over that slice. `pair_checks` is also what the explanations use, over all units, so the
reasons given for an unmatched household come from the very masks that excluded its units.

Within a number of rooms, rows are sorted by unit class and cost (matcher/chains.py). The
pairs of a household without a workplace or care site are emitted as runs over the chain of
its requirement profile (the classes it scores alike but for cost), never held one by one. At
50,000 x 50,000 over several regions that is 349 million pairs the round never makes.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from matcher.chains import (
    ChainLayout,
    ChainRegistry,
    PairRuns,
    class_chains,
    runs_by_score,
)
from matcher.geo import haversine_km_many, reach_box
from matcher.rules import (
    EPSILON,
    RULES,
    Rule,
    Scope,
    fits_as_studio,
    needed_rooms,
    normalise_commune,
    required_surface_m2,
)
from matcher.score import STEP_TOLERANCE, priority_points
from matcher.types import Household, Instance, Policy

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Rows = slice | IntArray  # unit rows: a range, or sorted row numbers


@dataclass(frozen=True, slots=True)
class UnitTable:
    """Unit attributes as columns, rows sorted by rooms, then class and cost; `unit_index`
    maps a row back."""

    unit_index: IntArray
    rooms: IntArray
    surface: FloatArray
    lat: FloatArray
    lon: FloatArray
    step_free: BoolArray
    wheelchair: BoolArray
    cost: FloatArray
    commune_code: IntArray
    lease_code: IntArray
    available: BoolArray
    row_of_unit: IntArray
    commune_codes: dict[str, int]
    lease_codes: dict[str, int]
    in_priority_neighbourhood: BoolArray
    classes: ChainLayout  # one chain per class of the available units (chain id = class id)
    unit_class: IntArray  # per unit, its class (-1: in no chain)
    class_position: IntArray  # per unit, its rank by cost in its class
    chain: IntArray  # per row, its unit's class (-1: in no chain)
    class_starts: IntArray  # the rows where a class (or the rows in no chain) begins
    by_latitude: IntArray  # the rows sorted by rooms, then latitude: a spatial index

    @classmethod
    def build(cls, instance: Instance, policy: Policy) -> UnitTable:
        units = instance.units
        last_day = policy.round_date + timedelta(days=policy.horizon_days)
        available = np.array([u.available_from <= last_day for u in units], dtype=np.bool_)
        classes, unit_class, class_position = class_chains(units, available)
        rooms = np.array([u.rooms for u in units], dtype=np.int64)
        order = np.lexsort((np.arange(len(units)), class_position, unit_class, rooms))
        ordered = [units[i] for i in order]
        lats = np.array([u.lat for u in ordered], dtype=np.float64)
        commune_codes: dict[str, int] = {}
        lease_codes: dict[str, int] = {}
        row_of_unit = np.empty(len(units), dtype=np.int64)
        row_of_unit[order] = np.arange(len(units))
        return cls(
            unit_index=order,
            rooms=rooms[order],
            surface=np.array([u.surface_m2 for u in ordered], dtype=np.float64),
            lat=lats,
            lon=np.array([u.lon for u in ordered], dtype=np.float64),
            step_free=np.array([u.floor <= 0 or u.elevator for u in ordered], dtype=np.bool_),
            wheelchair=np.array([u.wheelchair_accessible for u in ordered], dtype=np.bool_),
            cost=np.array([u.monthly_cost_eur for u in ordered], dtype=np.float64),
            commune_code=np.array(
                [
                    commune_codes.setdefault(normalise_commune(u.commune), len(commune_codes))
                    for u in ordered
                ],
                dtype=np.int64,
            ),
            lease_code=np.array(
                [lease_codes.setdefault(u.lease_kind, len(lease_codes)) for u in ordered],
                dtype=np.int64,
            ),
            available=available[order],
            row_of_unit=row_of_unit,
            commune_codes=commune_codes,
            lease_codes=lease_codes,
            in_priority_neighbourhood=np.array(
                [u.in_priority_neighbourhood for u in ordered], dtype=np.bool_
            ),
            classes=classes,
            unit_class=unit_class,
            class_position=class_position,
            chain=unit_class[order],
            class_starts=np.flatnonzero(_starts(unit_class[order])),
            by_latitude=np.lexsort((np.arange(len(units)), lats, rooms[order])),
        )

    def rows_for_rooms(self, low: int, high: int) -> slice:
        """Rows whose unit has between low and high rooms (inclusive)."""
        start = int(np.searchsorted(self.rooms, low, side="left"))
        stop = int(np.searchsorted(self.rooms, high, side="right"))
        return slice(start, stop)

    def rows_near(self, rows: slice, places: list[tuple[float, float, float]]) -> IntArray:
        """The rows of `rows` (a range of rooms) that may lie within reach of every place
        (lat, lon, km), sorted: a latitude band found by binary search in the spatial index
        for each number of rooms, then a longitude band. Every row within reach is kept;
        the exact distances are checked after."""
        low = max(lat - reach_box(lat, km)[0] for lat, _, km in places)
        high = min(lat + reach_box(lat, km)[0] for lat, _, km in places)
        if low > high:
            return np.zeros(0, dtype=np.int64)
        lon_bands = [(lon, reach_box(lat, km)[1]) for lat, lon, km in places]
        found = []
        for rooms in range(int(self.rooms[rows.start]), int(self.rooms[rows.stop - 1]) + 1):
            same = self.rows_for_rooms(rooms, rooms)
            band = self.by_latitude[same]
            lats = self.lat[band]
            band = band[np.searchsorted(lats, low, "left") : np.searchsorted(lats, high, "right")]
            # filtered before the sort below, which then has a fraction of the rows to order
            for lon, half_lon in lon_bands:
                if math.isfinite(half_lon):
                    band = band[np.abs((self.lon[band] - lon + 180) % 360 - 180) <= half_lon]
            found.append(band)
        near: IntArray = np.sort(np.concatenate(found))
        return near


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


def _starts(keys: IntArray) -> BoolArray:
    """Where a new value begins in a grouped array (as a mask)."""
    return np.r_[True, keys[1:] != keys[:-1]] if keys.size else np.zeros(0, dtype=np.bool_)


def _codes(names: frozenset[str], codes: dict[str, int]) -> IntArray:
    found = [codes[n] for name in names if (n := normalise_commune(name)) in codes]
    return np.array(found, dtype=np.int64)


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
    excluded = _codes(household.excluded_communes, table.commune_codes)
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


def size_fit_points(
    household: Household, rooms: IntArray, surface: FloatArray, policy: Policy
) -> FloatArray:
    weights = policy.weights
    mismatch = np.abs(rooms - needed_rooms(household))
    if household.size == 1:
        mismatch = np.where(fits_as_studio(1, rooms, surface), 0, mismatch)
    points: FloatArray = np.rint(
        np.maximum(0.0, weights.size_fit - weights.extra_room_penalty * mismatch)
    )
    return points


@dataclass(frozen=True, slots=True)
class Profiles:
    """A household's requirement profiles over the rows it scans: a profile is the classes
    it accepts where it scores a unit alike but for its cost (the same room fit, and in a
    quota round the same side of the priority-neighbourhood line, which the quota weighs
    differently)."""

    first_rows: IntArray  # the first row of each class among the rows scanned
    class_key: IntArray  # per such class, its profile key (-1: not accepted, or in no chain)
    classes: dict[int, tuple[int, ...]]  # per key, the classes the profile spans

    def of_rows(self, rows: IntArray) -> IntArray:
        """The profile key of each of these rows (sorted)."""
        keys: IntArray = self.class_key[np.searchsorted(self.first_rows, rows, side="right") - 1]
        return keys


def requirement_profiles(
    household: Household, table: UnitTable, rows: Rows, checks: PairChecks, policy: Policy
) -> Profiles:
    """The profiles of a household without a workplace or care site. Rows are sorted by
    class, and what decides a profile is the same for all of a class's units, so the first
    row of each class stands for it (were a class not alike after all, its pairs would fail
    the runs' exactness check and stay single)."""
    if isinstance(rows, slice):
        starts = table.class_starts
        inside = starts[
            np.searchsorted(starts, rows.start, "right") : np.searchsorted(starts, rows.stop)
        ]
        first_rows = np.r_[rows.start, inside]
        firsts = first_rows - rows.start
    else:
        firsts = np.flatnonzero(_starts(table.chain[rows]))
        first_rows = rows[firsts]
    chain = table.chain[first_rows]
    accepted = chain >= 0
    for rule, passes in checks.passes.items():
        if RULES[rule].scope is Scope.CLASS:  # the same for all of a class's units
            accepted &= passes[firsts]
    fit = size_fit_points(household, table.rooms[first_rows], table.surface[first_rows], policy)
    key = fit.astype(np.int64) * 2
    if policy.income_quota is not None:
        key += table.in_priority_neighbourhood[first_rows]
    classes: dict[int, tuple[int, ...]] = {}
    for profile, unit_class in sorted(
        set(zip(key[accepted].tolist(), chain[accepted].tolist(), strict=True))
    ):
        classes[profile] = (*classes.get(profile, ()), unit_class)
    return Profiles(first_rows, np.where(accepted, key, -1), classes)


def requirement_signature(household: Household, rows: Rows) -> Hashable | None:
    """What decides a household's profiles over the rows it scans: households alike in it
    share them (None: the rows are not a range, no sharing)."""
    if not isinstance(rows, slice):
        return None
    needs = household.needs
    return (
        rows.start,
        rows.stop,
        household.size,
        needed_rooms(household),
        needs.wheelchair,
        needs.step_free,
        household.accepted_lease_kinds,
    )


def _affordability_points(household: Household, cost: FloatArray, policy: Policy) -> FloatArray:
    """score.py's affordability points of units of these costs, vectorised."""
    weights = policy.weights
    budget = policy.max_effort_rate * household.monthly_resources_eur
    if budget <= 0:
        return np.zeros(cost.size)
    margin = budget - (cost - household.housing_benefit_eur)
    with np.errstate(over="ignore"):  # a tiny budget: the share left is capped at 1 anyway
        share_left = np.clip(margin / budget, 0.0, 1.0)
    steps = weights.affordability_steps
    share_left = np.floor(share_left * steps + STEP_TOLERANCE) / steps
    points: FloatArray = np.rint(weights.affordability * share_left)
    return points


def pair_scores(
    household: Household,
    table: UnitTable,
    rows: Rows,
    checks: PairChecks,
    keep: BoolArray,
    policy: Policy,
) -> IntArray:
    """Scores of the kept rows: score.score_breakdown, vectorised (same formulas, same rounding)."""
    weights = policy.weights
    total = np.full(int(keep.sum()), sum(priority_points(household, policy).values()), np.float64)
    if checks.workplace_km:
        commute = np.zeros_like(total)
        for km in checks.workplace_km:
            commute += weights.commute * np.maximum(0.0, 1 - km[keep] / policy.max_commute_km)
        total += np.rint(commute)
    total += size_fit_points(household, table.rooms[rows][keep], table.surface[rows][keep], policy)
    total += _affordability_points(household, table.cost[rows][keep], policy)
    preferred = _codes(household.preferred_communes, table.commune_codes)
    if preferred.size:
        hit = np.isin(table.commune_code[rows][keep], preferred)
        total += np.where(hit, round(weights.preferred_commune), 0)
    site = household.needs.care_site
    if site is not None and checks.care_km is not None:
        total += np.rint(
            weights.care_proximity * np.maximum(0.0, 1 - checks.care_km[keep] / site.max_km)
        )
    return total.astype(np.int64)


class Pairs(NamedTuple):
    """Pairs as parallel arrays (indices into the instance's tuples). int32: there can be
    tens of millions of pairs; widen before arithmetic that could overflow."""

    household: NDArray[np.int32]
    unit: NDArray[np.int32]
    score: NDArray[np.int32]

    @classmethod
    def joined(cls, parts: list[Pairs]) -> Pairs:
        if not parts:
            return cls(*(np.empty(0, dtype=np.int32) for _ in range(3)))
        return cls(*(np.concatenate(arrays) for arrays in zip(*parts, strict=True)))

    def taken(self, kept: NDArray[Any]) -> Pairs:
        return Pairs(self.household[kept], self.unit[kept], self.score[kept])


@dataclass(frozen=True, slots=True)
class CandidateSet:
    """All feasible pairs: `single` held one by one, and the runs standing for the pairs of
    households that see units only through their class and cost (matcher/chains.py).
    Positions number the single pairs first, then the runs' pairs."""

    single: Pairs
    runs: PairRuns
    layout: ChainLayout

    def __len__(self) -> int:
        return int(self.single.household.size) + self.runs.pair_count

    @property
    def arcs(self) -> int:
        """What the flow holds: a single pair or a run is one arc."""
        return int(self.single.household.size) + len(self.runs)

    def every_pair(self) -> Pairs:
        """Every pair, in position order: only for rounds small enough to hold them."""
        return Pairs.joined([self.single, Pairs(*self.runs.pairs(self.layout))])

    def best_pairs_of(
        self,
        households: NDArray[np.bool_],
        at_least: int,
        single_counts: NDArray[np.bool_] | None = None,
        run_counts: IntArray | None = None,
    ) -> tuple[Pairs, IntArray]:
        """For the households marked: the pairs that can be among each one's `at_least` best
        by score, and each household's count of pairs. Runs are taken whole, best score
        first, until a household has that many; every pair scoring as much as the last one
        taken comes too, so that the caller can break ties. Runs scoring less are never
        expanded (at 50,000 x 50,000 the unmatched households' runs stand for tens of
        millions of pairs). `single_counts` and `run_counts` say which single pairs and how
        many of each run's pairs count (default: all); pairs and runs that count none are
        left out, and the caller picks the pairs that count among those returned."""
        if single_counts is not None:
            households_of_single = households[self.single.household] & single_counts
        else:
            households_of_single = households[self.single.household]
        single = self.single.taken(households_of_single)
        kept_runs_mask = households[self.runs.household]
        if run_counts is not None:
            kept_runs_mask &= run_counts > 0
        runs = self.runs.taken(kept_runs_mask)
        owner = np.r_[single.household, runs.household].astype(np.int64)
        score = np.r_[single.score, runs.score].astype(np.int64)
        counted = runs.sizes() if run_counts is None else run_counts[kept_runs_mask]
        size = np.r_[np.ones(single.household.size, dtype=np.int64), counted]
        counts = np.bincount(owner, weights=size, minlength=households.size).astype(np.int64)
        order = np.lexsort((-score, owner))
        owner, score, size = owner[order], score[order], size[order]
        before = np.cumsum(size) - size
        before -= before[np.searchsorted(owner, owner)]  # pairs of the household before it
        needed = before < at_least
        lowest = np.full(households.size, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(lowest, owner[needed], score[needed])
        taken = np.sort(order[score >= lowest[owner]])
        n_single = single.household.size
        kept_runs = runs.taken(taken[taken >= n_single] - n_single)
        pairs = Pairs.joined(
            [single.taken(taken[taken < n_single]), Pairs(*kept_runs.pairs(self.layout))]
        )
        return pairs, counts

    def contains(self, household: int, unit: int) -> bool:
        single = self.single
        if np.any((single.household == household) & (single.unit == unit)):
            return True
        return bool(self.runs.holding(self.layout, np.r_[household], np.r_[unit])[0] >= 0)


def barred_units_by_household(instance: Instance, policy: Policy) -> dict[int, set[int]]:
    """Excluded and forbidden pairs, as unit indices per household index."""
    household_index = {h.id: i for i, h in enumerate(instance.households)}
    unit_index = {u.id: i for i, u in enumerate(instance.units)}
    barred: dict[int, set[int]] = {}
    for household_id, unit_id in policy.excluded_pairs | policy.forbidden_pairs:
        if household_id in household_index and unit_id in unit_index:
            barred.setdefault(household_index[household_id], set()).add(unit_index[unit_id])
    return barred


def _rows_to_scan(household: Household, table: UnitTable, policy: Policy) -> Rows | None:
    """The unit rows a household's pairs can be among (None: none): those with a number of
    rooms it may take, and for a household that works or needs care only those near its
    places (the spatial index)."""
    low = needed_rooms(household) - policy.room_shortfall_allowed
    if household.size == 1:
        low = 1  # the studio exception; the mask checks its surface
    rows = table.rows_for_rooms(max(1, low), household.size + 1)
    if rows.start >= rows.stop:
        return None
    places = [(w.lat, w.lon, policy.max_commute_km + EPSILON) for w in household.workplaces]
    if (site := household.needs.care_site) is not None:
        places.append((site.lat, site.lon, site.max_km + EPSILON))
    if places:
        near = table.rows_near(rows, places)
        # Copying scattered rows costs more than scanning a range most of which is near.
        if near.size < (rows.stop - rows.start) // 2:
            return near
    return rows


# The flow needs about 130 bytes an arc (a pair held singly, or a run; measured: 25 million
# pairs peak at 3.4 GB), so past this many a round would take more memory than a 24 GB
# machine has. Checked while generating, so a round too large stops at a bounded size
# instead of exhausting the machine.
MAX_ARCS = 100_000_000


class RoundTooLarge(ValueError):
    """More feasible pairs than the core can hold: the round must be split or narrowed."""


def too_large(limit: int) -> RoundTooLarge:
    return RoundTooLarge(
        f"the round has more than {limit:,} feasible pairs to hold, more than can be solved "
        "at once: split it (by region, say) or narrow the policy (max_commute_km, "
        "horizon_days)"
    )


def _runs_by_cost(
    household: Household,
    h_index: int,
    profiles: Profiles,
    registry: ChainRegistry,
    table: UnitTable,
    policy: Policy,
) -> PairRuns | None:
    """The runs of a household without a workplace, a care site, excluded communes,
    preferred communes or refused pairs, straight from its profiles' chains: every rule but
    the cost is the same for all of a profile's units (their classes), so its pairs with a
    profile are the chain's units it can afford, a prefix found by binary search, scored
    with pair_scores' formulas in the same floats: its priority and the profile's size fit
    (alike for all its units), plus the affordability points of each cost. None: a profile's
    scores rise with the cost, or the registry is full; the household's rows are then
    scanned one by one."""
    threshold = policy.max_effort_rate * household.monthly_resources_eur + EPSILON
    priority = float(sum(priority_points(household, policy).values()))
    parts: list[PairRuns] = []
    for classes in profiles.classes.values():
        found = registry.chain_of(classes)
        if found is None:
            return None
        chain, _ = found
        units, costs = registry.chain_units(chain)
        affordable = int(np.searchsorted(costs - household.housing_benefit_eur, threshold, "right"))
        if not affordable:
            continue
        # A profile's units fit the household alike: only the affordability points vary.
        first_row = table.row_of_unit[units[:1]]
        fit = size_fit_points(household, table.rooms[first_row], table.surface[first_row], policy)
        scores = (
            priority + fit[0] + _affordability_points(household, costs[:affordable], policy)
        ).astype(np.int64)
        if (scores[1:] > scores[:-1]).any():  # a policy weighing dearer units higher
            return None
        parts.append(runs_by_score(h_index, chain, scores))
    return PairRuns.joined(parts)


def generate_candidates(
    instance: Instance, policy: Policy, table: UnitTable, max_arcs: int = MAX_ARCS
) -> CandidateSet:
    singles: list[Pairs] = []
    runs: list[PairRuns] = []
    registry = ChainRegistry(
        table.classes, table.unit_class, table.class_position, table.cost[table.row_of_unit]
    )
    known_profiles: dict[Hashable, Profiles] = {}
    barred = barred_units_by_household(instance, policy)
    arcs = 0
    for h_index, household in enumerate(instance.households):
        rows = _rows_to_scan(household, table, policy)
        if rows is None:
            continue
        placeless = not household.workplaces and household.needs.care_site is None
        signature = requirement_signature(household, rows) if placeless else None
        profiles = known_profiles.get(signature) if signature is not None else None
        if (
            profiles is not None
            and not household.excluded_communes
            and not household.preferred_communes
            and h_index not in barred
        ):
            by_cost = _runs_by_cost(household, h_index, profiles, registry, table, policy)
            if by_cost is not None:
                runs.append(by_cost)
                arcs += len(by_cost)
                if arcs > max_arcs:
                    raise too_large(max_arcs)
                continue
        checks = pair_checks(household, table, rows, policy, barred.get(h_index, set()))
        keep = checks.feasible()
        if not keep.any():
            continue
        kept_rows = (np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows)[keep]
        units = table.unit_index[kept_rows].astype(np.int32)
        scores = pair_scores(household, table, rows, checks, keep, policy).astype(np.int32)
        single = np.ones(units.size, dtype=np.bool_)
        if placeless:
            if profiles is None:
                profiles = requirement_profiles(household, table, rows, checks, policy)
                if signature is not None:
                    known_profiles[signature] = profiles
            in_runs, household_runs = registry.household_runs(
                h_index, units, scores, profiles.of_rows(kept_rows), profiles.classes
            )
            if len(household_runs):
                single = ~in_runs
                runs.append(household_runs)
                arcs += len(household_runs)
        if not single.all():
            units, scores = units[single], scores[single]
        singles.append(Pairs(np.full(units.size, h_index, dtype=np.int32), units, scores))
        arcs += units.size
        if arcs > max_arcs:
            raise too_large(max_arcs)
    layout, chained = registry.layout(PairRuns.joined(runs))
    return CandidateSet(Pairs.joined(singles), chained, layout)
