"""Proposals: coordinators follow them by status and record the household's answer;
landlords see theirs, minimised as the API gives them, and record the commission's
decision and the lease."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import AppClock, DbSession, RowId, UnitOfWork
from api.pages.base import Checked, Person, coordinator, landlord, redirect, render
from api.schemas import ReasonText
from models import ApiRole, ProposalStatus
from services import proposals
from services.reasons import Side, codes_for, label

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=UnitOfWork)
Text = Annotated[ReasonText | None, Form()]


@router.get("/proposals")
def proposal_list(
    request: Request,
    db: DbSession,
    who: Person,
    clock: AppClock,
    status: ProposalStatus | None = None,
) -> Response:
    if who.actor.role not in (ApiRole.COORDINATOR, ApiRole.LANDLORD):
        coordinator(who)
    page, next_cursor = proposals.list_proposals(db, who.actor, status=status, limit=200)
    views = [proposals.seen_by(who.actor, proposal) for proposal in page]
    if who.actor.role is ApiRole.LANDLORD:
        # ranked, unit by unit, as a commission examines them
        views.sort(key=lambda v: (v.unit_reference, v.rank))
    side = Side.LANDLORD if who.actor.role is ApiRole.LANDLORD else Side.HOUSEHOLD
    return render(
        request,
        who,
        "proposals.html",
        proposals=views,
        statuses=list(ProposalStatus),
        status=status,
        reasons=[(code, label(code, who.language)) for code in codes_for(side)],
        next_cursor=next_cursor,
        today=clock.today(),
    )


@router.post("/proposals/{proposal_id}/household-response")
def household_answer(
    request: Request,
    db: DbSession,
    who: Checked,
    clock: AppClock,
    proposal_id: RowId,
    answer: Annotated[Literal["accepted", "refused"], Form()],
    reason_code: Annotated[str | None, Form(max_length=64)] = None,
    reason_text: Text = None,
) -> Response:
    coordinator(who)
    proposals.household_response(
        db,
        who.actor,
        proposal_id,
        accepted=answer == "accepted",
        reason_code=reason_code or None,
        reason_text=reason_text or None,
        today=clock.today(),
        commission_days=request.app.state.settings.commission_response_days,
    )
    return redirect("/ui/proposals")


@router.post("/proposals/{proposal_id}/decision")
def commission_decision(
    db: DbSession,
    who: Checked,
    proposal_id: RowId,
    decision: Annotated[Literal["approved", "rejected"], Form()],
    reason_code: Annotated[str | None, Form(max_length=64)] = None,
    reason_text: Text = None,
) -> Response:
    landlord(who)
    proposals.commission_decision(
        db,
        who.actor,
        proposal_id,
        approved=decision == "approved",
        reason_code=reason_code or None,
        reason_text=reason_text or None,
    )
    return redirect("/ui/proposals")


@router.post("/proposals/{proposal_id}/lease-signed")
def lease_signed(db: DbSession, who: Checked, proposal_id: RowId) -> Response:
    landlord(who)
    proposals.lease_signed(db, who.actor, proposal_id)
    return redirect("/ui/proposals")
