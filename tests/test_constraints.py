"""The database itself refuses impossible rows: CHECKs, uniqueness and foreign keys hold on
SQLite and on PostgreSQL, not only in Python."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import ApiKey, ApiRole, Exclusion, Unit, UnitStatus
from tests import factories


def flush_fails(session: Session, row: object) -> bool:
    """Whether adding the row breaks a constraint; the session stays usable either way."""
    savepoint = session.begin_nested()
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        return True
    savepoint.rollback()
    return False


@pytest.mark.parametrize(
    ("field", "bad", "good"),
    [
        ("surface_m2", Decimal("0"), Decimal("9")),
        ("rooms", 0, 1),
        ("rent_eur", Decimal("-1"), Decimal("0")),
        ("charges_eur", Decimal("-0.01"), Decimal("0")),
        ("floor", -2, -1),
        ("lat", 91.0, 45.0),
    ],
)
def test_unit_checks(session: Session, field: str, bad: Any, good: Any) -> None:
    """A unit CHECK refuses the bad value and accepts the boundary value."""
    owner = factories.landlord(session)
    assert flush_fails(session, factories.unit(owner, **{field: bad}))
    assert not flush_fails(session, factories.unit(owner, **{field: good}))


@pytest.mark.parametrize(
    ("overrides", "good"),
    [
        ({"adults": 0}, {"adults": 1}),
        ({"couple": True, "adults": 1}, {"couple": True, "adults": 2}),
        ({"monthly_resources_eur": Decimal("-5")}, {"monthly_resources_eur": Decimal("0")}),
        ({"housing_benefit_eur": Decimal("-1")}, {"housing_benefit_eur": Decimal("0")}),
        ({"urgent": True}, {"urgent": True, "urgent_reason": "leaving a reception centre"}),
        ({"care_site_lat": 45.7}, {"care_site_lat": 45.7, "care_site_lon": 3.1}),
        ({"care_site_max_km": 0.0}, {"care_site_max_km": 5.0}),
    ],
)
def test_household_checks(
    session: Session, overrides: dict[str, Any], good: dict[str, Any]
) -> None:
    """A household CHECK refuses the inconsistent row and accepts the consistent one."""
    assert flush_fails(session, factories.household(**overrides))
    assert not flush_fails(session, factories.household(**good))


def test_unit_reference_is_unique_per_landlord(session: Session) -> None:
    """Two units of one landlord cannot share a reference; two landlords can."""
    first, second = factories.landlord(session, "A"), factories.landlord(session, "B")
    session.add(factories.unit(first, reference="LOT-9"))
    session.flush()
    assert flush_fails(session, factories.unit(first, reference="LOT-9"))
    assert not flush_fails(session, factories.unit(second, reference="LOT-9"))


def test_status_must_be_a_known_value(session: Session) -> None:
    """The enum CHECK refuses a status that is not in the list (raw SQL bypasses Python)."""
    owner = factories.landlord(session)
    session.add(factories.unit(owner))
    session.flush()
    savepoint = session.begin_nested()
    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE units SET status = 'demolished'"))
    savepoint.rollback()
    assert session.scalars(select(Unit.status)).one() is UnitStatus.VACANT


def test_foreign_keys_are_enforced(session: Session) -> None:
    """An exclusion pointing at no household or unit is refused (SQLite too, via PRAGMA)."""
    assert flush_fails(session, Exclusion(household_id=999_999, unit_id=999_999, reason="x"))


def test_landlord_key_needs_its_landlord(session: Session) -> None:
    """A landlord API key must name its landlord; other roles must not."""
    owner = factories.landlord(session)
    assert flush_fails(session, ApiKey(prefix="p1", key_hash="h", role=ApiRole.LANDLORD, owner="x"))
    assert flush_fails(
        session,
        ApiKey(prefix="p2", key_hash="h", role=ApiRole.ADMIN, owner="x", landlord_id=owner.id),
    )
    assert not flush_fails(
        session,
        ApiKey(prefix="p3", key_hash="h", role=ApiRole.LANDLORD, owner="x", landlord_id=owner.id),
    )


def test_optimistic_locking_bumps_the_version(session: Session) -> None:
    """Every update of a unit increments its version (the basis of stale-publish detection)."""
    owner = factories.landlord(session)
    row = factories.unit(owner)
    session.add(row)
    session.flush()
    assert row.version == 1
    row.rent_eur = Decimal("360")
    session.flush()
    assert row.version == 2
