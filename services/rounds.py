"""Match rounds over the database: queue, snapshot the waiting households and vacant units,
solve, store the result on the MatchRound, and publish it as proposals."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, Text, cast, func, insert, or_, select, update
from sqlalchemy.orm import Session, defer, selectinload, sessionmaker

import matcher
from matcher.income import quota_shortfall
from models import (
    ApiRole,
    Exclusion,
    Household,
    HouseholdStatus,
    Landlord,
    MatchRound,
    Override,
    OverrideKind,
    Proposal,
    ProposalStatus,
    RoundStatus,
    Unit,
    UnitStatus,
)
from services import audit
from services.access import Actor
from services.clock import Clock
from services.errors import Conflict, NotFound, StaleRound
from services.pages import after_id, next_cursor
from services.roundfile import result_to_json, to_policy
from services.territories import ScopedPolicyIn, TerritoryIn, postcode_prefixes


def unit_key(unit: Unit, landlord_name: str) -> str:
    """The unit's id in a round: readable by a coordinator, unique across landlords."""
    return f"{landlord_name}/{unit.reference}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a round read: the instance, and each row's id and version, to publish the round
    and to notice what changed since."""

    instance: matcher.Instance
    households: dict[str, tuple[int, int]]  # reference -> (id, version)
    units: dict[str, tuple[int, int]]  # unit key -> (id, version)
    excluded_pairs: frozenset[tuple[str, str]]


def to_matcher_household(household: Household) -> matcher.Household:
    site = None
    if (
        household.care_site_lat is not None
        and household.care_site_lon is not None
        and household.care_site_max_km is not None
    ):
        site = matcher.CareSite(
            household.care_site_lat, household.care_site_lon, household.care_site_max_km
        )
    return matcher.Household(
        id=household.reference,
        adults=household.adults,
        couple=household.couple,
        children_ages=tuple(household.children_ages),
        monthly_resources_eur=float(household.monthly_resources_eur),
        housing_benefit_eur=float(household.housing_benefit_eur),
        workplaces=tuple(matcher.Point(w.lat, w.lon) for w in household.workplaces),
        needs=matcher.Needs(
            wheelchair=household.needs_wheelchair,
            reduced_mobility=household.needs_reduced_mobility,
            care_site=site,
        ),
        preferred_communes=frozenset(household.preferred_communes),
        excluded_communes=frozenset(household.excluded_communes),
        registered_on=household.registered_on,
        urgent=household.urgent,
        accepted_lease_kinds=frozenset(household.accepted_lease_kinds),
    )


def to_matcher_unit(unit: Unit, landlord_name: str) -> matcher.Unit:
    return matcher.Unit(
        id=unit_key(unit, landlord_name),
        landlord=landlord_name,
        building_id=unit.building_id,
        commune=unit.commune,
        postcode=unit.postcode,
        lat=unit.lat,
        lon=unit.lon,
        rooms=unit.rooms,
        surface_m2=float(unit.surface_m2),
        floor=unit.floor,
        elevator=unit.elevator,
        wheelchair_accessible=unit.wheelchair_accessible,
        rent_eur=float(unit.rent_eur),
        charges_eur=float(unit.charges_eur),
        in_priority_neighbourhood=unit.in_priority_neighbourhood,
        lease_kind=str(unit.lease_kind),
        available_from=unit.available_from,
    )


def take_snapshot(session: Session, territory: TerritoryIn | None = None) -> Snapshot:
    """Waiting households and vacant units (of the territory, if given), read in the
    caller's transaction."""
    household_query = (
        select(Household)
        .where(Household.status == HouseholdStatus.WAITING)
        .options(selectinload(Household.workplaces))
        .order_by(Household.reference)
    )
    unit_query = (
        select(Unit, Landlord.name)
        .join(Unit.landlord)
        .where(Unit.status == UnitStatus.VACANT)
        .order_by(Unit.id)
    )
    if territory is not None:
        household_query = household_query.where(Household.territory.in_(territory.departements))
        unit_query = unit_query.where(
            or_(
                *(
                    Unit.postcode.startswith(prefix, autoescape=True)
                    for departement in territory.departements
                    for prefix in postcode_prefixes(departement)
                )
            )
        )
    households = session.scalars(household_query).all()
    in_communes = territory.in_communes() if territory is not None else lambda _: True
    rows = [(unit, name) for unit, name in session.execute(unit_query) if in_communes(unit.commune)]
    reference_of_household = {h.id: h.reference for h in households}
    key_of_unit = {unit.id: unit_key(unit, name) for unit, name in rows}
    exclusions = session.execute(select(Exclusion.household_id, Exclusion.unit_id)).all()
    return Snapshot(
        instance=matcher.Instance(
            tuple(to_matcher_household(h) for h in households),
            tuple(to_matcher_unit(unit, name) for unit, name in rows),
        ),
        households={h.reference: (h.id, h.version) for h in households},
        units={key_of_unit[unit.id]: (unit.id, unit.version) for unit, _ in rows},
        excluded_pairs=frozenset(
            (reference_of_household[h], key_of_unit[u])
            for h, u in exclusions
            if h in reference_of_household and u in key_of_unit
        ),
    )


