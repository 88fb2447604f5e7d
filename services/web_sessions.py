"""Signing in to the pages: an API key is asked for once and traded for a session.

The browser keeps only a random session token (an HttpOnly cookie); the database keeps its
hash, the key it stands for, a CSRF token for the forms and the person's language. A
session lasts SESSION_HOURS, ends on sign-out and with its key (revoked keys sign out
everywhere on the next request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import ApiKey, WebSession
from services.access import Actor, authenticate

SESSION_HOURS = 12
Language = Literal["fr", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "en")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The person behind a page request."""

    actor: Actor
    csrf_token: str
    language: Language
    session_id: int

    def accepts(self, csrf_token: str | None) -> bool:
        """Whether a form carries this session's CSRF token."""
        return csrf_token is not None and hmac.compare_digest(csrf_token, self.csrf_token)


def sign_in(session: Session, api_key: str, now: datetime, language: Language = "fr") -> str:
    """A new session for a valid key; its token, for the cookie. Raises Unauthenticated."""
    actor = authenticate(session, f"Bearer {api_key.strip()}")
    assert actor.key_id is not None  # a key authenticated, so it has an id
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_hash(token),
            api_key_id=actor.key_id,
            csrf_token=secrets.token_urlsafe(32),
            language=language,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    # Sessions that ended are dropped as new ones start: the table stays small.
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.flush()
    return token


def signed_in(session: Session, token: str | None, now: datetime) -> SignedIn | None:
    """The person of a session token, or None if it is unknown, expired or its key revoked."""
    if not token:
        return None
    row = session.execute(
        select(WebSession, ApiKey)
        .join(ApiKey, ApiKey.id == WebSession.api_key_id)
        .where(WebSession.token_hash == _hash(token))
    ).first()
    if row is None:
        return None
    web, key = row
    if key.revoked or web.expires_at < now:
        return None
    actor = Actor(key_id=key.id, role=key.role, name=key.owner, landlord_id=key.landlord_id)
    language: Language = "en" if web.language == "en" else "fr"
    return SignedIn(actor, web.csrf_token, language, web.id)


def sign_out(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


def set_language(session: Session, person: SignedIn, language: Language) -> None:
    web = session.get(WebSession, person.session_id)
    if web is not None:
        web.language = language
