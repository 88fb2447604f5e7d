"""The proposal lifecycle: the household answers, the commission decides, the lease is signed.

proposed --household accepts--> accepted --commission approves--> approved --lease--> signed
(the commission may decide first: approved while the household has not answered yet)
any refusal, rejection or missed deadline ends the proposal: the household returns to the
waiting list, the unit to the vacant ones once no other candidate is still in play, and a
refusal or rejection bars the pair from later rounds (an Exclusion).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher import Policy
from matcher.rules import step_free, wheelchair
from models import (
    ApiRole,
    Exclusion,
    Household,
    HouseholdStatus,
    MoveInChecklist,
    Proposal,
    ProposalStatus,
    Unit,
    UnitStatus,
)
from services import audit, units
from services.access import Actor
from services.errors import Conflict, InvalidInput, NotFound
from services.pages import after_id, next_cursor
from services.reasons import REASONS, Side, codes_for
from services.rounds import to_matcher_household, to_matcher_unit

# The accessibility rules read no policy parameter; any policy will do.
NO_POLICY = Policy(round_date=date.min)

LIVE = (ProposalStatus.PROPOSED, ProposalStatus.ACCEPTED, ProposalStatus.APPROVED)


def accessibility_met(household: Household, unit: Unit) -> bool:
    """Whether the unit meets the household's accessibility needs (wheelchair, step-free),
    the one health fact a landlord is told, as a yes/no."""
    matcher_household = to_matcher_household(household)
    matcher_unit = to_matcher_unit(unit, landlord_name="")
    return all(
        rule(matcher_household, matcher_unit, NO_POLICY) is None for rule in (wheelchair, step_free)
    )


class HouseholdForLandlord(BaseModel):
    """What a commission needs to decide, and nothing else: no health details, no
    workplaces. Without the household's consent, no reference or application number."""

    reference: str | None
    application_number: str | None
    size: int
    adults: int
    couple: bool
    children_ages: list[int]
    monthly_resources_eur: float
    housing_benefit_eur: float
    unit_meets_accessibility_needs: bool


class ProposalForCoordinator(BaseModel):
    """A proposal as a coordinator sees it: the household by reference, the score's parts
    (which name its needs), every answer and reason."""

    id: int
    round_id: int
    household_id: int
    household_reference: str
    unit_id: int
    unit_reference: str
    rank: int
    score: int
    score_breakdown: dict[str, int]
    status: str
    household_answer: str | None
    commission_answer: str | None
    reason_code: str | None
    reason_text: str | None
    respond_by: date | None


class ProposalForLandlord(BaseModel):
    """A proposal as its landlord sees it (the API's schema too)."""

    id: int
    unit_id: int
    unit_reference: str
    lease_kind: str
    rank: int
    status: str
    household_answer: str | None
    commission_answer: str | None
    reason_code: str | None
    respond_by: date | None
    household: HouseholdForLandlord


def seen_by_landlord(proposal: Proposal) -> ProposalForLandlord:
    """A proposal as its landlord may see it: the data-minimisation rule, in one place."""
    household, unit = proposal.household, proposal.unit
    consent = household.consent_to_share
    return ProposalForLandlord(
        id=proposal.id,
        unit_id=unit.id,
        unit_reference=unit.reference,
        lease_kind=str(unit.lease_kind),
        rank=proposal.rank,
        status=str(proposal.status),
        household_answer=proposal.household_answer,
        commission_answer=proposal.commission_answer,
        reason_code=proposal.reason_code,
        respond_by=proposal.respond_by,
        household=HouseholdForLandlord(
            reference=household.reference if consent else None,
            application_number=household.application_number if consent else None,
            size=household.size,
            adults=household.adults,
            couple=household.couple,
            children_ages=list(household.children_ages),
            monthly_resources_eur=float(household.monthly_resources_eur),
            housing_benefit_eur=float(household.housing_benefit_eur),
            unit_meets_accessibility_needs=accessibility_met(household, unit),
        ),
    )


def seen_by_coordinator(proposal: Proposal) -> ProposalForCoordinator:
    household, unit = proposal.household, proposal.unit
    return ProposalForCoordinator(
        id=proposal.id,
        round_id=proposal.round_id,
        household_id=household.id,
        household_reference=household.reference,
        unit_id=unit.id,
        unit_reference=unit.reference,
        rank=proposal.rank,
        score=proposal.score,
        score_breakdown=proposal.score_breakdown,
        status=str(proposal.status),
        household_answer=proposal.household_answer,
        commission_answer=proposal.commission_answer,
        reason_code=proposal.reason_code,
        reason_text=proposal.reason_text,
        respond_by=proposal.respond_by,
    )


