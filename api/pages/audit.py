"""The audit trail, filtered by the kind of record and its id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import DbSession, UnitOfWork
from api.pages.base import Coordinator, render
from services import admin

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=UnitOfWork)
ENTITIES = ("household", "unit", "proposal", "match_round", "landlord", "api_key")


@router.get("/audit")
def audit_page(
    request: Request,
    db: DbSession,
    who: Coordinator,
    entity: Annotated[str | None, Query(max_length=40)] = None,
    entity_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: str | None = None,
) -> Response:
    entries, next_cursor = admin.audit_trail(
        db,
        who.actor,
        entity=entity or None,
        entity_id=entity_id or None,
        cursor=cursor,
        limit=100,
    )
    return render(
        request,
        who,
        "audit.html",
        entries=entries,
        next_cursor=next_cursor,
        entity=entity or "",
        entity_id=entity_id or "",
        entities=ENTITIES,
    )
