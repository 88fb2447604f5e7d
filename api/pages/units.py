"""Units: landlords see and manage theirs (withdraw, import a spreadsheet or an RPLS
extract); coordinators read them all, filtered."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from api.deps import CurrentGeocoder, DbSession, RowId
from api.pages.base import Checked, Landlord, Person, coordinator, landlord, redirect, render
from models import ApiRole, LeaseKind, UnitStatus
from services import units
from services.errors import InvalidImport
from services.units import UnitDefaults

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/units")
def unit_list(
    request: Request,
    db: DbSession,
    who: Person,
    status: UnitStatus | None = None,
    commune: Annotated[str | None, Query(max_length=100)] = None,
    cursor: str | None = None,
) -> Response:
    if who.actor.role is not ApiRole.LANDLORD:
        coordinator(who)
    page, next_cursor = units.list_units(
        db, who.actor, status=status, commune=commune or None, cursor=cursor, limit=100
    )
    return render(
        request,
        who,
        "units.html",
        units=page,
        next_cursor=next_cursor,
        status=status,
        commune=commune or "",
        statuses=list(UnitStatus),
        own=who.actor.role is ApiRole.LANDLORD,
    )


@router.post("/units/{unit_id}/withdraw")
def withdraw_form(db: DbSession, who: Checked, unit_id: RowId) -> Response:
    landlord(who)
    units.withdraw_unit(db, who.actor, unit_id)
    return redirect("/ui/units")


@router.get("/units/import")
def import_page(request: Request, who: Landlord) -> Response:
    return render(
        request,
        who,
        "import.html",
        action="/ui/units/import",
        kind="units",
        lease_kinds=list(LeaseKind),
    )


@router.post("/units/import")
def import_form(
    request: Request,
    db: DbSession,
    who: Checked,
    geocoder: CurrentGeocoder,
    file: Annotated[UploadFile, File()],
    available_from: Annotated[str, Form(max_length=10)] = "",
    lease_kind: Annotated[str, Form(max_length=20)] = "",
    elevator: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """A spreadsheet or an RPLS extract; the defaults (empty: none) fill the columns it
    lacks."""
    landlord(who)
    given = {"available_from": available_from, "lease_kind": lease_kind, "elevator": elevator}
    defaults = UnitDefaults.model_validate({k: v for k, v in given.items() if v}).given()
    context: dict[str, Any] = {
        "action": "/ui/units/import",
        "kind": "units",
        "lease_kinds": list(LeaseKind),
    }
    try:
        imported = units.import_landlord_units(
            db, who.actor, file.filename or "upload.csv", file.file.read(), geocoder, defaults
        )
    except InvalidImport as refused:
        return render(request, who, "import.html", 422, refused=refused, **context)
    return render(request, who, "import.html", imported=imported, **context)
