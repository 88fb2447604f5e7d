"""The public JSON format of a round: `{"households", "units", "policy"}` in, result out.

Coordinators' scripts and other systems depend on these names: add optional fields, never rename.
Places given by commune/postcode are geocoded here, before the pure core sees them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

import matcher

if TYPE_CHECKING:
    from services.geocoding import Geocoder

NonNegative = Annotated[float, Field(ge=0)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
LeaseKind = Literal["direct", "sliding", "intermediation"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Locatable(Strict):
    """A place given by coordinates, or by commune and/or postcode to geocode."""

    lat: Latitude | None = None
    lon: Longitude | None = None
    commune: str | None = None
    postcode: str | None = None

    @model_validator(mode="after")
    def _locatable(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.lat is None and not (self.commune or self.postcode):
            raise ValueError("give lat and lon, or commune and/or postcode")
        return self


class PlaceIn(Locatable):
    pass


class CareSiteIn(Strict):
    lat: Latitude
    lon: Longitude
    max_km: Annotated[float, Field(gt=0)]


class NeedsIn(Strict):
    wheelchair: bool = False
    reduced_mobility: bool = False
    care_site: CareSiteIn | None = None


class HouseholdIn(Strict):
    id: Annotated[str, Field(min_length=1)]
    adults: Annotated[int, Field(ge=1)]
    couple: bool = False
    children_ages: list[Annotated[int, Field(ge=0, le=18)]] = Field(default_factory=list)
    monthly_resources_eur: NonNegative
    housing_benefit_eur: NonNegative = 0.0
    workplaces: list[PlaceIn] = Field(default_factory=list)
    needs: NeedsIn = Field(default_factory=NeedsIn)
    preferred_communes: list[str] = Field(default_factory=list)
    excluded_communes: list[str] = Field(default_factory=list)
    registered_on: Annotated[date, Field(strict=False)]
    urgent: bool = False
    accepted_lease_kinds: list[LeaseKind] = Field(default_factory=list)

    @model_validator(mode="after")
    def _couple(self) -> Self:
        if self.couple and self.adults < 2:
            raise ValueError("a couple needs at least two adults")
        return self


class UnitIn(Locatable):
    id: Annotated[str, Field(min_length=1)]
    landlord: str = ""
    building_id: str | None = None
    rooms: Annotated[int, Field(ge=1)]
    surface_m2: Annotated[float, Field(gt=0)]
    floor: Annotated[int, Field(ge=-1)] = 0
    elevator: bool = False
    wheelchair_accessible: bool = False
    rent_eur: NonNegative
    charges_eur: NonNegative = 0.0
    in_priority_neighbourhood: bool = False
    lease_kind: LeaseKind = "direct"
    available_from: Annotated[date, Field(strict=False)]


class IncomeQuotaIn(Strict):
    share: Annotated[float, Field(gt=0, le=1)]
    threshold_eur_per_consumption_unit: Annotated[float | None, Field(gt=0)] = Field(
        default=None, description="Low income: annual resources per consumption unit below this"
    )
    first_quartile: bool = Field(
        default=False,
        description="Low income: among the round's poorest quarter by annual resources per "
        "consumption unit (as French law writes it); instead of a threshold",
    )

    @model_validator(mode="after")
    def _one_definition(self) -> Self:
        if (self.threshold_eur_per_consumption_unit is None) != self.first_quartile:
            raise ValueError("give threshold_eur_per_consumption_unit or first_quartile: true")
        return self

    @field_validator("share")
    @classmethod
    def _at_most_three_decimals(cls, share: float) -> float:
        if abs(share * 1000 - round(share * 1000)) > 1e-6:
            raise ValueError("the share has a resolution of 0.1%: give at most 3 decimals")
        return share


DEFAULT_WEIGHTS = matcher.Weights()
# Upper bounds keep every policy value far from what would overflow a date or the solver's
# 64-bit costs (candidates_per_unit 1e30 and round_date 9999-12-31 were accepted, then failed
# in the worker with an OverflowError); each is well past any sensible setting.
Points = Annotated[float, Field(ge=0, le=100_000)]
MAX_PAIRS_LISTED = 100_000


class WeightsIn(Strict):
    waiting_per_day: Points = DEFAULT_WEIGHTS.waiting_per_day
    waiting_cap_days: Annotated[int, Field(ge=0, le=36_500)] = DEFAULT_WEIGHTS.waiting_cap_days
    urgent: Points = DEFAULT_WEIGHTS.urgent
    commute: Points = DEFAULT_WEIGHTS.commute
    size_fit: Points = DEFAULT_WEIGHTS.size_fit
    extra_room_penalty: Points = DEFAULT_WEIGHTS.extra_room_penalty
    affordability: Points = DEFAULT_WEIGHTS.affordability
    affordability_steps: Annotated[int, Field(ge=1, le=1_000)] = DEFAULT_WEIGHTS.affordability_steps
    preferred_commune: Points = DEFAULT_WEIGHTS.preferred_commune
    care_proximity: Points = DEFAULT_WEIGHTS.care_proximity


PairIn = Annotated[list[str], Field(min_length=2, max_length=2)]


class PolicyIn(Strict):
    round_date: (
        Annotated[date, Field(strict=False, ge=date(2000, 1, 1), le=date(2100, 12, 31))] | None
    ) = Field(default=None, description="The day the rules apply on; absent: the day it is queued")
    horizon_days: Annotated[int, Field(ge=0, le=3_650)] = 60
    max_commute_km: Annotated[float, Field(gt=0, le=2_000)] = 40.0
    max_effort_rate: Annotated[float, Field(gt=0, le=1)] = 0.35
    room_shortfall_allowed: Annotated[int, Field(ge=0, le=20)] = 0
    candidates_per_unit: Annotated[int, Field(ge=1, le=20)] = 1
    income_quota: IncomeQuotaIn | None = None
    max_per_building: Annotated[int, Field(ge=1, le=100_000)] | None = None
    excluded_pairs: list[PairIn] = Field(default_factory=list, max_length=MAX_PAIRS_LISTED)
    pinned_pairs: list[PairIn] = Field(default_factory=list, max_length=MAX_PAIRS_LISTED)
    forbidden_pairs: list[PairIn] = Field(default_factory=list, max_length=MAX_PAIRS_LISTED)
    weights: WeightsIn = Field(default_factory=WeightsIn)
    time_limit_s: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0

    def dated(self, today: date) -> Self:
        """This policy, of round date `today` unless it gives one."""
        return (
            self if self.round_date is not None else self.model_copy(update={"round_date": today})
        )


class RoundIn(Strict):
    households: list[HouseholdIn]
    units: list[UnitIn]
    policy: PolicyIn = Field(default_factory=PolicyIn)


class InvalidRoundFile(ValueError):
    """The input is not a valid round; each problem names its JSON path."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{path}: {message}" for path, message in problems))


