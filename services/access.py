"""API keys and the actor behind a request.

Keys are random 256-bit tokens shown once and stored as SHA-256 hashes. A fast hash is right
here (unlike for passwords): the token has full entropy, so there is nothing to brute-force,
and every request verifies one. The first characters form a public prefix for listing and
revoking keys without ever showing them again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiKey, ApiRole, Landlord
from services import audit
from services.actors import SYSTEM, Actor
from services.errors import InvalidInput, NotFound, Unauthenticated

__all__ = ["SYSTEM", "Actor", "authenticate", "create_key", "revoke_key"]

PREFIX_LENGTH = 10


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(
    session: Session,
    role: ApiRole,
    owner: str,
    landlord_name: str | None = None,
    by: str = "system",
) -> tuple[ApiKey, str]:
    """A new key and its token (shown once, never stored)."""
    landlord_id = None
    if role is ApiRole.LANDLORD:
        if not landlord_name:
            raise InvalidInput("landlord", "a landlord key needs --landlord NAME")
        landlord = session.scalars(select(Landlord).where(Landlord.name == landlord_name)).first()
        if landlord is None:
            raise NotFound("landlord", landlord_name)
        landlord_id = landlord.id
    elif landlord_name:
        raise InvalidInput("landlord", "only a landlord key belongs to a landlord")
    token = "hm_" + secrets.token_urlsafe(32)
    key = ApiKey(
        prefix=token[:PREFIX_LENGTH],
        key_hash=_hash(token),
        role=role,
        owner=owner,
        landlord_id=landlord_id,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        by,
        "api_key.created",
        "api_key",
        key.prefix,
        after={"role": str(role), "owner": owner, "landlord_id": landlord_id},
    )
    return key, token


def revoke_key(session: Session, prefix: str, now: datetime, by: str = "system") -> ApiKey:
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if key is None:
        raise NotFound("api key", prefix)
    if not key.revoked:
        key.revoked = True
        key.revoked_at = now
        audit.record(
            session,
            by,
            "api_key.revoked",
            "api_key",
            prefix,
            before={"revoked": False},
            after={"revoked": True},
        )
    session.flush()
    return key


def authenticate(session: Session, authorization: str | None) -> Actor:
    """The actor of an `Authorization: Bearer <token>` header."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    token = authorization[7:].strip()
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == token[:PREFIX_LENGTH])).first()
    if key is None or key.revoked or not hmac.compare_digest(key.key_hash, _hash(token)):
        raise Unauthenticated("unknown or revoked API key")
    return Actor(key_id=key.id, role=key.role, name=key.owner, landlord_id=key.landlord_id)
