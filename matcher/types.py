"""Plain, immutable data the core works on. No I/O: coordinates are already resolved."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

# The phases of a solve, in order, as `solve(on_phase=...)` announces them.
Phase = Literal["candidates", "solving", "explaining"]

Pair = tuple[str, str]  # (household id, unit id)


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class CareSite:
    """A place the household must stay close to (a hospital, a dialysis centre...)."""

    lat: float
    lon: float
    max_km: float


@dataclass(frozen=True, slots=True)
class Needs:
    wheelchair: bool = False
    reduced_mobility: bool = False
    care_site: CareSite | None = None

    @property
    def step_free(self) -> bool:
        """A wheelchair user has reduced mobility too."""
        return self.wheelchair or self.reduced_mobility


@dataclass(frozen=True, slots=True)
class Household:
    id: str
    adults: int
    registered_on: date
    couple: bool = False
    children_ages: tuple[int, ...] = ()
    monthly_resources_eur: float = 0.0
    housing_benefit_eur: float = 0.0
    workplaces: tuple[Point, ...] = ()
    needs: Needs = Needs()
    preferred_communes: frozenset[str] = frozenset()
    excluded_communes: frozenset[str] = frozenset()
    urgent: bool = False
    accepted_lease_kinds: frozenset[str] = frozenset()  # empty: any lease kind

    @property
    def size(self) -> int:
        return self.adults + len(self.children_ages)


@dataclass(frozen=True, slots=True)
class Unit:
    id: str
    lat: float
    lon: float
    rooms: int
    surface_m2: float
    rent_eur: float
    available_from: date
    landlord: str = ""
    building_id: str | None = None
    commune: str = ""
    postcode: str = ""
    floor: int = 0
    elevator: bool = False
    wheelchair_accessible: bool = False
    charges_eur: float = 0.0
    in_priority_neighbourhood: bool = False
    lease_kind: str = "direct"

    @property
    def monthly_cost_eur(self) -> float:
        return self.rent_eur + self.charges_eur


@dataclass(frozen=True, slots=True)
class Weights:
    """Points of the score; see docs/scoring.md for the reasoning behind each default."""

    waiting_per_day: float = 2.0  # up to waiting_cap_days
    waiting_cap_days: int = 730
    urgent: float = 2000.0
    commute: float = 600.0  # per working adult, full at 0 km, none at max_commute_km
    size_fit: float = 400.0  # full when the unit has exactly the rooms needed
    extra_room_penalty: float = 150.0  # taken off size_fit for each room above the need
    affordability: float = 400.0  # times the share of the effort budget left after rent
    # The share counts in whole steps (tenths by default): households without a workplace
    # then score alike the units they accept alike within a cost band, which lets the flow
    # group them (matcher/chains.py) instead of having one arc per pair.
    affordability_steps: int = 10
    preferred_commune: float = 500.0
    care_proximity: float = 400.0  # full at the care site, none at its max_km


@dataclass(frozen=True, slots=True)
class IncomeQuota:
    """Of matched units outside priority neighbourhoods, at least `share` go to low-income
    households: those whose annual resources per OECD consumption unit are below the
    threshold or, with `first_quartile`, among the round's poorest quarter by that measure
    (as French law writes it, L441-1 CCH: the first quartile of the waiting list's
    resources). Give exactly one of the two."""

    share: float
    threshold_eur_per_consumption_unit: float | None = None
    first_quartile: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    round_date: date
    horizon_days: int = 60
    max_commute_km: float = 40.0
    max_effort_rate: float = 0.35
    room_shortfall_allowed: int = 0
    candidates_per_unit: int = 1
    income_quota: IncomeQuota | None = None
    max_per_building: int | None = None
    excluded_pairs: frozenset[Pair] = frozenset()
    pinned_pairs: frozenset[Pair] = frozenset()
    forbidden_pairs: frozenset[Pair] = frozenset()
    weights: Weights = Weights()
    time_limit_s: float = 60.0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Instance:
    households: tuple[Household, ...]
    units: tuple[Unit, ...]


@dataclass(frozen=True, slots=True)
class Match:
    household: str
    unit: str
    rank: int  # 1 = the landlord's first candidate for this unit
    score: int
    score_breakdown: dict[str, int]


@dataclass(frozen=True, slots=True)
class Unmatched:
    household: str
    reasons: tuple[str, ...]
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PinOutcome:
    """What became of a coordinator's pinned pair, and why."""

    household: str
    unit: str
    applied: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Tuning:
    """How the matcher lays out and searches a round: what changes its speed and memory,
    never its result (but `max_arcs`, which refuses a round too large to hold). The defaults
    are what was measured best; tests and benchmarks pass others (every round chained, small
    blocks, no sampling) to reach every path."""

    # Chain a round's runs when that saves at least this many arcs (chains add 2 arcs a
    # slot); at or below zero every round with runs is chained, past its arcs none is.
    chaining_min_arcs_saved: int = 1
    # Units a block of a chain holds, at every level (at least 2). Measured at 20,000 x
    # 20,000 over 8 regions (class chains of up to 1,288 units): a solve took 35 s on plain
    # chains, 20 s with one level of blocks of 12, 21 s with blocks of 64, 22 s with blocks
    # of sqrt(chain length).
    chain_block: int = 12
    # Each profile's chain keeps a position per unit while candidates are generated (4 bytes
    # a unit): past this many profiles, households fall back to their classes' own chains.
    max_profiles: int = 1_000
    # Households alike to one already scanned take their runs from its profiles' chains by
    # binary search on the cost (matcher/profiles.py) instead of scanning every unit row.
    alike_by_cost: bool = True
    # Quota rounds with more pairs than this start their multiplier search from a sample's
    # (matcher/quota/search.py says what that saves), of this many pairs a household.
    sampled_above_pairs: int = 1_000_000
    sample_pairs_per_household: int = 25
    # A memory guard, the one field that can refuse a round: the flow needs about 130 bytes
    # an arc (a pair held singly, or a run; measured: 25 million pairs peak at 3.4 GB), so
    # past this many a round would take more memory than a 24 GB machine has. Checked while
    # generating, so a round too large stops at a bounded size instead of exhausting the
    # machine.
    max_arcs: int = 100_000_000


