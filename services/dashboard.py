"""What a coordinator looks at first: who waits, what is vacant, what awaits an answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    ApiRole,
    Household,
    HouseholdStatus,
    MatchRound,
    MoveInChecklist,
    Proposal,
    ProposalStatus,
    Unit,
    UnitStatus,
)
from services.access import Actor
from services.proposals import LIVE, stalled
from services.rounds import list_rounds

# A live proposal is "close to its deadline" within this many days.
DEADLINE_WARNING_DAYS = 3
LAST_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class Dashboard:
    waiting: int
    urgent: int
    longest_wait_days: int | None
    vacant_units: int
    last_rounds: Sequence[MatchRound]
    awaiting_answer: int
    near_deadline: Sequence[Proposal]
    signed: int  # leases signed whose move-in is not settled yet


def coordinator_dashboard(session: Session, actor: Actor, today: date) -> Dashboard:
    actor.require(ApiRole.COORDINATOR)
    waiting = Household.status == HouseholdStatus.WAITING
    count = func.count()
    oldest = session.scalar(select(func.min(Household.registered_on)).where(waiting))
    checklists = session.scalars(select(MoveInChecklist)).all()
    return Dashboard(
        waiting=session.scalar(select(count).where(waiting)) or 0,
        urgent=session.scalar(select(count).where(waiting, Household.urgent)) or 0,
        longest_wait_days=(today - oldest).days if oldest else None,
        vacant_units=session.scalar(select(count).where(Unit.status == UnitStatus.VACANT)) or 0,
        last_rounds=list_rounds(session, actor, limit=LAST_ROUNDS)[0],
        awaiting_answer=session.scalar(select(count).where(Proposal.status.in_(LIVE))) or 0,
        near_deadline=stalled(session, actor, today, DEADLINE_WARNING_DAYS),
        signed=sum(1 for checklist in checklists if not checklist.settled)
        + (
            session.scalar(
                select(count).where(
                    Proposal.status == ProposalStatus.SIGNED,
                    Proposal.household_id.not_in(select(MoveInChecklist.household_id)),
                )
            )
            or 0
        ),
    )
