"""Coordinators' standing overrides: pin a household to a unit or forbid a pair, with a
reason; applied to every round until removed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import DbSession, RowId, UnitOfWork
from api.pages.base import Checked, Coordinator, coordinator, redirect, render
from models import OverrideKind
from services import overrides
from services.errors import Conflict, InvalidInput

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=UnitOfWork)
Field = Annotated[str, Form(max_length=300)]


@router.get("/overrides")
def override_list(request: Request, db: DbSession, who: Coordinator) -> Response:
    return render(
        request,
        who,
        "overrides.html",
        overrides=overrides.standing_overrides(db, who.actor),
        kinds=list(OverrideKind),
        values={},
        error=None,
    )


@router.post("/overrides")
def override_form(
    request: Request,
    db: DbSession,
    who: Checked,
    kind: Annotated[OverrideKind, Form()],
    household: Field,
    unit: Field,
    reason: Field,
) -> Response:
    coordinator(who)
    try:
        overrides.add_override(db, who.actor, kind, household, unit, reason)
    except (Conflict, InvalidInput) as refused:
        return render(
            request,
            who,
            "overrides.html",
            422,
            overrides=overrides.standing_overrides(db, who.actor),
            kinds=list(OverrideKind),
            values={"kind": kind, "household": household, "unit": unit, "reason": reason},
            error=(getattr(refused, "field", None), str(refused)),
        )
    return redirect("/ui/overrides")


@router.post("/overrides/{override_id}/remove")
def remove_form(db: DbSession, who: Checked, override_id: RowId) -> Response:
    coordinator(who)
    overrides.remove_override(db, who.actor, override_id)
    return redirect("/ui/overrides")
