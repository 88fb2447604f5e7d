"""Coordinators' pages of the households: the waiting list, a record, imports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response

from api.deps import CurrentGeocoder, DbSession, RowId
from api.pages.base import Checked, Coordinator, coordinator, redirect, render
from models import HouseholdStatus
from services import admin, households, proposals
from services.errors import InvalidImport

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/households")
def household_list(
    request: Request,
    db: DbSession,
    who: Coordinator,
    status: HouseholdStatus | None = HouseholdStatus.WAITING,
    urgent: bool | None = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
    cursor: str | None = None,
) -> Response:
    page, next_cursor = households.list_households(
        db, who.actor, status=status, urgent=urgent, reference_contains=q, cursor=cursor
    )
    return render(
        request,
        who,
        "households.html",
        households=page,
        next_cursor=next_cursor,
        status=status,
        urgent=urgent,
        q=q or "",
        statuses=list(HouseholdStatus),
    )


@router.get("/households/import")
def import_page(request: Request, who: Coordinator) -> Response:
    return render(request, who, "import.html", action="/ui/households/import", kind="households")


@router.post("/households/import")
def import_form(
    request: Request,
    db: DbSession,
    who: Checked,
    geocoder: CurrentGeocoder,
    file: Annotated[UploadFile, File()],
) -> Response:
    coordinator(who)
    data = file.file.read()
    try:
        imported = households.import_coordinator_households(
            db, who.actor, file.filename or "upload.csv", data, geocoder
        )
    except InvalidImport as refused:
        return render(
            request,
            who,
            "import.html",
            422,
            action="/ui/households/import",
            kind="households",
            refused=refused,
        )
    return render(
        request,
        who,
        "import.html",
        action="/ui/households/import",
        kind="households",
        imported=imported,
    )


@router.get("/households/{household_id}")
def household_page(
    request: Request, db: DbSession, who: Coordinator, household_id: RowId
) -> Response:
    household = households.get_household(db, who.actor, household_id)
    its_proposals, _ = proposals.list_proposals(db, who.actor, household_id=household_id)
    history, _ = admin.audit_trail(db, who.actor, entity="household", entity_id=str(household_id))
    return render(
        request,
        who,
        "household.html",
        household=household,
        proposals=its_proposals,
        history=history,
        withdrawable=household.status is HouseholdStatus.WAITING,
    )


@router.post("/households/{household_id}/withdraw")
def withdraw_form(db: DbSession, who: Checked, household_id: RowId) -> Response:
    households.withdraw_household(db, who.actor, household_id)
    return redirect(f"/ui/households/{household_id}")