def json_path(location: tuple[int | str, ...]) -> str:
    path = "$"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def parse_round(text: str) -> RoundIn:
    try:
        return RoundIn.model_validate_json(text)
    except ValidationError as error:
        raise InvalidRoundFile(
            [(json_path(tuple(d["loc"])), d["msg"]) for d in error.errors()]
        ) from None


def to_policy(policy: PolicyIn) -> matcher.Policy:
    """The matcher's policy of a dated policy (`PolicyIn.dated`)."""
    if policy.round_date is None:
        raise ValueError("the policy has no round date: date it first")
    quota = policy.income_quota
    return matcher.Policy(
        round_date=policy.round_date,
        horizon_days=policy.horizon_days,
        max_commute_km=policy.max_commute_km,
        max_effort_rate=policy.max_effort_rate,
        room_shortfall_allowed=policy.room_shortfall_allowed,
        candidates_per_unit=policy.candidates_per_unit,
        income_quota=matcher.IncomeQuota(
            quota.share, quota.threshold_eur_per_consumption_unit, quota.first_quartile
        )
        if quota
        else None,
        max_per_building=policy.max_per_building,
        excluded_pairs=frozenset((h, u) for h, u in policy.excluded_pairs),
        pinned_pairs=frozenset((h, u) for h, u in policy.pinned_pairs),
        forbidden_pairs=frozenset((h, u) for h, u in policy.forbidden_pairs),
        weights=matcher.Weights(**policy.weights.model_dump()),
        time_limit_s=policy.time_limit_s,
        seed=policy.seed,
    )