def override_rows(session: Session) -> Sequence[tuple[Override, str, Unit, str]]:
    """Every standing override with its household's reference, its unit and landlord."""
    rows = session.execute(
        select(Override, Household.reference, Unit, Landlord.name)
        .join(Household, Household.id == Override.household_id)
        .join(Unit, Unit.id == Override.unit_id)
        .join(Landlord, Landlord.id == Unit.landlord_id)
        .order_by(Override.id)
    ).all()
    return [(override, reference, unit, name) for override, reference, unit, name in rows]


def with_overrides(session: Session, policy: matcher.Policy, snapshot: Snapshot) -> matcher.Policy:
    """The policy with the coordinators' standing pins and forbidden pairs between the
    households and units the round read (services/overrides.py)."""
    pins, forbidden = set(policy.pinned_pairs), set(policy.forbidden_pairs)
    for override, reference, unit, landlord in override_rows(session):
        pair = (reference, unit_key(unit, landlord))
        if reference in snapshot.households and pair[1] in snapshot.units:
            (pins if override.kind is OverrideKind.PIN else forbidden).add(pair)
    return replace(policy, pinned_pairs=frozenset(pins), forbidden_pairs=frozenset(forbidden))


def queue_round(
    session: Session, actor: Actor, policy_in: ScopedPolicyIn, today: date
) -> MatchRound:
    """A round waiting for a worker (POST /v1/rounds answers 202 with it), dated `today`
    unless its policy gives a date."""
    actor.require(ApiRole.COORDINATOR)
    match_round = MatchRound(
        policy=policy_in.dated(today).model_dump(mode="json"),
        status=RoundStatus.QUEUED,
        created_by=f"{actor.role}:{actor.name}",
    )
    session.add(match_round)
    session.flush()
    audit.record(session, actor, "round.queued", "match_round", match_round.id)
    return match_round


# What a round is doing: reading the database, the matcher's phases, writing the result.
RoundPhase = Literal["loading", "candidates", "solving", "explaining", "storing"]
PHASE_TEXT: dict[RoundPhase, str] = {
    "loading": "reading the waiting households and the vacant units",
    "candidates": "finding the feasible pairs",
    "solving": "solving: most households housed, then the best score",
    "explaining": "explaining each unmatched household",
    "storing": "storing the result",
}


@dataclass(frozen=True, slots=True)
class Solved:
    result: dict[str, Any]  # the public document (services/roundfile.py's result)
    snapshot: dict[str, Any]  # each row read, by reference or unit key: [id, version]


