"""Spreadsheet templates for imports: a header row, an example row that imports as it is, a
notes sheet explaining each column, and lists for the closed choices.

The headers are ones services/tables.py reads (tests/test_templates.py checks that each goes
to the field it names), so a template and the reader cannot drift apart.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import BaseModel

from models import LeaseKind
from services.records import HouseholdRecord, UnitRecord
from services.tables import column_path, field_aliases, header_key

Kind = Literal["households", "units"]
Language = Literal["fr", "en"]
YES_NO = {"fr": ("oui", "non"), "en": ("yes", "no")}
LEASE_KINDS = tuple(kind.value for kind in LeaseKind)


@dataclass(frozen=True, slots=True)
class Column:
    french: str
    english: str
    example: Any
    note: str
    required: bool = False
    choices: Literal["yes_no", "lease_kind"] | None = None

    def header(self, language: Language) -> str:
        return self.french if language == "fr" else self.english


def _workplace(number: int, example: tuple[str, str, str]) -> list[Column]:
    commune, postcode, address = example
    which = f"adult {number}'s workplace"
    return [
        Column(
            f"Travail {number} commune",
            f"workplace_{number}_commune",
            commune,
            f"Commune of the {which}, if they work (commute is scored and capped)",
        ),
        Column(
            f"Travail {number} code postal",
            f"workplace_{number}_postcode",
            postcode,
            "Its postcode (5 digits)",
        ),
        Column(
            f"Travail {number} adresse",
            f"workplace_{number}_address",
            address,
            "Its street address (optional; the commune is enough offline)",
        ),
    ]


HOUSEHOLD_COLUMNS = [
    Column("Référence", "reference", "HH-2026-0412", "Your reference, unique", required=True),
    Column("Adultes", "adults", 2, "Number of adults (1-20)", required=True),
    Column("Couple", "couple", True, "Two of the adults are a couple", choices="yes_no"),
    Column(
        "Âges des enfants",
        "children_ages",
        "4;9",
        "Each child's age in years, separated by ';' (empty: no children)",
    ),
    Column(
        "Ressources mensuelles",
        "monthly_resources_eur",
        Decimal("1450.00"),
        "Monthly resources in euros, housing benefit excluded",
        required=True,
    ),
    Column(
        "Aide au logement",
        "housing_benefit_eur",
        Decimal(310),
        "Expected housing benefit (€/month)",
    ),
    Column(
        "Inscrit le",
        "registered_on",
        date(2026, 9, 15),
        "Date of registration (JJ/MM/AAAA): longer waits score higher",
        required=True,
    ),
    Column("Urgent", "urgent", False, "Urgent household", choices="yes_no"),
    Column("Motif d'urgence", "urgent_reason", "", "Why it is urgent (required if urgent)"),
    Column("Échéance", "urgent_deadline", None, "Date by which it must be housed, if urgent"),
    Column("Numéro unique", "application_number", "", "Social housing application number"),
    Column(
        "Consentement",
        "consent_to_share",
        True,
        "The household agreed to share its file with landlords",
        choices="yes_no",
    ),
    Column(
        "Département",
        "territory",
        "63",
        "The département whose service follows the household (its territory's rounds)",
    ),
    Column(
        "Communes souhaitées",
        "preferred_communes",
        "Clermont-Ferrand",
        "Communes the household prefers, separated by ';' (a bonus, not a rule)",
    ),
    Column(
        "Communes exclues",
        "excluded_communes",
        "",
        "Communes the household refuses, separated by ';'",
    ),
    Column(
        "Baux acceptés",
        "accepted_lease_kinds",
        "",
        "Lease kinds accepted, separated by ';': " + ", ".join(LEASE_KINDS) + " (empty: all)",
    ),
    *_workplace(1, ("Clermont-Ferrand", "63000", "12 rue Blatin")),
    *_workplace(2, ("", "", "")),
    Column(
        "Fauteuil roulant",
        "needs_wheelchair",
        False,
        "Someone uses a wheelchair: only wheelchair-accessible units",
        choices="yes_no",
    ),
    Column(
        "Mobilité réduite",
        "needs_reduced_mobility",
        False,
        "Someone cannot climb stairs: ground floor or an elevator",
        choices="yes_no",
    ),
    Column("Lieu de soins", "care_site_label", "", "A care site to live near (a name)"),
    Column("Lieu de soins commune", "care_site_commune", "", "Its commune"),
    Column("Lieu de soins code postal", "care_site_postcode", "", "Its postcode"),
    Column(
        "Lieu de soins distance max km",
        "care_site_max_km",
        None,
        "The longest acceptable distance to it, in km (required with a care site)",
    ),
]

UNIT_COLUMNS = [
    Column("Référence", "reference", "LOT-2041", "Your reference, unique to you", required=True),
    Column("Adresse", "address", "12 rue des Volcans", "Street address"),
    Column("Commune", "commune", "Clermont-Ferrand", "Commune", required=True),
    Column("Code postal", "postcode", "63000", "Postcode (5 digits)", required=True),
    Column("Pièces", "rooms", 3, "Number of main rooms (1-20)", required=True),
    Column("Surface", "surface_m2", Decimal("61.5"), "Living area in m²", required=True),
    Column("Étage", "floor", 2, "Floor (0: ground floor, -1: garden level)"),
    Column("Ascenseur", "elevator", True, "The building has an elevator", choices="yes_no"),
    Column(
        "Accessible fauteuil",
        "wheelchair_accessible",
        False,
        "Accessible to a wheelchair user",
        choices="yes_no",
    ),
    Column(
        "Loyer",
        "rent_eur",
        Decimal("355.20"),
        "Monthly rent in euros, charges excluded",
        required=True,
    ),
    Column("Charges", "charges_eur", Decimal(62), "Monthly charges in euros"),
    Column(
        "Disponible le",
        "available_from",
        date(2026, 12, 1),
        "Date from which it can be let (JJ/MM/AAAA)",
        required=True,
    ),
    Column("Bâtiment", "building_id", "VOLC-63000-01", "Building identifier (optional)"),
    Column(
        "QPV",
        "in_priority_neighbourhood",
        False,
        "In a priority neighbourhood (quartier prioritaire de la ville)",
        choices="yes_no",
    ),
    Column(
        "Bail",
        "lease_kind",
        "direct",
        "Lease kind: direct, sliding (bail glissant), intermediation",
        choices="lease_kind",
    ),
]

COLUMNS: dict[Kind, list[Column]] = {"households": HOUSEHOLD_COLUMNS, "units": UNIT_COLUMNS}
RECORDS: dict[Kind, type[BaseModel]] = {"households": HouseholdRecord, "units": UnitRecord}


def _coordinates(prefix: str, french: str, what: str) -> list[Column]:
    return [
        Column(f"{french} latitude", f"{prefix}_lat", None, f"Latitude of {what} (optional)"),
        Column(f"{french} longitude", f"{prefix}_lon", None, f"Longitude of {what} (optional)"),
    ]


# A form edits a stored record, whose places may have been given by coordinates alone: it
# carries them too, so that saving it unchanged changes nothing.
FORM_COLUMNS: dict[Kind, list[Column]] = {
    "households": HOUSEHOLD_COLUMNS
    + _coordinates("workplace_1", "Travail 1", "workplace 1")
    + _coordinates("workplace_2", "Travail 2", "workplace 2")
    + _coordinates("care_site", "Lieu de soins", "the care site"),
    "units": [
        *UNIT_COLUMNS,
        Column("Latitude", "lat", None, "Latitude of the unit (optional: geocoded otherwise)"),
        Column("Longitude", "lon", None, "Longitude of the unit"),
    ],
}


def flat_values(kind: Kind, record: dict[str, Any]) -> dict[str, str]:
    """A record's fields as a form's columns (English names) and texts, as the import
    reads them back: yes/no as oui/non, dates as ISO, lists separated by ';'."""
    model = RECORDS[kind]
    aliases = field_aliases(model)
    values: dict[str, str] = {}
    for column in FORM_COLUMNS[kind]:
        path = column_path(header_key(column.english), model, aliases)
        value: Any = record
        for part in path or ():
            if isinstance(value, dict):
                value = value.get(str(part)) if isinstance(part, str) else None
            elif isinstance(value, list) and isinstance(part, int):
                value = value[part] if part < len(value) else None
            else:
                value = None
        values[column.english] = _form_text(value)
    return values


def _form_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ";".join(str(item) for item in value)
    return str(value)


def _text(value: Any, language: Language) -> str:
    """A value as an office writes it in a CSV file of that language."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES_NO[language][0 if value else 1]
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y") if language == "fr" else value.isoformat()
    if isinstance(value, Decimal):
        return str(value).replace(".", ",") if language == "fr" else str(value)
    return str(value)