def to_instance(round_in: RoundIn, geocoder: Callable[[], Geocoder]) -> matcher.Instance:
    """The core's instance, with every commune/postcode place geocoded (errors name the path).
    The geocoder is made only if a place needs it: a round of coordinates, the usual case of
    a script, reads no settings and no gazetteer."""
    problems: list[tuple[str, str]] = []
    geocoder = cache(geocoder)

    def place(
        path: str, lat: float | None, lon: float | None, commune: str | None, postcode: str | None
    ) -> tuple[float, float]:
        if lat is not None and lon is not None:
            return lat, lon
        from services.geocoding import GeocodingError

        try:
            return geocoder().locate(" ".join(p for p in (postcode, commune) if p))
        except GeocodingError as error:
            problems.append((path, str(error)))
            return 0.0, 0.0

    households = []
    for i, h in enumerate(round_in.households):
        workplaces = tuple(
            matcher.Point(
                *place(f"$.households[{i}].workplaces[{j}]", w.lat, w.lon, w.commune, w.postcode)
            )
            for j, w in enumerate(h.workplaces)
        )
        site = h.needs.care_site
        households.append(
            matcher.Household(
                id=h.id,
                adults=h.adults,
                couple=h.couple,
                children_ages=tuple(h.children_ages),
                monthly_resources_eur=h.monthly_resources_eur,
                housing_benefit_eur=h.housing_benefit_eur,
                workplaces=workplaces,
                needs=matcher.Needs(
                    wheelchair=h.needs.wheelchair,
                    reduced_mobility=h.needs.reduced_mobility,
                    care_site=matcher.CareSite(site.lat, site.lon, site.max_km) if site else None,
                ),
                preferred_communes=frozenset(h.preferred_communes),
                excluded_communes=frozenset(h.excluded_communes),
                registered_on=h.registered_on,
                urgent=h.urgent,
                accepted_lease_kinds=frozenset(h.accepted_lease_kinds),
            )
        )
    units = []
    for i, u in enumerate(round_in.units):
        lat, lon = place(f"$.units[{i}]", u.lat, u.lon, u.commune, u.postcode)
        units.append(
            matcher.Unit(
                id=u.id,
                landlord=u.landlord,
                building_id=u.building_id,
                commune=u.commune or "",
                postcode=u.postcode or "",
                lat=lat,
                lon=lon,
                rooms=u.rooms,
                surface_m2=u.surface_m2,
                floor=u.floor,
                elevator=u.elevator,
                wheelchair_accessible=u.wheelchair_accessible,
                rent_eur=u.rent_eur,
                charges_eur=u.charges_eur,
                in_priority_neighbourhood=u.in_priority_neighbourhood,
                lease_kind=u.lease_kind,
                available_from=u.available_from,
            )
        )
    problems += _duplicate_ids("households", [h.id for h in households])
    problems += _duplicate_ids("units", [u.id for u in units])
    if problems:
        raise InvalidRoundFile(problems)
    return matcher.Instance(tuple(households), tuple(units))


def _duplicate_ids(kind: str, ids: list[str]) -> list[tuple[str, str]]:
    first: dict[str, int] = {}
    problems = []
    for index, item_id in enumerate(ids):
        if item_id in first:
            problems.append(
                (
                    f"$.{kind}[{index}].id",
                    f"duplicate id {item_id!r} (first at index {first[item_id]})",
                )
            )
        first.setdefault(item_id, index)
    return problems


class MatchOut(BaseModel):
    household: str
    unit: str
    rank: int = Field(description="1 = the landlord's first candidate for this unit")
    score: int
    score_breakdown: dict[str, int]


class UnmatchedOut(BaseModel):
    household: str
    reasons: list[str] = Field(description="Readable reasons, most useful first")
    detail: dict[str, Any] = Field(
        default_factory=dict,
        description="Machine-readable: kind (no_feasible_unit | outcompeted), "
        "units_ruled_out_by, relaxations; for an outcompeted household feasible_unit_count "
        "(every feasible unit), feasible_units (its best 100 at most, by its score, then "
        "id), kept_from_it (for each of those: unit, kept_by household | pin | building_cap "
        "| income_quota, and the households or building), passed_over_count (its feasible "
        "units that went to a household of lower priority) and passed_over (the best 10 of "
        "those: unit, went_to, why fit_score | pin | income_quota, its_score, their_score, "
        "its_priority, their_priority)",
    )


