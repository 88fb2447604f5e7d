"""Imports and fixture loading are all-or-nothing, and every refusal names file, row and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models import Household, HouseholdStatus, Landlord, Unit, UnitStatus
from services.errors import InvalidImport
from services.geocoding import GazetteerGeocoder
from services.imports import import_households, import_landlords, import_units, load_fixtures

UNIT_HEADER = (
    "landlord,reference,commune,postcode,lat,lon,rooms,surface_m2,rent_eur,available_from\n"
)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_shipped_fixtures_load(
    session: Session, fixtures_dir: Path, geocoder: GazetteerGeocoder
) -> None:
    """The committed fixtures load whole: landlords, units (some geocoded) and households."""
    counts = load_fixtures(session, fixtures_dir, geocoder)
    assert counts == {
        "landlords": count(session, Landlord),
        "units": count(session, Unit),
        "households": count(session, Household),
    }
    assert counts["units"] >= 150
    assert counts["households"] >= 200
    clermont = session.scalars(select(Unit).where(Unit.commune == "Clermont-Ferrand")).first()
    assert clermont is not None
    assert 45.7 < clermont.lat < 45.85


def test_one_bad_row_refuses_the_whole_file(session: Session, geocoder: GazetteerGeocoder) -> None:
    """A good row and a bad row: nothing is written, and the error names line and field."""
    import_landlords(session, "landlords.csv", "name\nDome Habitat\n")
    text = (
        UNIT_HEADER
        + "Dome Habitat,LOT-1,Riom,63200,45.89,3.11,3,60,350,2026-12-01\n"
        + "Dome Habitat,LOT-2,Riom,63200,45.89,3.11,0,60,350,2026-12-01\n"
    )
    with pytest.raises(InvalidImport) as caught:
        import_units(session, "units.csv", text, geocoder)
    assert [(e.source, e.row, e.field) for e in caught.value.errors] == [("units.csv", 3, "rooms")]
    assert "units.csv, line 3, column 'rooms' ('0'): Input should be greater" in str(caught.value)
    assert count(session, Unit) == 0


def test_every_problem_is_reported_at_once(session: Session, geocoder: GazetteerGeocoder) -> None:
    """Unknown landlord, unknown commune, duplicate reference and a bad date all show up."""
    import_landlords(session, "landlords.csv", "name\nDome Habitat\n")
    text = (
        UNIT_HEADER
        + "Nobody,LOT-1,Riom,63200,45.89,3.11,3,60,350,2026-12-01\n"
        + "Dome Habitat,LOT-2,Clermon-Ferand,63999,,,3,60,350,2026-12-01\n"
        + "Dome Habitat,LOT-3,Riom,63200,45.89,3.11,3,60,350,2026-12-01\n"
        + "Dome Habitat,LOT-3,Riom,63200,45.89,3.11,3,60,350,tomorrow\n"
    )
    with pytest.raises(InvalidImport) as caught:
        import_units(session, "units.csv", text, geocoder)
    found = {(e.row, e.field) for e in caught.value.errors}
    assert found == {(2, "landlord"), (3, "commune"), (5, "available_from")}
    assert count(session, Unit) == 0


def test_duplicate_reference_within_a_file(session: Session, geocoder: GazetteerGeocoder) -> None:
    """The same landlord reference twice in one file is refused at the second row."""
    import_landlords(session, "landlords.csv", "name\nDome Habitat\n")
    row = "Dome Habitat,LOT-3,Riom,63200,45.89,3.11,3,60,350,2026-12-01\n"
    with pytest.raises(InvalidImport) as caught:
        import_units(session, "units.csv", UNIT_HEADER + row + row, geocoder)
    assert [(e.row, e.field) for e in caught.value.errors] == [(3, "reference")]


def test_reimporting_units_updates_by_reference(
    session: Session, geocoder: GazetteerGeocoder
) -> None:
    """The same file twice changes nothing; a changed row updates its unit (version + 1);
    a unit with an open proposal, or a stale `version`, refuses the whole file."""
    import_landlords(session, "landlords.csv", "name\nDome Habitat\n")
    rows = [
        "Dome Habitat,LOT-3,Riom,63200,45.89,3.11,3,60,350,2026-12-01",
        "Dome Habitat,LOT-4,Riom,63200,45.89,3.11,2,45,300,2026-12-01",
    ]
    text = UNIT_HEADER + "\n".join(rows) + "\n"
    first = import_units(session, "units.csv", text, geocoder)
    assert (len(first.created), len(first.updated), len(first.unchanged)) == (2, 0, 0)
    again = import_units(session, "units.csv", text, geocoder)
    assert (len(again.created), len(again.updated), len(again.unchanged)) == (0, 0, 2)
    unit = session.scalars(select(Unit).where(Unit.reference == "LOT-3")).one()
    assert unit.version == 1

    changed = text.replace(",3,60,350,", ",3,60,365,")
    updated = import_units(session, "units.csv", changed, geocoder)
    assert [u.reference for u, _ in updated.updated] == ["LOT-3"]
    assert float(updated.updated[0][1]["rent_eur"]) == 350  # the audit view before the change
    assert (float(unit.rent_eur), unit.version) == (365, 2)

    stale = UNIT_HEADER.replace("\n", ",version\n") + rows[0].replace(",350,", ",370,") + ",1\n"
    with pytest.raises(InvalidImport, match="at version 2, not 1"):
        import_units(session, "units.csv", stale, geocoder)
    unit.status = UnitStatus.PROPOSED
    session.flush()
    with pytest.raises(InvalidImport) as refused:
        import_units(session, "units.csv", changed.replace(",365,", ",380,"), geocoder)
    (error,) = refused.value.errors
    assert (error.row, error.column, error.value) == (2, "reference", "LOT-3")
    assert "Dome Habitat/LOT-3 is proposed" in error.message
    session.refresh(unit)
    assert (float(unit.rent_eur), count(session, Unit)) == (365, 2)


def test_reimporting_households_updates_waiting_ones_only(
    session: Session, geocoder: GazetteerGeocoder
) -> None:
    """A household's changed row (a new workplace) updates it; a housed one is refused."""
    header = "reference,adults,monthly_resources_eur,registered_on,workplace_1_commune\n"
    text = header + "HH-1,1,900,2026-01-10,\nHH-2,2,1500,2026-01-11,\n"
    assert len(import_households(session, "h.csv", text, geocoder).created) == 2
    assert len(import_households(session, "h.csv", text, geocoder).unchanged) == 2
    moved = text.replace("2026-01-10,", "2026-01-10,Issoire")
    ((updated, before),) = import_households(session, "h.csv", moved, geocoder).updated
    assert updated.reference == "HH-1"
    assert "workplaces" not in before  # the audit view keeps no workplace
    session.expire_all()
    query = select(Household).options(selectinload(Household.workplaces))
    stored = session.scalars(query.where(Household.reference == "HH-1")).one()
    assert [w.commune for w in stored.workplaces] == ["Issoire"]
    assert stored.version == 2
    stored.status = HouseholdStatus.HOUSED
    session.flush()
    with pytest.raises(InvalidImport, match="household HH-1 is housed"):
        import_households(session, "h.csv", text, geocoder)