def compute_round(
    session: Session,
    policy_document: dict[str, Any],
    on_phase: Callable[[RoundPhase], None] | None = None,
) -> Solved:
    """Read the snapshot and solve it; writes nothing. On PostgreSQL run it in a REPEATABLE
    READ transaction, so the whole read is one consistent state. `on_phase` is told when
    each phase starts."""
    if on_phase is not None:
        on_phase("loading")
    policy_in = ScopedPolicyIn.model_validate(policy_document)
    snapshot = take_snapshot(session, policy_in.territory)
    policy = to_policy(policy_in)
    policy = replace(policy, excluded_pairs=policy.excluded_pairs | snapshot.excluded_pairs)
    result = matcher.solve(snapshot.instance, with_overrides(session, policy, snapshot), on_phase)
    document = result_to_json(result)
    if policy_in.territory is not None and (
        empty := policy_in.territory.communes_without_units(
            unit.commune for unit in snapshot.instance.units
        )
    ):
        document["notes"].append(
            "territory: no vacant unit in " + ", ".join(empty) + " (communes are matched by name)"
        )
    return Solved(document, {"households": snapshot.households, "units": snapshot.units})


def store_result(session: Session, match_round: MatchRound, solved: Solved, now: datetime) -> None:
    document = solved.result
    match_round.result = document
    match_round.snapshot = solved.snapshot
    match_round.statistics = document["stats"]
    match_round.status = RoundStatus.SOLVED
    match_round.finished_at = now
    audit.record(
        session,
        match_round.worker or "system",
        "round.solved",
        "match_round",
        match_round.id,
        after={"status": "solved", "matched": document["stats"]["matched"]},
    )
    session.flush()


def run_round(
    session: Session,
    policy_in: ScopedPolicyIn,
    created_by: str,
    clock: Clock,
    on_phase: Callable[[RoundPhase], None] | None = None,
) -> MatchRound:
    """Queue and solve a round at once, in the caller's transaction (the command line)."""
    match_round = MatchRound(
        policy=policy_in.dated(clock.today()).model_dump(mode="json"),
        status=RoundStatus.RUNNING,
        created_by=created_by,
        started_at=clock.now(),
    )
    session.add(match_round)
    session.flush()
    solved = compute_round(session, match_round.policy, on_phase)
    if on_phase is not None:
        on_phase("storing")
    store_result(session, match_round, solved, clock.now())
    return match_round


def get_round(
    session: Session, actor: Actor, round_id: int, *, for_update: bool = False
) -> MatchRound:
    """The round; `for_update` locks its row until the transaction ends (PostgreSQL)."""
    actor.require(ApiRole.COORDINATOR)
    match_round = session.get(MatchRound, round_id, with_for_update=for_update)
    if match_round is None:
        raise NotFound("round", round_id)
    return match_round


# Characters of a stored result read at a time: what serving a result costs the API in memory.
RESULT_CHUNK = 1 << 20


def has_result(match_round: MatchRound) -> bool:
    """Known without loading the result: it is stored with the status solved."""
    return match_round.status in (RoundStatus.SOLVED, RoundStatus.PUBLISHED)


def stored_result(
    sessions: sessionmaker[Session], round_id: int, chunk: int = RESULT_CHUNK
) -> Iterator[str]:
    """A round's result as the JSON text it is stored as, a chunk at a time, all from one
    transaction (on PostgreSQL, one snapshot): a result of any size costs a chunk of memory.
    Its own session, as a response streams after the request's transaction has ended."""
    text = cast(MatchRound.result, Text)
    with sessions() as session, session.begin():
        bind = session.get_bind()
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        start = 1
        while piece := session.scalar(
            select(func.substr(text, start, chunk)).where(MatchRound.id == round_id)
        ):
            yield piece
            start += chunk


