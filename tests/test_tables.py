"""Tables as offices write them (services/tables.py): each CSV dialect, French headers and
conventions, spreadsheets; end to end through the import route."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from fastapi.testclient import TestClient

from services.errors import InvalidImport
from services.records import HouseholdRecord, UnitRecord
from services.tables import header_key, read_table
from tests.api import auth

ENGLISH = (
    "reference,commune,postcode,rooms,surface_m2,floor,elevator,rent_eur,available_from\n"
    "LOT-1,Châtel-Guyon,63140,3,61.5,2,yes,355,2026-12-01\n"
)
# As French Excel saves "CSV (séparateur : point-virgule)": Windows-1252, ';', decimal commas,
# JJ/MM/AAAA dates, oui/non, French headers with accents.
FRENCH = (
    "Référence;Commune;Code postal;Pièces;Surface;Étage;Ascenseur;Loyer;Disponible le\n"
    "LOT-1;Châtel-Guyon;63140;3;61,5;2;oui;355;01/12/2026\n"
)
EXPECTED = {
    "reference": "LOT-1",
    "commune": "Châtel-Guyon",
    "postcode": "63140",
    "rooms": "3",
    "surface_m2": "61.5",
    "floor": "2",
    "elevator": True,
    "rent_eur": "355",
    "available_from": "2026-12-01",
}


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (ENGLISH, "utf-8"),
        (ENGLISH, "utf-8-sig"),
        (FRENCH, "cp1252"),
        (FRENCH, "utf-8-sig"),
        (FRENCH.replace(";", "\t"), "utf-16"),
    ],
    ids=["utf-8 commas", "utf-8 with BOM", "windows-1252 semicolons", "BOM semicolons", "tabs"],
)
def test_every_csv_dialect_reads_to_the_same_record(text: str, encoding: str) -> None:
    rows = read_table("units.csv", text.encode(encoding), UnitRecord, max_rows=10)
    assert rows == [(2, EXPECTED)]
    record = UnitRecord.model_validate(rows[0][1])
    assert (record.surface_m2, record.available_from) == (61.5, date(2026, 12, 1))


def test_a_spreadsheet_reads_its_first_sheet_with_typed_cells() -> None:
    """XLSX cells come as numbers, dates and booleans; empty rows are skipped and rows keep
    their line numbers."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        ["Référence", "Commune", "Code postal", "Pièces", "Surface", "Loyer", "Disponible le"]
    )
    sheet.append(["LOT-1", "Riom", 63200, 3, 61.5, 355, date(2026, 12, 1)])
    sheet.append([None] * 7)
    sheet.append(["LOT-2", "Riom", "63200", 2, 45, 300.0, "01/12/2026"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = read_table("units.xlsx", buffer.getvalue(), UnitRecord, max_rows=10)
    assert [line for line, _ in rows] == [2, 4]
    first, second = (UnitRecord.model_validate(record) for _, record in rows)
    assert (first.postcode, first.rooms, first.available_from) == ("63200", 3, date(2026, 12, 1))
    assert (second.rent_eur, second.available_from) == (300, date(2026, 12, 1))


def test_household_lists_and_yes_no_in_csv() -> None:
    """Lists separated by ';' (quoted in a ';' file), thousands separated by a space."""
    text = (
        "reference;adultes;couple;âges des enfants;ressources mensuelles;inscrit le;urgent\n"
        'HH-1;2;OUI;"4;9";1 234,50;15/09/2026;non\n'
    )
    rows = read_table("households.csv", text.encode("cp1252"), HouseholdRecord, max_rows=10)
    record = HouseholdRecord.model_validate(rows[0][1])
    assert (record.adults, record.couple, record.children_ages) == (2, True, [4, 9])
    assert (record.monthly_resources_eur, record.urgent) == (1234.5, False)
    assert record.registered_on == date(2026, 9, 15)


def test_more_values_than_columns_names_the_line() -> None:
    text = "reference,commune\nLOT-1,Riom\nLOT-2,Riom,extra\n"
    with pytest.raises(InvalidImport) as refused:
        read_table("units.csv", text.encode(), UnitRecord, max_rows=10)
    assert (refused.value.errors[0].row, refused.value.errors[0].message) == (
        3,
        "more values than columns",
    )


def test_headers_are_matched_whatever_their_case_and_accents() -> None:
    assert header_key("Code postal") == "code_postal"
    assert header_key("  PIÈCES ") == "pieces"
    assert header_key("Nombre d'adultes") == "nombre_d_adultes"


def test_a_french_spreadsheet_imports_through_the_api(
    client: TestClient, keys: dict[str, str]
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        ["Référence", "Commune", "Code postal", "Pièces", "Surface", "Loyer", "Disponible le"]
    )
    sheet.append(["LOT-X", "Châtel-Guyon", "63140", 2, 45.5, 300, date(2026, 12, 1)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    imported = client.post(
        "/v1/units/import",
        content=buffer.getvalue(),
        headers=auth(keys, "dome") | {"Content-Type": media},
    )
    assert imported.status_code == 201, imported.text
    (unit,) = client.get("/v1/units", headers=auth(keys, "dome")).json()["items"]
    assert (unit["reference"], unit["commune"], unit["surface_m2"]) == (
        "LOT-X",
        "Châtel-Guyon",
        45.5,
    )
