"""Tables as offices write them, read into rows of cells named by field.

A file is a spreadsheet (XLSX, ODS, XLS: its first sheet, read by python-calamine) or a CSV
in any of the dialects French offices produce: UTF-8 with or without a byte-order mark,
UTF-16 (Excel's "Unicode text"), or Windows-1252 (what Excel's "CSV (séparateur :
point-virgule)" writes, recognised by reading as French does; any other encoding is refused
rather than stored garbled), separated by ',' ';' or tabs. Column headers are the record's
field names or their French names, in any case, with or without accents ("Code postal",
"code_postal", "Pièces"). Cell values are then made what the record expects, by the field's
type in the record's JSON schema: decimal commas in numbers ("61,5"), dates as JJ/MM/AAAA,
yes/no as oui/non/1/0, lists separated by ';'. Nested fields (workplaces, needs) are not
flattened into columns yet: a cell carries them as JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from python_calamine import CalamineError, CalamineWorkbook

from services.errors import InvalidImport, RowError

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")
ZIP_MAGIC, OLE_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"  # XLSX and ODS are zips; XLS is OLE
# French letters and signs beyond ASCII, as Windows-1252 writes them.
FRENCH_CHARACTERS = frozenset(
    "àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ€°«»…\u00a0·²\u2018\u2019\u201c\u201d\u2013\u2014"
)

# French column names, by field, written as `header_key` reduces them.
FRENCH_HEADERS = {
    "reference": ["reference", "ref", "identifiant"],
    "landlord": ["bailleur"],
    "address": ["adresse"],
    "commune": ["commune", "ville", "libcom"],
    "postcode": ["code_postal", "cp", "codepostal"],
    "rooms": ["pieces", "nombre_de_pieces", "nb_pieces", "nbpiece"],
    "surface_m2": ["surface", "surface_habitable", "surfhab"],
    "floor": ["etage"],
    "elevator": ["ascenseur"],
    "wheelchair_accessible": ["accessible_fauteuil", "accessible_pmr", "pmr"],
    "rent_eur": ["loyer", "loyer_principal", "loyerprinc"],
    "charges_eur": ["charges", "loyer_accessoire", "loyeracc"],
    "available_from": ["disponible_le", "date_de_disponibilite", "disponibilite"],
    "building_id": ["batiment", "immeuble"],
    "in_priority_neighbourhood": ["qpv", "quartier_prioritaire"],
    "lease_kind": ["bail", "type_de_bail"],
    "adults": ["adultes", "nombre_d_adultes"],
    "couple": ["couple"],
    "children_ages": ["ages_des_enfants", "ages_enfants", "enfants"],
    "monthly_resources_eur": ["ressources_mensuelles", "ressources"],
    "housing_benefit_eur": ["aide_au_logement", "apl"],
    "preferred_communes": ["communes_souhaitees"],
    "excluded_communes": ["communes_exclues"],
    "accepted_lease_kinds": ["baux_acceptes"],
    "registered_on": ["inscrit_le", "date_d_inscription"],
    "urgent": ["urgent", "urgence"],
    "urgent_reason": ["motif_d_urgence", "motif_urgence"],
    "urgent_deadline": ["echeance", "echeance_d_urgence"],
    "application_number": ["numero_unique", "nud", "nur"],
    "consent_to_share": ["consentement", "consentement_au_partage"],
}
TRUE_WORDS = {"oui", "o", "yes", "y", "true", "vrai", "1", "x"}
FALSE_WORDS = {"non", "n", "no", "false", "faux", "0"}
FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
DECIMAL_COMMA = re.compile(r"^-?\d+(?:[ \u00a0\u202f]\d{3})*,\d+$")


def header_key(header: str) -> str:
    """'Code postal' -> 'code_postal', 'Pièces' -> 'pieces', "Nombre d'adultes" ->
    'nombre_d_adultes'."""
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def _aliases(model: type[BaseModel]) -> dict[str, str]:
    fields = model.model_fields
    aliases = {header_key(name): name for name in fields}
    for name, french in FRENCH_HEADERS.items():
        if name in fields:
            aliases.update({key: name for key in french})
    return aliases


def _kinds(model: type[BaseModel]) -> dict[str, str]:
    """Each field's kind as the JSON schema says it: number, integer, boolean, date, array,
    object or string."""
    kinds: dict[str, str] = {}
    for name, spec in model.model_json_schema()["properties"].items():
        options = spec.get("anyOf", [spec])
        for option in options:
            if option.get("format") == "date":
                kinds[name] = "date"
                break
            if option.get("type") not in (None, "null"):
                kinds[name] = option["type"]
                break
        if "$ref" in str(options) and name not in kinds:
            kinds[name] = "object"
    return kinds


def _decoded(source: str, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" (UTF-16)
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = ""
    if text and _reads_as_french(text):
        return text
    raise InvalidImport(
        [
            RowError(
                source,
                0,
                "-",
                "the file is neither UTF-8 nor Windows-1252 text: save it as UTF-8, "
                "e.g. 'CSV UTF-8' in Excel",
            )
        ]
    )


def _reads_as_french(text: str) -> bool:
    """Whether text decoded as Windows-1252 reads as French (or English) does: its few
    letters beyond ASCII are those of French, and never three in a row. Text in another
    single-byte encoding (Cyrillic Windows-1251, say) decodes too, but into runs of letters
    such as "Ìîñêâà". Measured: charset-normalizer, asked instead, named a short French
    Windows-1252 file big5 (Chinese) or cp1250 (Romanian)."""
    beyond = [c for c in text if ord(c) > 127]
    if not beyond:
        return True
    if re.search(r"[^\x00-\x7f]{3,}", text):
        return False
    return sum(c in FRENCH_CHARACTERS for c in beyond) >= 0.9 * len(beyond)


def _csv_cells(source: str, data: bytes) -> list[list[Any]]:
    text = _decoded(source, data)
    first_line = text.split("\n", 1)[0]
    try:
        dialect: Any = csv.Sniffer().sniff(first_line, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as error:
        raise InvalidImport([RowError(source, 0, "-", f"unreadable CSV: {error}")]) from None


def _spreadsheet_cells(source: str, data: bytes) -> list[list[Any]]:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows: list[list[Any]] = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except CalamineError as error:
        raise InvalidImport(
            [RowError(source, 0, "-", f"unreadable spreadsheet: {error}")]
        ) from None
    return rows


def is_spreadsheet(source: str, data: bytes) -> bool:
    return source.lower().endswith(SPREADSHEET_SUFFIXES) or data[:4] in (ZIP_MAGIC, OLE_MAGIC)


def read_table(
    source: str, data: bytes, model: type[BaseModel], max_rows: int
) -> list[tuple[int, dict[str, Any]]]:
    """The rows of a CSV or spreadsheet file as (line number, record fields): cells named
    by field, values in the form the record validates, empty cells left out (defaults
    apply). Unknown columns are kept under their own name, so the record refuses them."""
    cells = (
        _spreadsheet_cells(source, data)
        if is_spreadsheet(source, data)
        else (_csv_cells(source, data))
    )
    if not cells:
        return []
    aliases, kinds = _aliases(model), _kinds(model)
    header = [str(h).strip() for h in cells[0]]
    names = [aliases.get(header_key(h), h) for h in header]
    rows: list[tuple[int, dict[str, Any]]] = []
    for line, row in enumerate(cells[1:], start=2):
        if all(_blank(value) for value in row):
            continue
        if len(rows) == max_rows:
            raise InvalidImport(
                [RowError(source, 0, "-", f"more than {max_rows:,} rows: split the file")]
            )
        if len(row) > len(names) and not all(_blank(v) for v in row[len(names) :]):
            raise InvalidImport([RowError(source, line, "-", "more values than columns")])
        record = {
            name: _value(value, kinds.get(name, "string"))
            for name, value in zip(names, row, strict=False)
            if name and not _blank(value)
        }
        rows.append((line, record))
    return rows


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _value(value: Any, kind: str) -> Any:
    """A cell as the record expects it. Spreadsheet cells come typed (numbers, dates,
    booleans); CSV cells are text in the office's conventions."""
    if isinstance(value, datetime):
        return value.date().isoformat() if kind == "date" else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and kind in ("integer", "string"):
        return str(int(value)) if kind == "string" else int(value)
    if not isinstance(value, str):
        return str(value) if kind == "string" else value
    text = value.strip()
    if kind in ("number", "integer") and DECIMAL_COMMA.match(text):
        return re.sub(r"[ \u00a0\u202f]", "", text).replace(",", ".")
    if kind == "date" and (found := FRENCH_DATE.match(text)):
        day, month, year = found.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    if kind == "boolean":
        word = text.lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else text
    if kind in ("array", "object") and text[:1] in ("[", "{"):
        try:  # nested values (workplaces, needs) written as JSON in their cell
            return json.loads(text)
        except ValueError:
            return text
    if kind == "array":
        return [part.strip() for part in text.split(";") if part.strip()]
    return text
