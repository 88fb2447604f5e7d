"""Proposals: landlords see theirs, data minimised, and record the commission's decision and
the lease; coordinators see all and record the household's answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from api.deps import AppClock, CurrentActor, DbSession, RowId, UnitOfWork
from api.routes.openapi import CONFLICT, PROBLEMS
from api.schemas import (
    CommissionDecision,
    HouseholdAnswer,
    ProposalPage,
    problem,
)
from models import ProposalStatus
from services import proposals
from services.proposals import ProposalForCoordinator, ProposalForLandlord

router = APIRouter(prefix="/v1/proposals", tags=["proposals"], route_class=UnitOfWork)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem("No such proposal among yours")}


@router.get("", response_model=ProposalPage, responses=PROBLEMS, summary="List proposals")
def list_proposals(
    db: DbSession,
    actor: CurrentActor,
    status: ProposalStatus | None = None,
    round_id: RowId | None = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """A landlord's: only for its units, with the household's size, composition and
    resources, never health details or workplaces."""
    page, next_cursor = proposals.list_proposals(
        db, actor, status=status, round_id=round_id, cursor=cursor, limit=limit
    )
    return {"items": [proposals.seen_by(actor, p) for p in page], "next_cursor": next_cursor}


@router.get(
    "/stalled",
    response_model=list[ProposalForCoordinator],
    responses=PROBLEMS,
    summary="Proposals close to or past their deadline",
)
def stalled(request: Request, db: DbSession, actor: CurrentActor, clock: AppClock) -> Any:
    settings = request.app.state.settings
    rows = proposals.stalled(db, actor, clock.today(), settings.stalled_within_days)
    return [proposals.seen_by(actor, p) for p in rows]


@router.get("/{proposal_id}", responses={**PROBLEMS, **NOT_FOUND}, summary="A proposal")
def get_proposal(proposal_id: RowId, db: DbSession, actor: CurrentActor) -> Any:
    return proposals.seen_by(actor, proposals.get_proposal(db, actor, proposal_id))


@router.post(
    "/{proposal_id}/household-response",
    response_model=ProposalForCoordinator,
    responses={**PROBLEMS, **NOT_FOUND, **CONFLICT},
    summary="Record the household's answer",
)
def household_response(
    proposal_id: RowId,
    body: Annotated[
        HouseholdAnswer,
        Body(
            openapi_examples={
                "accepted": {"value": {"answer": "accepted"}},
                "refused": {
                    "value": {
                        "answer": "refused",
                        "reason_code": "too_far_from_work",
                        "reason_text": "two hours by bus to the factory",
                    }
                },
            }
        ),
    ],
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    clock: AppClock,
) -> Any:
    """A refusal needs a household-side reason code (docs/reasons.md); it bars the pair from
    later rounds and returns the household to the waiting list."""
    proposal = proposals.household_response(
        db,
        actor,
        proposal_id,
        accepted=body.answer == "accepted",
        reason_code=body.reason_code,
        reason_text=body.reason_text,
        today=clock.today(),
        commission_days=request.app.state.settings.commission_response_days,
    )
    return proposals.seen_by(actor, proposal)


@router.post(
    "/{proposal_id}/decision",
    response_model=ProposalForLandlord,
    responses={**PROBLEMS, **NOT_FOUND, **CONFLICT},
    summary="Record the attribution commission's decision",
)
def decision(
    proposal_id: RowId,
    body: Annotated[
        CommissionDecision,
        Body(
            openapi_examples={
                "approved": {"value": {"decision": "approved"}},
                "rejected": {
                    "value": {
                        "decision": "rejected",
                        "reason_code": "commission_file_incomplete",
                        "reason_text": "tax notice missing",
                    }
                },
            }
        ),
    ],
    db: DbSession,
    actor: CurrentActor,
) -> Any:
    """A rejection needs a landlord-side reason code (docs/reasons.md)."""
    proposal = proposals.commission_decision(
        db,
        actor,
        proposal_id,
        approved=body.decision == "approved",
        reason_code=body.reason_code,
        reason_text=body.reason_text,
    )
    return proposals.seen_by(actor, proposal)


@router.post(
    "/{proposal_id}/lease-signed",
    response_model=ProposalForLandlord,
    responses={**PROBLEMS, **NOT_FOUND, **CONFLICT},
    summary="Record the signed lease",
)
def lease_signed(proposal_id: RowId, db: DbSession, actor: CurrentActor) -> Any:
    """The unit becomes let, the household housed; the unit's other candidates wait again."""
    return proposals.seen_by(actor, proposals.lease_signed(db, actor, proposal_id))
