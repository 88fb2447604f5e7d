"""The audit trail: every state change, who made it, and the record before and after."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from models import AuditEvent
from services.actors import SYSTEM, Actor

__all__ = ["SYSTEM", "record", "snapshot", "view"]


def snapshot(row: object, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The row's column values as JSON-ready data."""
    values: dict[str, Any] = {}
    for column in inspect(row).mapper.column_attrs:
        if column.key in exclude:
            continue
        value = getattr(row, column.key)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, date | datetime):
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value
        values[column.key] = value
    return values


def view(row: object) -> dict[str, Any]:
    """The row as the audit trail keeps it: without the columns its class declares private
    (a household's health data, free text and numbers)."""
    private: frozenset[str] = getattr(type(row), "PRIVATE_COLUMNS", frozenset())
    return snapshot(row, exclude=private)


def record(
    session: Session,
    actor: Actor | str,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """An event of the trail. `actor` is a key's holder, or the name of a process acting on
    its own (the round worker, an operator's command)."""
    session.add(
        AuditEvent(
            actor=actor if isinstance(actor, str) else f"{actor.role}:{actor.name}",
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )
