"""Coordinators' pages of the households: the waiting list, a record, imports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response

from api.deps import CurrentGeocoder, DbSession, RowId, UnitOfWork
from api.pages.base import Checked, Coordinator, coordinator, redirect, render
from api.pages.records import field_for, form_fields, form_page, parse
from api.pages.text import TEXT
from models import HouseholdStatus
from services import admin, households, proposals, templates
from services.errors import Conflict, InvalidImport, InvalidInput
from services.imports import HOUSEHOLD_EDITABLE
from services.territories import NO_TERRITORY

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=UnitOfWork)


@router.get("/households")
def household_list(
    request: Request,
    db: DbSession,
    who: Coordinator,
    status: HouseholdStatus | None = HouseholdStatus.WAITING,
    urgent: bool | None = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
    territory: Annotated[str | None, Query(max_length=4)] = None,
    cursor: str | None = None,
) -> Response:
    page, next_cursor = households.list_households(
        db,
        who.actor,
        status=status,
        urgent=urgent,
        reference_contains=q,
        territory=territory or None,
        cursor=cursor,
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
        territory=territory or "",
        territories=households.territories_in_use(db, who.actor),
        no_territory=NO_TERRITORY,
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


@router.get("/households/new")
def new_household_page(request: Request, who: Coordinator) -> Response:
    return form_page(
        request, who, "households", "/ui/households/new", TEXT[who.language]["new_household"], {}
    )


@router.post("/households/new")
def new_household_form(
    request: Request,
    db: DbSession,
    who: Checked,
    geocoder: CurrentGeocoder,
    form: Annotated[dict[str, str], Depends(form_fields)],
) -> Response:
    coordinator(who)
    title = TEXT[who.language]["new_household"]
    record, errors = parse("households", form)
    if record is None:
        return form_page(request, who, "households", "/ui/households/new", title, form, errors)
    try:
        household = households.create_household(db, who.actor, record, geocoder)
    except (Conflict, InvalidInput) as refused:
        place = field_for(getattr(refused, "field", None) or "reference")
        return form_page(
            request, who, "households", "/ui/households/new", title, form, {place: str(refused)}
        )
    return redirect(f"/ui/households/{household.id}")


@router.get("/households/{household_id}/edit")
def edit_household_page(
    request: Request, db: DbSession, who: Coordinator, household_id: RowId
) -> Response:
    household = households.get_household(db, who.actor, household_id)
    values = templates.flat_values("households", households.as_record(household))
    title = TEXT[who.language]["edit_household"].format(reference=household.reference)
    action = f"/ui/households/{household_id}/edit"
    return form_page(request, who, "households", action, title, values, version=household.version)


@router.post("/households/{household_id}/edit")
def edit_household_form(
    request: Request,
    db: DbSession,
    who: Checked,
    geocoder: CurrentGeocoder,
    household_id: RowId,
    form: Annotated[dict[str, str], Depends(form_fields)],
) -> Response:
    coordinator(who)
    household = households.get_household(db, who.actor, household_id)
    title = TEXT[who.language]["edit_household"].format(reference=household.reference)
    action = f"/ui/households/{household_id}/edit"
    version = int(form["version"]) if form.get("version", "").isdigit() else None
    record, errors = parse("households", form)
    if record is None:
        return form_page(request, who, "households", action, title, form, errors, version)
    try:
        changes = households.HouseholdChanges(**record.model_dump(), version=version)
        households.update_household(db, who.actor, household_id, changes, geocoder)
    except (Conflict, InvalidInput) as refused:
        place = field_for(getattr(refused, "field", None) or "reference")
        return form_page(
            request, who, "households", action, title, form, {place: str(refused)}, version
        )
    return redirect(f"/ui/households/{household_id}")


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
        exclusions=households.exclusions_of(db, who.actor, household_id),
        history=history,
        withdrawable=household.status is HouseholdStatus.WAITING,
        editable=household.status in HOUSEHOLD_EDITABLE,
    )


@router.post("/households/{household_id}/withdraw")
def withdraw_form(db: DbSession, who: Checked, household_id: RowId) -> Response:
    households.withdraw_household(db, who.actor, household_id)
    return redirect(f"/ui/households/{household_id}")