def list_rounds(
    session: Session,
    actor: Actor,
    *,
    status: RoundStatus | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> tuple[Sequence[MatchRound], str | None]:
    """Rounds, newest first; their results are left in the database (megabytes each)."""
    actor.require(ApiRole.COORDINATOR)
    query = (
        select(MatchRound)
        .options(defer(MatchRound.result, raiseload=True))
        .order_by(MatchRound.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(MatchRound.id < after_id(cursor))
    if status is not None:
        query = query.where(MatchRound.status == status)
    rows = session.scalars(query).all()
    return rows[:limit], next_cursor(rows, limit)


def progress(session: Session, match_round: MatchRound, now: datetime) -> str:
    """Where the round stands, in words a coordinator can act on."""
    if match_round.status is RoundStatus.QUEUED:
        ahead = session.scalar(
            select(func.count()).where(
                MatchRound.status == RoundStatus.QUEUED, MatchRound.id < match_round.id
            )
        )
        return f"waiting for a worker ({ahead} round(s) ahead)"
    if match_round.status is RoundStatus.RUNNING and match_round.started_at is not None:
        elapsed = (now - match_round.started_at).total_seconds()
        beat = ""
        if (
            match_round.heartbeat_at is not None
            and match_round.heartbeat_at != match_round.started_at
        ):
            beat = f", last heartbeat {(now - match_round.heartbeat_at).total_seconds():.0f} s ago"
        return f"solving on {match_round.worker} for {elapsed:.0f} s{beat}"
    if match_round.status is RoundStatus.FAILED:
        return f"failed: {match_round.error}"
    if match_round.started_at is not None and match_round.finished_at is not None:
        took = (match_round.finished_at - match_round.started_at).total_seconds()
        return f"{match_round.status}; the solve took {took:.1f} s"
    return str(match_round.status)


@dataclass(frozen=True, slots=True)
class Publication:
    proposal_ids: list[int]
    left_out: list[str]  # households and units changed since the round, with their pairs


def publish_round(
    session: Session,
    actor: Actor,
    round_id: int,
    clock: Clock,
    household_days: int,
    *,
    skip_changed: bool = False,
) -> Publication:
    """Proposals for every match, units and households moved to PROPOSED, in one
    transaction; or StaleRound listing what changed since the round read it, and nothing.

    With `skip_changed`, the pairs of households and units that changed are left out (they
    wait for the next round) and the rest is published: a coordinator's way through a round
    that landlords keep editing (0 of 250 publishes succeeded in 45 s at 5 unit edits a
    second). Leaving pairs out only frees places, so every pair kept stays feasible; what
    it can break is the income quota, and then nothing is published (run the round again).
    Ranks are renumbered among the candidates kept on each unit.

    Concurrent publishes of one round wait for each other on the round's row (the later
    ones find it published: 409, where they were 500s); the units and households are locked
    in id order while they are checked and changed, so an edit racing the publish either
    lands before it (and the round is stale) or waits for it (and meets a proposed record)."""
    match_round = get_round(session, actor, round_id, for_update=True)
    if (
        match_round.status is not RoundStatus.SOLVED
        or match_round.result is None
        or match_round.snapshot is None
    ):
        raise Conflict(
            f"round {round_id} is {match_round.status}: only a solved round can be published",
            field="status",
        )
    snapshot = match_round.snapshot
    matches = match_round.result["matches"]
    household_ids = {m["household"]: snapshot["households"][m["household"]] for m in matches}
    unit_ids = {m["unit"]: snapshot["units"][m["unit"]] for m in matches}
    # Locked and read for their versions only: whole rows cost 1 s of JSON decoding at 5,000.
    household_versions = dict(
        session.execute(
            select(Household.id, Household.version)
            .where(Household.id.in_([i for i, _ in household_ids.values()]))
            .order_by(Household.id)
            .with_for_update()
        ).all()
    )
    unit_versions = dict(
        session.execute(
            select(Unit.id, Unit.version)
            .where(Unit.id.in_([i for i, _ in unit_ids.values()]))
            .order_by(Unit.id)
            .with_for_update()
        ).all()
    )
    changed_households = {
        reference
        for reference, (row_id, version) in household_ids.items()
        if household_versions.get(row_id) != version
    }
    changed_units = {
        key for key, (row_id, version) in unit_ids.items() if unit_versions.get(row_id) != version
    }
    changed = sorted(
        [f"household {reference}" for reference in changed_households]
        + [f"unit {key}" for key in changed_units]
    )
    if changed and not skip_changed:
        raise StaleRound(round_id, changed)
    kept = [
        m
        for m in matches
        if m["household"] not in changed_households and m["unit"] not in changed_units
    ]

    if len(kept) < len(matches) and _breaks_quota(
        match_round, *_rows_of_pairs(session, [kept, matches], household_ids, unit_ids)
    ):
        raise Conflict(
            f"round {round_id}: publishing only the pairs that did not change would break the "
            "income quota, nothing was published: run the round again; changed: "
            + ", ".join(changed),
            field="skip_changed",
        )
    rows = []
    ranks: dict[str, int] = {}
    for match in sorted(kept, key=lambda m: (m["unit"], m["rank"])):
        ranks[match["unit"]] = ranks.get(match["unit"], 0) + 1
        rows.append(
            {
                "round_id": round_id,
                "household_id": household_ids[match["household"]][0],
                "unit_id": unit_ids[match["unit"]][0],
                "rank": ranks[match["unit"]],
                "score": match["score"],
                "score_breakdown": match["score_breakdown"],
                "status": ProposalStatus.PROPOSED,
                "respond_by": clock.today() + timedelta(days=household_days),
            }
        )
    # A statement for all the rows, not one a row: at 5,000 x 5,000 the unit of work's 8,500
    # UPDATEs and its inserts took 4 of the publish's 6.5 s. The rows are locked and their
    # versions were checked above, so the versions move on here.
    proposal_ids = (
        list(session.scalars(insert(Proposal).returning(Proposal.id), rows)) if rows else []
    )
    for record, status, ids in (
        (Household, HouseholdStatus.PROPOSED, {row["household_id"] for row in rows}),
        (Unit, UnitStatus.PROPOSED, {row["unit_id"] for row in rows}),
    ):
        if ids:
            session.execute(
                update(record)
                .where(record.id.in_(sorted(ids)))
                .values(status=status, version=record.version + 1)
            )
    match_round.status = RoundStatus.PUBLISHED
    match_round.published_at = clock.now()
    session.flush()
    audit.record(
        session,
        actor,
        "round.published",
        "match_round",
        round_id,
        before={"status": "solved"},
        after={"status": "published", "proposals": len(proposal_ids), "left_out": len(changed)},
    )
    return Publication(proposal_ids, changed)


def _rows_of_pairs(
    session: Session,
    chosen: list[list[dict[str, Any]]],
    household_ids: dict[str, tuple[int, int]],
    unit_ids: dict[str, tuple[int, int]],
) -> list[list[tuple[Household, Unit]]]:
    """The households and units of each list of matches, as rows (already locked)."""
    households = {
        h.id: h
        for h in session.scalars(
            select(Household)
            .where(Household.id.in_([i for i, _ in household_ids.values()]))
            .options(selectinload(Household.workplaces))
        )
    }
    units = {
        u.id: u
        for u in session.scalars(select(Unit).where(Unit.id.in_([i for i, _ in unit_ids.values()])))
    }
    return [
        [
            (households[household_ids[m["household"]][0]], units[unit_ids[m["unit"]][0]])
            for m in some
        ]
        for some in chosen
    ]


def _breaks_quota(
    match_round: MatchRound,
    kept: list[tuple[Household, Unit]],
    matches: list[tuple[Household, Unit]],
) -> bool:
    """Whether the pairs kept fall short of an income quota that all the round's pairs
    met, at the threshold the round applied."""
    effect = (match_round.result or {}).get("stats", {}).get("income_quota")
    if effect is None:
        return False
    quota = matcher.IncomeQuota(
        share=match_round.policy["income_quota"]["share"],
        threshold_eur_per_consumption_unit=effect["threshold_eur_per_consumption_unit"],
    )

    def shortfall(pairs: list[tuple[Household, Unit]]) -> float:
        return quota_shortfall(
            quota, [(to_matcher_household(h), to_matcher_unit(u, "")) for h, u in pairs]
        )

    return shortfall(kept) > 1e-9 and shortfall(matches) <= 1e-9