def as_xlsx(kind: Kind, language: Language = "fr") -> bytes:
    """The template as a workbook: the data sheet (header, example row, choice lists) and a
    notes sheet."""
    columns = COLUMNS[kind]
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = kind
    sheet.append([column.header(language) for column in columns])
    sheet.append(
        [
            _text(column.example, language) if isinstance(column.example, bool) else column.example
            for column in columns
        ]
    )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    lists = {
        "yes_no": '"' + ",".join(YES_NO[language]) + '"',
        "lease_kind": '"' + ",".join(LEASE_KINDS) + '"',
    }
    for choices, formula in lists.items():
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.error = "Choose from the list"
        sheet.add_data_validation(validation)
        for position, column in enumerate(columns, start=1):
            if column.choices == choices:
                letter = sheet.cell(row=1, column=position).column_letter
                validation.add(f"{letter}2:{letter}20001")
    for position, column in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=position).column_letter
        sheet.column_dimensions[letter].width = max(12, len(column.header(language)) + 2)
        example = column.example
        for cell in sheet[letter][1:]:
            if isinstance(example, date):
                cell.number_format = "DD/MM/YYYY"
            elif isinstance(example, str):
                cell.number_format = "@"  # text: Excel keeps "63000" and "4;9" as written
    notes = workbook.create_sheet("notes")
    notes.append(["column", "required", "what it holds"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in columns:
        notes.append([column.header(language), "yes" if column.required else "", column.note])
    notes.column_dimensions["A"].width = 32
    notes.column_dimensions["C"].width = 90
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def as_csv(kind: Kind, language: Language = "fr") -> bytes:
    """The template as CSV the way the language's Excel opens it: French with ';' and a
    byte-order mark (Excel reads UTF-8 only with one), English with ','."""
    columns = COLUMNS[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if language == "fr" else ",", lineterminator="\r\n")
    writer.writerow([column.header(language) for column in columns])
    writer.writerow([_text(column.example, language) for column in columns])
    return buffer.getvalue().encode("utf-8-sig")
