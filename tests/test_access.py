"""API keys: authentication and the server's memory of keys it has just seen."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from models import ApiRole
from services.access import KeyCache, authenticate, create_key, revoke_key
from services.actors import Actor
from services.errors import Unauthenticated
from tests.factories import CLOCK

DOME = Actor(key_id=1, role=ApiRole.LANDLORD, name="dome", landlord_id=1)
PREFECTURE = Actor(key_id=2, role=ApiRole.COORDINATOR, name="prefecture")


class Ticking:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.at = 100.0

    def __call__(self) -> float:
        return self.at


def test_a_key_authenticates_until_revoked(session: Session) -> None:
    key, token = create_key(session, ApiRole.COORDINATOR, "prefecture")
    assert authenticate(session, f"Bearer {token}").key_id == key.id
    revoke_key(session, key.prefix, CLOCK.now())
    with pytest.raises(Unauthenticated):
        authenticate(session, f"Bearer {token}")


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer hm_unknown_key"])
def test_anything_but_a_known_bearer_key_is_refused(session: Session, header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        authenticate(session, header)


def test_a_kept_key_expires_after_its_seconds() -> None:
    clock = Ticking()
    cache = KeyCache(5.0, monotonic=clock)
    cache.put("Bearer hm_dome_token", DOME)
    assert cache.get("Bearer hm_dome_token") == DOME
    assert cache.get("Bearer hm_other_token") is None
    clock.at += 4.99
    assert cache.get("Bearer hm_dome_token") == DOME
    clock.at += 0.01
    assert cache.get("Bearer hm_dome_token") is None


def test_a_forgotten_key_is_not_kept_again_by_a_lookup_that_raced_its_revocation() -> None:
    """A request that read the key before its revocation committed puts it back after the
    revocation forgot it: it must not be kept."""
    clock = Ticking()
    cache = KeyCache(5.0, monotonic=clock)
    cache.put("Bearer hm_dome_token", DOME)
    cache.put("Bearer hm_prefecture", PREFECTURE)
    cache.forget("hm_dome_t")  # not its prefix: nothing forgotten
    assert cache.get("Bearer hm_dome_token") == DOME
    cache.forget("hm_dome_to")
    assert cache.get("Bearer hm_dome_token") is None
    assert cache.get("Bearer hm_prefecture") == PREFECTURE
    cache.put("Bearer hm_dome_token", DOME)
    assert cache.get("Bearer hm_dome_token") is None
    clock.at += 5.0  # long after: a key with that prefix may be kept again
    cache.put("Bearer hm_dome_token", DOME)
    assert cache.get("Bearer hm_dome_token") == DOME


def test_at_most_most_keys_are_kept_the_oldest_dropped() -> None:
    cache = KeyCache(5.0, most=2, monotonic=Ticking())
    for number in range(3):
        cache.put(f"Bearer hm_key_{number}", PREFECTURE)
    assert cache.get("Bearer hm_key_0") is None
    assert cache.get("Bearer hm_key_1") == PREFECTURE
    assert cache.get("Bearer hm_key_2") == PREFECTURE


def test_zero_seconds_keeps_nothing() -> None:
    cache = KeyCache(0.0, monotonic=Ticking())
    cache.put("Bearer hm_dome_token", DOME)
    assert cache.get("Bearer hm_dome_token") is None
