"""Coordinators keep the list of households waiting to be housed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from api.deps import (
    CurrentActor,
    CurrentGeocoder,
    DbSession,
    Expensive,
    RowId,
    UnitOfWork,
    UploadedFile,
)
from api.routes.openapi import CONFLICT, PROBLEMS, import_body
from api.schemas import (
    HOUSEHOLD_EXAMPLE,
    HouseholdOut,
    HouseholdPage,
    ImportResult,
    MoveInOut,
    MoveInUpdate,
    problem,
)
from models import HouseholdStatus
from services import erasure, households
from services.records import HouseholdRecord
from services.territories import TERRITORY_FILTER_PATTERN

router = APIRouter(prefix="/v1/households", tags=["households"], route_class=UnitOfWork)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem("No such household")}


@router.post(
    "",
    status_code=201,
    response_model=HouseholdOut,
    responses={**PROBLEMS, **CONFLICT},
    summary="Register a household waiting for housing",
)
def create_household(
    body: Annotated[
        HouseholdRecord, Body(openapi_examples={"family": {"value": HOUSEHOLD_EXAMPLE}})
    ],
    db: DbSession,
    actor: CurrentActor,
    geocoder: CurrentGeocoder,
) -> Any:
    """Workplaces given by commune and postcode are geocoded."""
    return HouseholdOut.model_validate(households.create_household(db, actor, body, geocoder))


@router.get("", response_model=HouseholdPage, responses=PROBLEMS, summary="List households")
def list_households(
    db: DbSession,
    actor: CurrentActor,
    status: HouseholdStatus | None = None,
    urgent: bool | None = None,
    territory: Annotated[
        str | None,
        Query(
            pattern=TERRITORY_FILTER_PATTERN,
            description="The département that follows them (63, 2A, 974), or `none`: those "
            "no round scoped to a territory reads",
        ),
    ] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    page, next_cursor = households.list_households(
        db, actor, status=status, urgent=urgent, territory=territory, cursor=cursor, limit=limit
    )
    return HouseholdPage(
        items=[HouseholdOut.model_validate(h) for h in page], next_cursor=next_cursor
    )


@router.post(
    "/import",
    dependencies=[Expensive],
    status_code=201,
    response_model=ImportResult,
    responses=PROBLEMS,
    summary="Import households from JSON or CSV, all or nothing",
    openapi_extra=import_body(
        HouseholdRecord,
        HOUSEHOLD_EXAMPLE,
        "reference,adults,monthly_resources_eur,registered_on,children_ages\n"
        "HH-1,1,646,2026-10-01,\nHH-2,2,1400,2026-09-15,4;9\n",
    ),
)
def import_households(
    file: UploadedFile, db: DbSession, actor: CurrentActor, geocoder: CurrentGeocoder
) -> Any:
    """JSON, CSV or a spreadsheet. In a CSV or a sheet, list columns hold values separated
    by ';', and workplaces and needs are written as JSON in their cell. One bad row refuses
    the file, every problem listed by row and field."""
    imported = households.import_coordinator_households(db, actor, file.source, file.data, geocoder)
    return ImportResult.of(imported)


@router.get(
    "/{household_id}",
    response_model=HouseholdOut,
    responses={**PROBLEMS, **NOT_FOUND},
    summary="A household",
)
def get_household(household_id: RowId, db: DbSession, actor: CurrentActor) -> Any:
    return HouseholdOut.model_validate(households.get_household(db, actor, household_id))


@router.patch(
    "/{household_id}",
    response_model=HouseholdOut,
    responses={**PROBLEMS, **NOT_FOUND, **CONFLICT},
    summary="Change a waiting or withdrawn household",
)
def patch_household(
    household_id: RowId,
    changes: Annotated[
        households.HouseholdChanges,
        Body(
            openapi_examples={
                "new job": {
                    "value": {
                        "workplaces": [{"commune": "Riom", "postcode": "63200"}],
                        "version": 1,
                    }
                }
            }
        ),
    ],
    db: DbSession,
    actor: CurrentActor,
    geocoder: CurrentGeocoder,
) -> Any:
    """Any field of the household; the result is validated as a whole. Give `version` to
    refuse the change if the household changed since you read it."""
    household = households.update_household(db, actor, household_id, changes, geocoder)
    return HouseholdOut.model_validate(household)


@router.post(
    "/{household_id}/withdraw",
    response_model=HouseholdOut,
    responses={**PROBLEMS, **NOT_FOUND, **CONFLICT},
    summary="Take a household off the waiting list",
)
def withdraw_household(household_id: RowId, db: DbSession, actor: CurrentActor) -> Any:
    return HouseholdOut.model_validate(households.withdraw_household(db, actor, household_id))


@router.post(
    "/{household_id}/erase",
    response_model=HouseholdOut,
    responses={**PROBLEMS, **NOT_FOUND, **CONFLICT},
    summary="Erase a household's personal data on request (GDPR art. 17)",
)
def erase_household(household_id: RowId, db: DbSession, actor: CurrentActor) -> Any:
    """Irreversible: the record is anonymised in place (reference `erased-<id>`), with its
    health data, workplaces and free text, and so are the audit trail's payloads about it
    and every stored round that names it. Proposals, units and statistics keep their
    history. Refused (409) while a proposal of the household is live."""
    return HouseholdOut.model_validate(erasure.erase_household(db, actor, household_id))


@router.get(
    "/{household_id}/move-in",
    response_model=MoveInOut,
    responses={**PROBLEMS, **NOT_FOUND},
    summary="The household's move-in checklist",
)
def move_in(household_id: RowId, db: DbSession, actor: CurrentActor) -> Any:
    """Opened when the lease is signed; `settled` once every step has a date."""
    return MoveInOut.model_validate(households.move_in(db, actor, household_id))


@router.patch(
    "/{household_id}/move-in",
    response_model=MoveInOut,
    responses={**PROBLEMS, **NOT_FOUND},
    summary="Record move-in steps",
)
def update_move_in(
    household_id: RowId,
    body: Annotated[
        MoveInUpdate,
        Body(
            openapi_examples={
                "meters and insurance": {
                    "value": {"meters_opened_on": "2027-01-04", "home_insurance_on": "2027-01-05"}
                }
            }
        ),
    ],
    db: DbSession,
    actor: CurrentActor,
) -> Any:
    given = body.model_dump(exclude_unset=True)
    notes = given.pop("notes", None)
    return MoveInOut.model_validate(
        households.update_move_in(db, actor, household_id, given, notes)
    )
