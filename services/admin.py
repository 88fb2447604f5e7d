"""Admin use cases: landlords, and API keys through the API; plus the audit trail for
coordinators, and the move-in checklist."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiKey, ApiRole, AuditEvent, Landlord
from services import audit
from services.access import Actor
from services.errors import Conflict, NotFound
from services.pages import after_id, next_cursor
from services.records import LandlordRecord


def create_landlord(session: Session, actor: Actor, record: LandlordRecord) -> Landlord:
    actor.require(ApiRole.ADMIN)
    if session.scalars(select(Landlord.id).where(Landlord.name == record.name)).first():
        raise Conflict(f"landlord {record.name!r} already exists", field="name")
    landlord = Landlord(**record.model_dump())
    session.add(landlord)
    session.flush()
    audit.record(
        session, actor, "landlord.created", "landlord", landlord.id, after=record.model_dump()
    )
    return landlord


def list_landlords(session: Session, actor: Actor) -> Sequence[Landlord]:
    actor.require(ApiRole.ADMIN, ApiRole.COORDINATOR)
    return session.scalars(select(Landlord).order_by(Landlord.name)).all()


def landlord_named(session: Session, name: str) -> Landlord:
    """The landlord of this name (the command line names landlords, the API numbers them)."""
    found = session.scalars(select(Landlord).where(Landlord.name == name)).first()
    if found is None:
        raise NotFound("landlord", name)
    return found


def list_keys(session: Session, actor: Actor) -> Sequence[ApiKey]:
    actor.require(ApiRole.ADMIN)
    return session.scalars(select(ApiKey).order_by(ApiKey.id)).all()


# Admins run the service: they see what happened to every record, and the content only of
# what they administer, never a household's.
ADMINISTERED_ENTITIES = frozenset({"landlord", "api_key"})


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def audit_trail(
    session: Session,
    actor: Actor,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[AuditEntry], str | None]:
    """Events in order; coordinators see their before and after, admins only those of the
    entities they administer (the rest: who did what to which record, and when)."""
    actor.require(ApiRole.COORDINATOR, ApiRole.ADMIN)
    query = (
        select(AuditEvent)
        .where(AuditEvent.id > after_id(cursor))
        .order_by(AuditEvent.id)
        .limit(limit + 1)
    )
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if entity_id:
        query = query.where(AuditEvent.entity_id == entity_id)
    rows = session.scalars(query).all()

    def entry(event: AuditEvent) -> AuditEntry:
        content = actor.role is ApiRole.COORDINATOR or event.entity in ADMINISTERED_ENTITIES
        return AuditEntry(
            id=event.id,
            at=event.at,
            actor=event.actor,
            action=event.action,
            entity=event.entity,
            entity_id=event.entity_id,
            before=event.before if content else None,
            after=event.after if content else None,
        )

    return [entry(event) for event in rows[:limit]], next_cursor(rows, limit)
