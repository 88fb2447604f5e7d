"""Move-in checklists after a signed lease: each step's date, then settled."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.deps import DbSession, RowId, UnitOfWork
from api.pages.base import Checked, Coordinator, coordinator, redirect, render
from api.pages.records import form_fields
from models import MoveInChecklist
from services import households
from services.errors import InvalidInput

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=UnitOfWork)


@router.get("/move-ins")
def move_in_list(request: Request, db: DbSession, who: Coordinator) -> Response:
    return render(
        request,
        who,
        "move_ins.html",
        checklists=households.move_ins(db, who.actor),
        steps=MoveInChecklist.STEPS,
    )


@router.post("/move-ins/{household_id}")
def move_in_form(
    db: DbSession,
    who: Checked,
    household_id: RowId,
    form: Annotated[dict[str, str], Depends(form_fields)],
) -> Response:
    coordinator(who)
    steps: dict[str, date | None] = {}
    for step in MoveInChecklist.STEPS:
        given = form.get(step, "").strip()
        try:
            steps[step] = date.fromisoformat(given) if given else None
        except ValueError:
            raise InvalidInput(step, f"{given!r} is not a date") from None
    notes = form.get("notes", "").strip()[:2_000] or None
    households.update_move_in(db, who.actor, household_id, steps, notes)
    return redirect("/ui/move-ins")