def seen_by(actor: Actor, proposal: Proposal) -> ProposalForCoordinator | ProposalForLandlord:
    """A proposal as this actor may see it (a landlord: data minimised)."""
    if actor.role is ApiRole.LANDLORD:
        return seen_by_landlord(proposal)
    return seen_by_coordinator(proposal)


def get_proposal(session: Session, actor: Actor, proposal_id: int) -> Proposal:
    """A landlord sees only proposals for its own units (404 for others')."""
    actor.require(ApiRole.LANDLORD, ApiRole.COORDINATOR)
    proposal = session.scalars(
        select(Proposal)
        .where(Proposal.id == proposal_id)
        .options(
            selectinload(Proposal.unit),
            selectinload(Proposal.household).selectinload(Household.workplaces),
        )
    ).first()
    if proposal is None or not units.sees(actor, proposal.unit):
        raise NotFound("proposal", proposal_id)
    return proposal


def list_proposals(
    session: Session,
    actor: Actor,
    *,
    status: ProposalStatus | None = None,
    round_id: int | None = None,
    household_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[Sequence[Proposal], str | None]:
    actor.require(ApiRole.LANDLORD, ApiRole.COORDINATOR)
    query = (
        select(Proposal)
        .join(Proposal.unit)
        .where(Proposal.id > after_id(cursor))
        .options(
            selectinload(Proposal.unit),
            selectinload(Proposal.household).selectinload(Household.workplaces),
        )
        .order_by(Proposal.id)
        .limit(limit + 1)
    )
    query = query.where(units.visible_to(actor))
    if status is not None:
        query = query.where(Proposal.status == status)
    if round_id is not None:
        query = query.where(Proposal.round_id == round_id)
    if household_id is not None:
        query = query.where(Proposal.household_id == household_id)
    rows = session.scalars(query).all()
    return rows[:limit], next_cursor(rows, limit)


def _check_reason(side: Side, reason_code: str | None) -> None:
    if reason_code is None:
        raise InvalidInput("reason_code", f"a reason is required: one of {codes_for(side)}")
    if reason_code not in REASONS or REASONS[reason_code][0] is not side:
        raise InvalidInput(
            "reason_code", f"{reason_code!r} is not a {side} reason: one of {codes_for(side)}"
        )


def _release(session: Session, proposal: Proposal, status: ProposalStatus) -> None:
    """End a live proposal: its household waits again; its unit is vacant again unless
    another candidate is still in play."""
    proposal.status = status
    proposal.respond_by = None
    household, unit = proposal.household, proposal.unit
    if household.status is HouseholdStatus.PROPOSED:
        household.status = HouseholdStatus.WAITING
    others = session.scalars(
        select(Proposal.id).where(
            Proposal.unit_id == unit.id,
            Proposal.id != proposal.id,
            Proposal.status.in_(LIVE),
        )
    ).first()
    if others is None and unit.status is UnitStatus.PROPOSED:
        unit.status = UnitStatus.VACANT


def _say_no(
    session: Session,
    proposal: Proposal,
    side: Side,
    reason_code: str | None,
    reason_text: str | None,
) -> None:
    """A refusal (household) or rejection (commission): the proposal ends with its reason,
    and the pair is never proposed again."""
    _check_reason(side, reason_code)
    proposal.reason_code, proposal.reason_text = reason_code, reason_text
    refused = side is Side.HOUSEHOLD
    _release(session, proposal, ProposalStatus.REFUSED if refused else ProposalStatus.REJECTED)
    already = session.scalars(
        select(Exclusion.id).where(
            Exclusion.household_id == proposal.household_id, Exclusion.unit_id == proposal.unit_id
        )
    ).first()
    if already is None:
        who = "refused by the household" if refused else "rejected by the commission"
        session.add(
            Exclusion(
                household_id=proposal.household_id,
                unit_id=proposal.unit_id,
                reason=f"{who}: {reason_code}",
            )
        )


def household_response(
    session: Session,
    actor: Actor,
    proposal_id: int,
    *,
    accepted: bool,
    reason_code: str | None,
    reason_text: str | None,
    today: date,
    commission_days: int,
) -> Proposal:
    """The coordinator records the household's answer."""
    actor.require(ApiRole.COORDINATOR)
    proposal = get_proposal(session, actor, proposal_id)
    if proposal.status not in LIVE or proposal.household_answer is not None:
        raise Conflict(
            f"proposal {proposal_id} is {proposal.status}: the household has already answered "
            "or the proposal has ended",
            field="status",
        )
    before = {"status": str(proposal.status)}
    if accepted:
        proposal.household_answer = "accepted"
        if proposal.commission_answer is None:
            proposal.status = ProposalStatus.ACCEPTED
            proposal.respond_by = today + timedelta(days=commission_days)
        else:
            proposal.respond_by = None  # both said yes: the lease is next
    else:
        proposal.household_answer = "refused"
        _say_no(session, proposal, Side.HOUSEHOLD, reason_code, reason_text)
    session.flush()
    audit.record(
        session,
        actor,
        "proposal.household_response",
        "proposal",
        proposal.id,
        before=before,
        after={"status": str(proposal.status), "reason_code": proposal.reason_code},
    )
    return proposal


def commission_decision(
    session: Session,
    actor: Actor,
    proposal_id: int,
    *,
    approved: bool,
    reason_code: str | None,
    reason_text: str | None,
) -> Proposal:
    """The landlord records its attribution commission's decision."""
    actor.require(ApiRole.LANDLORD)
    proposal = get_proposal(session, actor, proposal_id)
    if proposal.status not in LIVE or proposal.commission_answer is not None:
        raise Conflict(
            f"proposal {proposal_id} is {proposal.status}: the commission has already decided "
            "or the proposal has ended",
            field="status",
        )
    before = {"status": str(proposal.status)}
    if approved:
        proposal.commission_answer = "approved"
        proposal.status = ProposalStatus.APPROVED
        if proposal.household_answer == "accepted":
            proposal.respond_by = None
    else:
        proposal.commission_answer = "rejected"
        _say_no(session, proposal, Side.LANDLORD, reason_code, reason_text)
    session.flush()
    audit.record(
        session,
        actor,
        "proposal.commission_decision",
        "proposal",
        proposal.id,
        before=before,
        after={"status": str(proposal.status), "reason_code": proposal.reason_code},
    )
    return proposal


def lease_signed(session: Session, actor: Actor, proposal_id: int) -> Proposal:
    """The unit is let, the household housed; the unit's other candidates wait again."""
    actor.require(ApiRole.LANDLORD)
    proposal = get_proposal(session, actor, proposal_id)
    if proposal.household_answer != "accepted" or proposal.commission_answer != "approved":
        raise Conflict(
            f"proposal {proposal_id} needs the household's acceptance and the commission's "
            "approval before the lease",
            field="status",
        )
    if proposal.status is not ProposalStatus.APPROVED:
        raise Conflict(f"proposal {proposal_id} is {proposal.status}", field="status")
    proposal.status = ProposalStatus.SIGNED
    proposal.respond_by = None
    proposal.unit.status = UnitStatus.LET
    proposal.household.status = HouseholdStatus.HOUSED
    others = session.scalars(
        select(Proposal)
        .where(
            Proposal.unit_id == proposal.unit_id,
            Proposal.id != proposal.id,
            Proposal.status.in_(LIVE),
        )
        .options(selectinload(Proposal.unit), selectinload(Proposal.household))
    ).all()
    for other in others:
        other.reason_code = "commission_other_candidate"
        _release(session, other, ProposalStatus.REJECTED)
    session.add(MoveInChecklist(household_id=proposal.household_id, proposal_id=proposal.id))
    session.flush()
    audit.record(
        session,
        actor,
        "proposal.lease_signed",
        "proposal",
        proposal.id,
        before={"status": "approved"},
        after={"status": "signed", "other_candidates_released": len(others)},
    )
    return proposal


def expire_overdue(session: Session, today: date) -> list[int]:
    """End the live proposals past their deadline; their household and unit return to the
    pool (no exclusion: nobody said no)."""
    overdue = session.scalars(
        select(Proposal)
        .where(Proposal.status.in_(LIVE), Proposal.respond_by < today)
        .options(selectinload(Proposal.unit), selectinload(Proposal.household))
    ).all()
    for proposal in overdue:
        proposal.reason_code = "deadline_passed"
        _release(session, proposal, ProposalStatus.EXPIRED)
        audit.record(
            session,
            audit.SYSTEM,
            "proposal.expired",
            "proposal",
            proposal.id,
            after={"status": "expired"},
        )
    session.flush()
    return [p.id for p in overdue]


def stalled(session: Session, actor: Actor, today: date, within_days: int) -> Sequence[Proposal]:
    """Live proposals whose deadline is past or within `within_days`."""
    actor.require(ApiRole.COORDINATOR)
    return session.scalars(
        select(Proposal)
        .where(
            Proposal.status.in_(LIVE),
            Proposal.respond_by.is_not(None),
            Proposal.respond_by <= today + timedelta(days=within_days),
        )
        .options(
            selectinload(Proposal.unit),
            selectinload(Proposal.household).selectinload(Household.workplaces),
        )
        .order_by(Proposal.respond_by, Proposal.id)
    ).all()
