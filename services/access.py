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
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiKey, ApiRole, Landlord
from services import audit
from services.actors import SYSTEM, Actor
from services.errors import InvalidInput, NotFound, Unauthenticated

__all__ = ["SYSTEM", "Actor", "KeyCache", "authenticate", "create_key", "revoke_key"]

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


def _token(authorization: str | None) -> str:
    """The key of an `Authorization: Bearer <token>` header."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    return authorization[7:].strip()


def authenticate(session: Session, authorization: str | None) -> Actor:
    """The actor of an `Authorization: Bearer <token>` header."""
    token = _token(authorization)
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == token[:PREFIX_LENGTH])).first()
    if key is None or key.revoked or not hmac.compare_digest(key.key_hash, _hash(token)):
        raise Unauthenticated("unknown or revoked API key")
    return Actor(key_id=key.id, role=key.role, name=key.owner, landlord_id=key.landlord_id)


class KeyCache:
    """The actors of keys looked up in the last `seconds`, so that most requests authenticate
    without a trip to the database (a fifth of a page's time, docs/benchmarks.md).

    The price is revocation: a key revoked elsewhere (by another server process, or on the
    command line) is still accepted here until its entry is `seconds` old. A revocation
    made through this process forgets the key at once. Only keys that authenticated are
    kept (refusals are rate-limited instead), by their hash, at most `most` of them."""

    def __init__(
        self,
        seconds: float,
        most: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds, self.most, self.monotonic = seconds, most, monotonic
        self._lock = threading.Lock()
        # key hash -> (when the entry expires, the key's prefix, its actor)
        self._entries: dict[str, tuple[float, str, Actor]] = {}
        # prefix -> until when it is not kept: a request that looked the key up before its
        # revocation was committed must not keep it again
        self._forgotten: dict[str, float] = {}

    def get(self, authorization: str | None) -> Actor | None:
        """The actor of a key seen lately, or None: look it up."""
        if self.seconds <= 0 or not authorization:
            return None
        found = self._entries.get(_hash(authorization))
        if found is None or found[0] <= self.monotonic():
            return None
        return found[2]

    def put(self, authorization: str, actor: Actor) -> None:
        """Remember the actor of a key that just authenticated."""
        if self.seconds <= 0:
            return
        now = self.monotonic()
        prefix = _token(authorization)[:PREFIX_LENGTH]
        entry = (now + self.seconds, prefix, actor)
        with self._lock:
            if self._forgotten.get(prefix, now) > now:
                return
            if len(self._entries) >= self.most:
                self._entries.pop(next(iter(self._entries)))  # the oldest entry
            self._entries[_hash(authorization)] = entry

    def forget(self, prefix: str) -> None:
        """Drop a key (just revoked) and keep it out for `seconds`."""
        now = self.monotonic()
        with self._lock:
            self._forgotten = {p: t for p, t in self._forgotten.items() if t > now}
            self._forgotten[prefix] = now + self.seconds
            for hashed in [h for h, (_, kept, _) in self._entries.items() if kept == prefix]:
                del self._entries[hashed]
