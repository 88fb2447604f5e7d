"""Import templates (services/templates.py): every header reads back to its field, and the
example row of each template, in each format and language, imports as it is."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from pydantic import BaseModel
from sqlalchemy.orm import Session

from services import templates
from services.geocoding import GazetteerGeocoder
from services.imports import import_households, import_landlords, import_units
from services.records import HouseholdRecord, UnitRecord
from services.tables import column_path, field_aliases, header_key

RECORDS: dict[templates.Kind, type[BaseModel]] = {
    "households": HouseholdRecord,
    "units": UnitRecord,
}


@pytest.mark.parametrize("kind", ["households", "units"])
def test_every_header_reads_to_the_field_its_english_name_says(kind: templates.Kind) -> None:
    """The French and English headers of a column go to the same place in the record, and
    no two columns go to the same place."""
    model = RECORDS[kind]
    aliases = field_aliases(model)
    paths = []
    for column in templates.COLUMNS[kind]:
        french = column_path(header_key(column.french), model, aliases)
        english = column_path(header_key(column.english), model, aliases)
        assert french is not None, column.french
        assert french == english, column
        paths.append(french)
    assert len(set(paths)) == len(paths)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_each_template_imports_as_it_is(
    session: Session, geocoder: GazetteerGeocoder, suffix: str, language: templates.Language
) -> None:
    """A template's example row is a valid household and a valid unit, geocoded offline."""
    write = templates.as_xlsx if suffix == "xlsx" else templates.as_csv
    households = import_households(
        session, f"households.{suffix}", write("households", language), geocoder
    )
    (household,) = households.created
    assert (household.reference, household.adults, household.couple) == ("HH-2026-0412", 2, True)
    assert household.children_ages == [4, 9]
    assert float(household.monthly_resources_eur) == 1450
    assert [w.commune for w in household.workplaces] == ["Clermont-Ferrand"]
    (landlord,) = import_landlords(session, "landlords.csv", "name\nDome Habitat\n")
    units = import_units(
        session, f"units.{suffix}", write("units", language), geocoder, landlord=landlord
    )
    (unit,) = units.created
    assert (unit.reference, unit.postcode, float(unit.surface_m2)) == ("LOT-2041", "63000", 61.5)
    assert (unit.elevator, unit.wheelchair_accessible, str(unit.lease_kind)) == (
        True,
        False,
        "direct",
    )


def test_the_workbook_explains_each_column_and_lists_the_choices() -> None:
    """The notes sheet has one line per column; yes/no and lease kind columns offer lists."""
    workbook = openpyxl.load_workbook(io.BytesIO(templates.as_xlsx("units")))
    sheet, notes = workbook["units"], workbook["notes"]
    headers = [cell.value for cell in sheet[1]]
    assert [row[0] for row in notes.iter_rows(min_row=2, values_only=True)] == headers
    listed = {}
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            listed[headers[cell_range.min_col - 1]] = validation.formula1
    assert listed == {
        "Ascenseur": '"oui,non"',
        "Accessible fauteuil": '"oui,non"',
        "QPV": '"oui,non"',
        "Bail": '"direct,sliding,intermediation"',
    }


@pytest.mark.parametrize("kind", ["households", "units"])
def test_the_spreadsheet_guide_documents_every_column(kind: templates.Kind) -> None:
    """docs/spreadsheets.md names each template column in both languages."""
    guide = (Path(__file__).parent.parent / "docs" / "spreadsheets.md").read_text()
    for column in templates.COLUMNS[kind]:
        assert f"| {column.french} | `{column.english}` |" in guide, column
