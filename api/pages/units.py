"""Units: landlords see and manage theirs (withdraw, import a spreadsheet or an RPLS
extract); coordinators read them all, filtered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from api.deps import AppClock, CurrentGeocoder, DbSession, RowId, UnitOfWork
from api.pages.base import Checked, Landlord, Person, coordinator, landlord, redirect, render
from api.pages.records import form_fields, form_page, parse
from api.pages.text import TEXT
from models import ApiRole, LeaseKind, UnitStatus
from services import admin, audit, maps, templates, units
from services.errors import Conflict, InvalidImport, InvalidInput
from services.units import UnitChanges, UnitDefaults, UnitFilter

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=UnitOfWork)


# The map draws at most this many units of the filter (the table pages through them all).
MAPPED_UNITS = 4_000


@router.get("/units")
def unit_list(
    request: Request,
    db: DbSession,
    who: Person,
    status: UnitStatus | None = None,
    commune: Annotated[str | None, Query(max_length=100)] = None,
    landlord_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    min_rooms: Annotated[int | None, Query(ge=1, le=20)] = None,
    accessible: bool | None = None,
    cursor: str | None = None,
) -> Response:
    if who.actor.role is not ApiRole.LANDLORD:
        coordinator(who)
    among = UnitFilter(status, commune or None, landlord_id, min_rooms, accessible)
    page, next_cursor = units.list_units(db, who.actor, cursor=cursor, limit=100, among=among)
    places = units.unit_places(db, who.actor, among, MAPPED_UNITS)
    projection = maps.Projection.fitting((lat, lon) for _, lat, lon, _ in places)
    own = who.actor.role is ApiRole.LANDLORD
    return render(
        request,
        who,
        "units.html",
        units=page,
        next_cursor=next_cursor,
        status=status,
        commune=commune or "",
        landlord_id=landlord_id,
        min_rooms=min_rooms,
        accessible=accessible,
        statuses=list(UnitStatus),
        landlords=[] if own else admin.list_landlords(db, who.actor),
        own=own,
        dots=[(*projection.xy(lat, lon), str(state)) for _, lat, lon, state in places]
        if projection
        else [],
        labels=maps.commune_labels(projection, places_by_commune(places), 16) if projection else [],
        scale=projection.scale_bar() if projection else None,
        map_size=(maps.WIDTH, maps.HEIGHT),
    )


def places_by_commune(
    places: Sequence[tuple[str, float, float, UnitStatus]],
) -> list[tuple[str, float, float]]:
    return [(commune, lat, lon) for commune, lat, lon, _ in places]


@router.get("/units/new")
def new_unit_page(request: Request, who: Landlord) -> Response:
    return form_page(request, who, "units", "/ui/units/new", TEXT[who.language]["new_unit"], {})


@router.post("/units/new")
def new_unit_form(
    request: Request,
    db: DbSession,
    who: Checked,
    geocoder: CurrentGeocoder,
    form: Annotated[dict[str, str], Depends(form_fields)],
) -> Response:
    landlord(who)
    title = TEXT[who.language]["new_unit"]
    record, errors = parse("units", form)
    if record is None:
        return form_page(request, who, "units", "/ui/units/new", title, form, errors)
    try:
        units.post_unit(db, who.actor, record, geocoder)
    except (Conflict, InvalidInput) as refused:
        place = getattr(refused, "field", None) or "reference"
        return form_page(request, who, "units", "/ui/units/new", title, form, {place: str(refused)})
    return redirect("/ui/units")


@router.get("/units/{unit_id}/edit")
def edit_unit_page(request: Request, db: DbSession, who: Landlord, unit_id: RowId) -> Response:
    unit = units.get_unit(db, who.actor, unit_id)
    values = templates.flat_values("units", audit.snapshot(unit))
    title = TEXT[who.language]["edit_unit"].format(reference=unit.reference)
    return form_page(
        request, who, "units", f"/ui/units/{unit_id}/edit", title, values, version=unit.version
    )


@router.post("/units/{unit_id}/edit")
def edit_unit_form(
    request: Request,
    db: DbSession,
    who: Checked,
    geocoder: CurrentGeocoder,
    unit_id: RowId,
    form: Annotated[dict[str, str], Depends(form_fields)],
) -> Response:
    landlord(who)
    unit = units.get_unit(db, who.actor, unit_id)
    title = TEXT[who.language]["edit_unit"].format(reference=unit.reference)
    action = f"/ui/units/{unit_id}/edit"
    version = int(form["version"]) if form.get("version", "").isdigit() else None
    record, errors = parse("units", {**form, "reference": unit.reference})
    if record is None:
        return form_page(request, who, "units", action, title, form, errors, version)
    changes = UnitChanges.model_validate(
        record.model_dump(exclude={"landlord", "reference"}) | {"version": version}
    )
    try:
        units.update_unit(db, who.actor, unit_id, changes, geocoder)
    except (Conflict, InvalidInput) as refused:
        place = getattr(refused, "field", None) or "reference"
        return form_page(request, who, "units", action, title, form, {place: str(refused)}, version)
    return redirect("/ui/units")


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
    clock: AppClock,
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
            db,
            who.actor,
            file.filename or "upload.csv",
            file.file.read(),
            geocoder,
            defaults,
            today=clock.today(),
        )
    except InvalidImport as refused:
        return render(request, who, "import.html", 422, refused=refused, **context)
    return render(request, who, "import.html", imported=imported, **context)