def test_household_json_errors_name_the_nested_field(
    session: Session, geocoder: GazetteerGeocoder
) -> None:
    """A JSON household error names the item index and the nested field path."""
    households = [
        {
            "reference": "HH-1",
            "adults": 1,
            "monthly_resources_eur": 700,
            "registered_on": "2026-05-01",
        },
        {
            "reference": "HH-2",
            "adults": 1,
            "couple": True,
            "monthly_resources_eur": 700,
            "registered_on": "2026-05-01",
            "urgent": True,
            "workplaces": [{"commune": "Riom", "postcode": "632"}],
        },
        {
            "reference": "HH-3",
            "adults": 2,
            "monthly_resources_eur": 900,
            "registered_on": "2026-05-01",
            "workplaces": [{"commune": "Nowhere-sur-Rien"}],
        },
    ]
    with pytest.raises(InvalidImport) as caught:
        import_households(session, "households.json", json.dumps(households), geocoder)
    found = {(e.row, e.field) for e in caught.value.errors}
    assert (1, "workplaces[0].postcode") in found
    assert (1, "couple") in found  # a couple with one adult
    assert (1, "urgent_reason") in found  # urgent without a reason
    assert (2, "workplaces[0]") in found
    assert count(session, Household) == 0


def test_households_load_with_geocoded_workplaces(
    session: Session, geocoder: GazetteerGeocoder
) -> None:
    """A valid household is stored with its workplace geocoded from commune and postcode."""
    households = [
        {
            "reference": "HH-1",
            "adults": 2,
            "couple": True,
            "children_ages": [3, 7],
            "monthly_resources_eur": 1500,
            "registered_on": "2026-05-01",
            "workplaces": [{"commune": "Issoire", "postcode": "63500"}],
            "needs": {"care_site": {"lat": 45.76, "lon": 3.10, "max_km": 15}},
        },
    ]
    (row,) = import_households(session, "households.json", json.dumps(households), geocoder).created
    session.expire_all()
    stored = session.scalars(select(Household)).one()
    assert stored.size == 4
    assert stored.care_site_max_km == 15
    from sqlalchemy.orm import selectinload

    stored = session.scalars(select(Household).options(selectinload(Household.workplaces))).one()
    assert stored.workplaces[0].lat == pytest.approx(45.54, abs=0.02)
    assert row.reference == "HH-1"


def test_malformed_json_names_the_line(session: Session, geocoder: GazetteerGeocoder) -> None:
    """Broken JSON is refused with its line number, not a stack trace."""
    with pytest.raises(InvalidImport, match=r"households.json, item 2, field '-': invalid JSON"):
        import_households(session, "households.json", '[\n{"reference": }\n]', geocoder)


def test_csv_row_with_too_many_values(session: Session) -> None:
    """A CSV row with more cells than the header has columns is refused with its line."""
    with pytest.raises(InvalidImport, match="line 3"):
        import_landlords(session, "landlords.csv", "name\nA\nB,extra\n")


def test_unreadable_csv_is_refused_not_crashed(session: Session) -> None:
    """A CSV the csv module cannot read (a 200,000-character cell) is an import error,
    not a crash."""
    with pytest.raises(InvalidImport, match="unreadable CSV"):
        import_landlords(session, "landlords.csv", "name\n" + "x" * 200_000 + "\n")
