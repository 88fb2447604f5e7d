"""Landlords post and manage their vacant units; coordinators read them all."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from api.deps import (
    AppClock,
    CurrentActor,
    CurrentGeocoder,
    DbSession,
    Expensive,
    RowId,
    UnitOfWork,
    UploadedFile,
)
from api.routes.openapi import CONFLICT, PROBLEMS, import_body
from api.schemas import UNIT_EXAMPLE, ImportResult, UnitOut, UnitPage, problem
from models import UnitStatus
from services import units
from services.idempotency import remember, replay_or_claim
from services.records import UnitRecord
from services.units import UnitDefaults

router = APIRouter(prefix="/v1/units", tags=["units"], route_class=UnitOfWork)

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem("No such unit among yours")}
UNITS = TypeAdapter(list[UnitOut])


UnitBody = Annotated[UnitRecord, Body(openapi_examples={"T3": {"value": UNIT_EXAMPLE}})]


@router.post(
    "",
    status_code=201,
    response_model=UnitOut,
    responses={**PROBLEMS, **CONFLICT},
    summary="Post a vacant unit",
)
def post_unit(
    body: UnitBody,
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    geocoder: CurrentGeocoder,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Retries with the same key return the first result"),
    ] = None,
) -> Any:
    """Post a vacant unit. Without lat/lon it is geocoded from commune and postcode.
    Re-posting a reference you already have is a 409 naming it."""
    path = request.url.path
    stored = replay_or_claim(db, actor, idempotency_key, path, body.model_dump(mode="json"))
    if stored is not None:
        return JSONResponse(stored.response_body, status_code=stored.status_code)
    unit = units.post_unit(db, actor, body, geocoder)
    response = UnitOut.model_validate(unit).model_dump(mode="json")
    remember(db, actor, idempotency_key, 201, response)
    return response


@router.get("", response_model=UnitPage, responses=PROBLEMS, summary="List units")
def list_units(
    db: DbSession,
    actor: CurrentActor,
    status: UnitStatus | None = None,
    commune: str | None = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """A landlord's own units (coordinators: all units), in id order, a page at a time."""
    page, next_cursor = units.list_units(
        db, actor, status=status, commune=commune, cursor=cursor, limit=limit
    )
    return UnitPage(
        items=UNITS.validate_python([u._asdict() for u in page]), next_cursor=next_cursor
    )


@router.post(
    "/import",
    dependencies=[Expensive],
    status_code=201,
    response_model=ImportResult,
    responses=PROBLEMS,
    summary="Import units from CSV or JSON, all or nothing",
    openapi_extra=import_body(
        UnitRecord,
        UNIT_EXAMPLE,
        "reference,commune,postcode,rooms,surface_m2,rent_eur,available_from\n"
        "LOT-1,Riom,63200,3,61,355,2026-12-01\n",
    ),
)
def import_units(
    file: UploadedFile,
    db: DbSession,
    actor: CurrentActor,
    geocoder: CurrentGeocoder,
    defaults: Annotated[UnitDefaults, Query()],
    clock: AppClock,
) -> Any:
    """Every row is checked first; one bad cell refuses the file, with every problem listed
    by row and column in `errors`. A row whose reference you already have updates that unit
    if it changed (a `version` column makes the update conditional). An RPLS extract is
    recognised by its item names; the query parameters fill what a file lacks."""
    imported = units.import_landlord_units(
        db, actor, file.source, file.data, geocoder, defaults.given(), today=clock.today()
    )
    return ImportResult.of(imported)


@router.get(
    "/{unit_id}", response_model=UnitOut, responses={**PROBLEMS, **NOT_FOUND}, summary="A unit"
)
def get_unit(unit_id: RowId, db: DbSession, actor: CurrentActor) -> Any:
    return UnitOut.model_validate(units.get_unit(db, actor, unit_id))


@router.patch(
    "/{unit_id}",
    response_model=UnitOut,
    responses={**PROBLEMS, **NOT_FOUND, **CONFLICT},
    summary="Change a vacant or withdrawn unit",
)
def patch_unit(
    unit_id: RowId,
    changes: Annotated[
        units.UnitChanges,
        Body(openapi_examples={"new rent": {"value": {"rent_eur": 395.0, "version": 1}}}),
    ],
    db: DbSession,
    actor: CurrentActor,
    geocoder: CurrentGeocoder,
) -> Any:
    """Only the fields given change. Give `version` to refuse the change if someone else
    changed the unit since you read it."""
    return UnitOut.model_validate(units.update_unit(db, actor, unit_id, changes, geocoder))


@router.post(
    "/{unit_id}/withdraw",
    response_model=UnitOut,
    responses={**PROBLEMS, **NOT_FOUND, **CONFLICT},
    summary="Withdraw a vacant unit",
)
def withdraw_unit(unit_id: RowId, db: DbSession, actor: CurrentActor) -> Any:
    return UnitOut.model_validate(units.withdraw_unit(db, actor, unit_id))
