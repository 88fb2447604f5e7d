"""Admins manage landlords and API keys; coordinators read the audit trail and follow each
household's move-in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from api.deps import AppClock, CurrentActor, DbSession, UnitOfWork
from api.routes.openapi import CONFLICT, PROBLEMS
from api.schemas import (
    AuditPage,
    KeyOut,
    KeyRequest,
    LandlordOut,
    NewKey,
    problem,
)
from models import ApiRole
from services import admin
from services.access import KeyCache, create_key, revoke_key
from services.records import LandlordRecord

router = APIRouter(tags=["administration"], route_class=UnitOfWork)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem("Not found")}


@router.post(
    "/v1/landlords",
    status_code=201,
    response_model=LandlordOut,
    responses={**PROBLEMS, **CONFLICT},
    summary="Register a social landlord",
)
def create_landlord(
    body: Annotated[
        LandlordRecord,
        Body(
            openapi_examples={"landlord": {"value": {"name": "Dome Habitat", "siren": "900000011"}}}
        ),
    ],
    db: DbSession,
    actor: CurrentActor,
) -> Any:
    return LandlordOut.model_validate(admin.create_landlord(db, actor, body))


@router.get(
    "/v1/landlords", response_model=list[LandlordOut], responses=PROBLEMS, summary="Landlords"
)
def list_landlords(db: DbSession, actor: CurrentActor) -> Any:
    return [LandlordOut.model_validate(lord) for lord in admin.list_landlords(db, actor)]


@router.post(
    "/v1/keys",
    status_code=201,
    response_model=NewKey,
    responses={**PROBLEMS, **NOT_FOUND},
    summary="Create an API key (shown once)",
)
def new_key(
    body: Annotated[
        KeyRequest,
        Body(
            openapi_examples={
                "landlord": {
                    "value": {"role": "landlord", "owner": "dome-erp", "landlord": "Dome Habitat"}
                }
            }
        ),
    ],
    db: DbSession,
    actor: CurrentActor,
) -> Any:
    actor.require(ApiRole.ADMIN)
    key, token = create_key(
        db, ApiRole(body.role), body.owner, body.landlord, by=f"{actor.role}:{actor.name}"
    )
    return NewKey(**KeyOut.model_validate(key).model_dump(), key=token)


@router.get("/v1/keys", response_model=list[KeyOut], responses=PROBLEMS, summary="API keys")
def list_keys(db: DbSession, actor: CurrentActor) -> Any:
    return [KeyOut.model_validate(key) for key in admin.list_keys(db, actor)]


@router.post(
    "/v1/keys/{prefix}/revoke",
    response_model=KeyOut,
    responses={**PROBLEMS, **NOT_FOUND},
    summary="Revoke an API key",
)
def revoke(
    prefix: str, request: Request, db: DbSession, actor: CurrentActor, clock: AppClock
) -> Any:
    """Refused from the next request on by this server process, within the setting
    `key_cache_seconds` by the others."""
    actor.require(ApiRole.ADMIN)
    revoked = revoke_key(db, prefix, clock.now(), by=f"{actor.role}:{actor.name}")
    keys: KeyCache = request.app.state.keys
    keys.forget(prefix)
    return KeyOut.model_validate(revoked)


@router.get("/v1/audit", response_model=AuditPage, responses=PROBLEMS, summary="Audit trail")
def audit_trail(
    db: DbSession,
    actor: CurrentActor,
    entity: str | None = None,
    entity_id: str | None = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Every state change: who, when, what, before and after (health data left out)."""
    rows, next_cursor = admin.audit_trail(
        db, actor, entity=entity, entity_id=entity_id, cursor=cursor, limit=limit
    )
    return {"items": rows, "next_cursor": next_cursor}
