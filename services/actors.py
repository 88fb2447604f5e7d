"""Who acts: the holder of an API key, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass

from models import ApiRole
from services.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is making a request: recorded in the audit trail, checked by every use case."""

    key_id: int | None
    role: ApiRole
    name: str
    landlord_id: int | None = None

    def require(self, *roles: ApiRole) -> None:
        if self.role not in roles:
            raise Forbidden(f"a {self.role} key may not do this")


SYSTEM = Actor(key_id=None, role=ApiRole.ADMIN, name="system")
