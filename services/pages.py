"""Opaque cursors for id-ordered pages."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Protocol

from services.errors import InvalidInput


class HasId(Protocol):
    id: int


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"c{last_id}".encode()).decode().rstrip("=")


def after_id(cursor: str | None) -> int:
    """The id a page starts after; 0 for the first page."""
    if not cursor:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not decoded.startswith("c"):
            raise ValueError(decoded)
        return int(decoded[1:])
    except ValueError:
        raise InvalidInput("cursor", "not a cursor returned by this API") from None


def next_cursor(rows: Sequence[HasId], limit: int) -> str | None:
    """The cursor of the page after `rows` (fetched with limit + 1), None at the end."""
    return encode(rows[limit - 1].id) if len(rows) > limit else None
