"""Tables as offices write them (services/tables.py): each CSV dialect, French headers and
conventions, spreadsheets; end to end through the import route."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from services.errors import InvalidImport
from services.geocoding import GazetteerGeocoder
from services.imports import import_households
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
    assert [(row.line, row.fields) for row in rows] == [(2, EXPECTED)]
    record = UnitRecord.model_validate(rows[0].fields)
    assert (record.surface_m2, record.available_from) == (Decimal("61.5"), date(2026, 12, 1))


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
    assert [row.line for row in rows] == [2, 4]
    first, second = (UnitRecord.model_validate(row.fields) for row in rows)
    assert (first.postcode, first.rooms, first.available_from) == ("63200", 3, date(2026, 12, 1))
    assert (second.rent_eur, second.available_from) == (Decimal(300), date(2026, 12, 1))


def test_household_lists_and_yes_no_in_csv() -> None:
    """Lists separated by ';' (quoted in a ';' file), thousands separated by a space."""
    text = (
        "reference;adultes;couple;âges des enfants;ressources mensuelles;inscrit le;urgent\n"
        'HH-1;2;OUI;"4;9";1 234,50;15/09/2026;non\n'
    )
    rows = read_table("households.csv", text.encode("cp1252"), HouseholdRecord, max_rows=10)
    record = HouseholdRecord.model_validate(rows[0].fields)
    assert (record.adults, record.couple, record.children_ages) == (2, True, [4, 9])
    assert (record.monthly_resources_eur, record.urgent) == (Decimal("1234.5"), False)
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


def test_nested_household_fields_come_from_flat_columns() -> None:
    """Workplaces numbered per adult, needs as yes/no columns and a care site by commune
    make the record's nested fields; a gap in the numbering leaves no empty workplace."""
    text = (
        "Référence;Adultes;Ressources;Inscrit le;Travail 1 commune;Travail 1 code postal;"
        "Workplace 3 address;Workplace 3 commune;Fauteuil roulant;Mobilité réduite;"
        "Lieu de soins commune;Lieu de soins distance max km\n"
        "HH-1;3;1 500;10/01/2026;Issoire;63500;2 rue du Port;Riom;oui;non;Clermont-Ferrand;12,5\n"
    )
    (row,) = read_table("h.csv", text.encode("cp1252"), HouseholdRecord, max_rows=10)
    record = HouseholdRecord.model_validate(row.fields)
    assert [(w.commune, w.postcode, w.address) for w in record.workplaces] == [
        ("Issoire", "63500", None),
        ("Riom", None, "2 rue du Port"),
    ]
    assert (record.needs.wheelchair, record.needs.reduced_mobility) == (True, False)
    site = record.needs.care_site
    assert site is not None
    assert (site.commune, site.lat, site.max_km) == ("Clermont-Ferrand", None, 12.5)
    assert row.cells["workplaces[1].address"] == ("Workplace 3 address", "2 rue du Port")


def test_a_bad_nested_cell_names_its_column_and_value(
    session: Session, geocoder: GazetteerGeocoder
) -> None:
    """An error in a flattened field names the file's column and the value found."""
    text = (
        "reference,adults,monthly_resources_eur,registered_on,travail_1_code_postal,"
        "needs_wheelchair,care_site_max_km\n"
        "HH-1,1,900,2026-01-10,6350,peut-être,\n"
    )
    with pytest.raises(InvalidImport) as refused:
        import_households(session, "h.csv", text, geocoder)
    found = {(e.row, e.column, e.value) for e in refused.value.errors}
    assert found == {(2, "travail_1_code_postal", "6350"), (2, "needs_wheelchair", "peut-être")}


RPLS = (
    "IDENT_INT;DEPCOM;LIBCOM;CODEPOSTAL;NUMVOIE;INDREP;TYPVOIE;NOMVOIE;ETAGE;NBPIECE;SURFHAB;"
    "LOYERPRINC;LOYERACC;QPV;PMR;FINAN;DPEENERGIE\n"
    "A-0042;63113;Clermont-Ferrand;63000;12;B;RUE;DES VOLCANS;RDC;3;61,5;355,20;25;1;2;10;C\n"
    "A-0043;63300;Riom;63200;4;;AV;DE LA REPUBLIQUE;2;2;44;290;0;2;1;12;D\n"
)


def test_an_rpls_extract_reads_as_units() -> None:
    """RPLS items map to unit fields, the address is joined, yes/no codes (1/2) and the
    ground floor are read, other items are left out and the defaults fill what RPLS lacks."""
    rows = read_table(
        "rpls.csv",
        RPLS.encode(),
        UnitRecord,
        max_rows=10,
        defaults={"lease_kind": "sliding"},
        today=date(2026, 12, 1),
    )
    first, second = (UnitRecord.model_validate(row.fields) for row in rows)
    assert (first.reference, first.commune, first.postcode) == (
        "A-0042",
        "Clermont-Ferrand",
        "63000",
    )
    assert first.address == "12 B RUE DES VOLCANS"
    assert (first.floor, first.rooms, first.surface_m2) == (0, 3, Decimal("61.5"))
    assert first.rent_eur == Decimal("355.20")
    assert (first.in_priority_neighbourhood, first.wheelchair_accessible) == (True, False)
    assert (second.in_priority_neighbourhood, second.wheelchair_accessible) == (False, True)
    assert (second.floor, second.address) == (2, "4 AV DE LA REPUBLIQUE")
    assert first.available_from == date(2026, 12, 1)  # RPLS has none: the day of the import
    assert first.lease_kind == second.lease_kind == "sliding"
    assert (first.elevator, first.charges_eur) == (False, Decimal(0))  # the record's defaults


def test_an_rpls_extract_is_read_only_on_the_day_of_a_landlords_import() -> None:
    """Its units are available from the day they are imported: without that day (an import
    that is not a landlord's own), the extract is refused, not dated by a guess."""
    with pytest.raises(InvalidImport, match="imported by its landlord"):
        read_table("rpls.csv", RPLS.encode(), UnitRecord, max_rows=10)


def test_an_rpls_extract_imports_through_the_api(client: TestClient, keys: dict[str, str]) -> None:
    """A landlord posts an RPLS extract with the availability date the file lacks."""
    imported = client.post(
        "/v1/units/import?available_from=2027-01-15&elevator=true",
        content=RPLS.encode("cp1252"),
        headers=auth(keys, "dome") | {"Content-Type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["created"] == 2
    units = client.get("/v1/units", headers=auth(keys, "dome")).json()["items"]
    assert {(u["reference"], u["available_from"], u["elevator"]) for u in units} == {
        ("A-0042", "2027-01-15", True),
        ("A-0043", "2027-01-15", True),
    }
