"""The records that validate what comes in, and the change models that follow them."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from services.households import HouseholdChanges
from services.records import HouseholdRecord, UnitRecord
from services.units import UnitChanges


@pytest.mark.parametrize(
    ("changes", "record", "fixed"),
    [
        (UnitChanges, UnitRecord, {"landlord", "reference"}),
        (HouseholdChanges, HouseholdRecord, set()),
    ],
)
def test_a_change_offers_every_field_of_its_record(
    changes: type[BaseModel], record: type[BaseModel], fixed: set[str]
) -> None:
    """A field added to a record can be changed by a PATCH too (a unit's landlord and
    reference are its identity; a household's reference is checked unchanged)."""
    assert set(changes.model_fields) == set(record.model_fields) - fixed | {"version"}