DEFAULT_TUNING = Tuning()


class Status(enum.StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # a solution, not proven optimal (time limit)
    NO_CANDIDATES = "no_candidates"  # nothing feasible at all: a status, not an error


@dataclass(frozen=True, slots=True)
class QuotaEffect:
    """What the income quota did to a round, for a coordinator to weigh it."""

    threshold_eur_per_consumption_unit: float  # the one applied (a first quartile's, resolved)
    low_income_households: int  # households of the round under the threshold
    matched_outside: int  # matches on units outside priority neighbourhoods
    low_income_matched_outside: int  # of those, to low-income households
    share_reached: float | None  # their share (None: no match outside)
    housed_without_quota: int  # households the same round houses without the quota
    housed_fewer: int  # how many fewer the quota houses


@dataclass(frozen=True, slots=True)
class RoundStats:
    households: int
    units: int
    candidate_pairs: int
    matched: int  # households with a proposal (each is in at most one unit's list)
    units_with_candidates: int
    candidates: int  # proposals: equal to matched
    objective: int
    best_bound: int
    gap: float
    optimal: bool
    # unmatched households a feasible unit of which went to a household of lower priority
    passed_over_households: int
    passed_over_urgent: int  # of those, the urgent ones
    justified_envy_pairs: int  # feasible pairs (h, u), u to lower priority, h scoring u higher
    seconds: dict[str, float]
    income_quota: QuotaEffect | None = None


@dataclass(frozen=True, slots=True)
class RoundResult:
    status: Status
    matches: tuple[Match, ...]
    unmatched: tuple[Unmatched, ...]
    stats: RoundStats
    pins: tuple[PinOutcome, ...] = ()
    notes: tuple[str, ...] = ()  # how the round was solved, when a coordinator should know
