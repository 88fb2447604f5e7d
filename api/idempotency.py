"""Idempotency-Key: a retried POST gets the first response back instead of a duplicate."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IdempotentRequest
from services.access import Actor
from services.errors import Conflict


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(jsonable_encoder(body), sort_keys=True).encode()).hexdigest()


def replay(
    session: Session, actor: Actor, key: str | None, path: str, body: Any
) -> IdempotentRequest | None:
    """The stored first response for this key, or None to process the request."""
    if key is None or actor.key_id is None:
        return None
    stored = session.scalars(
        select(IdempotentRequest).where(
            IdempotentRequest.api_key_id == actor.key_id, IdempotentRequest.key == key
        )
    ).first()
    if stored is None:
        return None
    if stored.path != path or stored.request_hash != request_hash(body):
        raise Conflict(
            "this Idempotency-Key was already used for a different request", field="Idempotency-Key"
        )
    return stored


def remember(
    session: Session,
    actor: Actor,
    key: str | None,
    path: str,
    body: Any,
    status: int,
    response: Any,
) -> None:
    if key is None or actor.key_id is None:
        return
    session.add(
        IdempotentRequest(
            api_key_id=actor.key_id,
            key=key,
            method="POST",
            path=path,
            request_hash=request_hash(body),
            status_code=status,
            response_body=jsonable_encoder(response),
        )
    )
    session.flush()
