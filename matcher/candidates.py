"""Candidate generation: every feasible (household, unit) pair with its integer score.

Scanning all H x U pairs in Python is far too slow at scale: each household's units are a
slice of the unit table (matcher/unit_table.py), narrowed by the spatial index when it works
or needs care, checked by the vectorised rules (matcher/masks.py) and scored by the
vectorised score (matcher/score.py). The pairs of a household without a workplace or care
site are runs over chains of units (matcher/profiles.py), never held one by one.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from matcher.chains import ChainLayout, ChainRegistry, PairRuns
from matcher.masks import pair_checks
from matcher.profiles import Profiles, requirement_profiles, requirement_signature, runs_by_cost
from matcher.rules import EPSILON, needed_rooms, passes_every_unit_but_by_class_and_cost
from matcher.score import pair_scores
from matcher.types import DEFAULT_TUNING, Household, Instance, Policy, Tuning
from matcher.unit_table import IntArray, Rows, UnitTable


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


class RoundTooLarge(ValueError):
    """More feasible pairs than the core can hold: the round must be split or narrowed."""


def too_large(limit: int) -> RoundTooLarge:
    return RoundTooLarge(
        f"the round has more than {limit:,} feasible pairs to hold, more than can be solved "
        "at once: split it (by region, say) or narrow the policy (max_commute_km, "
        "horizon_days)"
    )


def generate_candidates(
    instance: Instance,
    policy: Policy,
    table: UnitTable,
    tuning: Tuning = DEFAULT_TUNING,
) -> CandidateSet:
    singles: list[Pairs] = []
    runs: list[PairRuns] = []
    registry = ChainRegistry(
        table.classes,
        table.unit_class,
        table.class_position,
        table.cost[table.row_of_unit],
        tuning.max_profiles,
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
        barred_units = barred.get(h_index, set())
        if (
            tuning.alike_by_cost
            and profiles is not None
            and not household.preferred_communes  # a score that varies within a class
            and passes_every_unit_but_by_class_and_cost(household, barred_units)
        ):
            by_cost = runs_by_cost(household, h_index, profiles, registry, table, policy)
            if by_cost is not None:
                runs.append(by_cost)
                arcs += len(by_cost)
                if arcs > tuning.max_arcs:
                    raise too_large(tuning.max_arcs)
                continue
        checks = pair_checks(household, table, rows, policy, barred_units)
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
        if arcs > tuning.max_arcs:
            raise too_large(tuning.max_arcs)
    layout, chained = registry.layout(PairRuns.joined(runs))
    return CandidateSet(Pairs.joined(singles), chained, layout)
