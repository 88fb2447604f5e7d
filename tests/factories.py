"""Small builders of valid rows, so each test states only what it is about."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from models import Household, Landlord, Unit
from services.clock import FixedClock

# The time of every test that runs the services directly.
CLOCK = FixedClock(datetime(2026, 12, 1, 9, tzinfo=UTC))


def landlord(session: Session, name: str = "Test Habitat") -> Landlord:
    row = Landlord(name=name)
    session.add(row)
    session.flush()
    return row


def unit(owner: Landlord, **overrides: Any) -> Unit:
    values: dict[str, Any] = {
        "landlord_id": owner.id,
        "reference": "LOT-1",
        "commune": "Riom",
        "postcode": "63200",
        "lat": 45.89,
        "lon": 3.11,
        "rooms": 3,
        "surface_m2": Decimal("60"),
        "floor": 1,
        "rent_eur": Decimal("350"),
        "charges_eur": Decimal("80"),
        "available_from": date(2026, 12, 1),
    }
    return Unit(**(values | overrides))


def household(**overrides: Any) -> Household:
    values: dict[str, Any] = {
        "reference": "HH-1",
        "adults": 1,
        "monthly_resources_eur": Decimal("900"),
        "registered_on": date(2026, 6, 1),
    }
    return Household(**(values | overrides))