class PinOut(BaseModel):
    household: str
    unit: str
    applied: bool
    reason: str


class QuotaEffectOut(BaseModel):
    threshold_eur_per_consumption_unit: float = Field(
        description="The threshold applied (for a first-quartile quota, the one it resolved to)"
    )
    low_income_households: int = Field(description="Households of the round under the threshold")
    matched_outside: int = Field(description="Matches on units outside priority neighbourhoods")
    low_income_matched_outside: int = Field(description="Of those, to low-income households")
    share_reached: float | None = Field(description="Their share (null: no match outside)")
    housed_without_quota: int = Field(description="Households housed by the same round without it")
    housed_fewer: int = Field(description="How many fewer households the quota houses")


class StatsOut(BaseModel):
    households: int
    units: int
    candidate_pairs: int
    matched: int = Field(
        description="Households with a proposal; each is in at most one unit's list, so "
        "this equals candidates"
    )
    units_with_candidates: int = Field(description="Units given at least one candidate")
    candidates: int = Field(description="Proposals: matches over every unit's list")
    objective: int = Field(description="Total score of the matches")
    best_bound: int
    gap: float
    optimal: bool
    passed_over_households: int = Field(
        description="Unmatched households a feasible unit of which went to a household of "
        "lower priority (each is listed in its unmatched detail, passed_over)"
    )
    passed_over_urgent: int = Field(description="Of passed_over_households, the urgent ones")
    justified_envy_pairs: int = Field(
        description="Feasible pairs (h, u) where u went to a household of lower priority "
        "than h while h stayed unmatched or got a unit it scores lower (docs/scoring.md)"
    )
    seconds: dict[str, float] = Field(description="Time of each phase, and the total")
    income_quota: QuotaEffectOut | None = Field(
        default=None, description="What the income quota did (null: no quota)"
    )


class RoundOut(BaseModel):
    status: Literal["optimal", "feasible", "no_candidates"]
    matches: list[MatchOut]
    unmatched: list[UnmatchedOut]
    pins: list[PinOut] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="How the round was solved")
    stats: StatsOut


def result_to_json(result: matcher.RoundResult) -> dict[str, Any]:
    return RoundOut(
        status=result.status.value,
        matches=[
            MatchOut(
                household=m.household,
                unit=m.unit,
                rank=m.rank,
                score=m.score,
                score_breakdown=m.score_breakdown,
            )
            for m in result.matches
        ],
        unmatched=[
            UnmatchedOut(household=u.household, reasons=list(u.reasons), detail=u.detail)
            for u in result.unmatched
        ],
        pins=[
            PinOut(household=p.household, unit=p.unit, applied=p.applied, reason=p.reason)
            for p in result.pins
        ],
        notes=list(result.notes),
        stats=StatsOut(
            **{name: getattr(result.stats, name) for name in StatsOut.model_fields}
            | {"income_quota": _quota_effect(result.stats.income_quota)}
        ),
    ).model_dump(mode="json")


def _quota_effect(effect: matcher.QuotaEffect | None) -> QuotaEffectOut | None:
    if effect is None:
        return None
    return QuotaEffectOut(**{name: getattr(effect, name) for name in QuotaEffectOut.model_fields})


def solve_round_text(
    text: str,
    geocoder: Callable[[], Geocoder],
    today: date,
    tuning: matcher.Tuning | None = None,
) -> dict[str, Any]:
    """JSON text in, result dict out: what `housing-match solve` does (a round without a
    date is `today`'s; the geocoder is made if a place needs one; `tuning`: the benchmark's,
    to compare layouts)."""
    round_in = parse_round(text)
    instance = to_instance(round_in, geocoder)
    try:
        result = matcher.solve(
            instance, to_policy(round_in.policy.dated(today)), tuning=tuning or matcher.Tuning()
        )
    except ValueError as error:
        raise InvalidRoundFile([("$.policy", str(error))]) from None
    return result_to_json(result)


def input_schema() -> dict[str, Any]:
    return RoundIn.model_json_schema()


def result_schema() -> dict[str, Any]:
    return RoundOut.model_json_schema()


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
