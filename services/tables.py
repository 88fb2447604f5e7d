"""Tables as offices write them, read into rows of cells named by field.

A file is a spreadsheet (XLSX, ODS, XLS: its first sheet, read by python-calamine) or a CSV
in any of the dialects French offices produce: UTF-8 with or without a byte-order mark,
UTF-16 (Excel's "Unicode text"), or Windows-1252 (what Excel's "CSV (séparateur :
point-virgule)" writes, recognised by reading as French does; any other encoding is refused
rather than stored garbled), separated by ',' ';' or tabs. Column headers are the record's
field names or their French names, in any case, with or without accents ("Code postal",
"code_postal", "Pièces"). Cell values are then made what the record expects, by the field's
type in the record's JSON schema: decimal commas in numbers ("61,5"), dates as JJ/MM/AAAA,
yes/no as oui/non/1/0, lists separated by ';'.

Nested fields are flattened into columns (docs/spreadsheets.md): a workplace per working
adult as `workplace_1_commune`, `workplace_1_postcode`, `workplace_1_address` (or
`travail_1_commune`...), needs as yes/no columns (`needs_wheelchair`, `fauteuil_roulant`...),
a care site as `care_site_commune` or `care_site_lat`/`care_site_lon` with
`care_site_max_km`. A cell may still carry a whole nested field as JSON. Each row keeps, for
each field, the column as the file names it and its raw value, so that an error names both.

An RPLS extract (the landlords' yearly return, recognised by its upper-case item names) is
read through services/rpls.py.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from datetime import date, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel
from python_calamine import CalamineError, CalamineWorkbook

from services import rpls
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
    "territory": ["territoire", "departement", "departement_de_suivi"],
}
# Flattened nested fields, by column (as `header_key` reduces it): the path in the record.
NESTED_COLUMNS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(["needs_wheelchair", "fauteuil_roulant"], ("needs", "wheelchair")),
    **dict.fromkeys(["needs_reduced_mobility", "mobilite_reduite"], ("needs", "reduced_mobility")),
    **dict.fromkeys(["care_site_label", "lieu_de_soins"], ("needs", "care_site", "label")),
    **dict.fromkeys(
        ["care_site_max_km", "lieu_de_soins_distance_max_km"], ("needs", "care_site", "max_km")
    ),
}
# A place's own columns (workplaces, care site), by their French names too.
PLACE_PARTS = {
    "commune": "commune",
    "ville": "commune",
    "postcode": "postcode",
    "code_postal": "postcode",
    "cp": "postcode",
    "address": "address",
    "adresse": "address",
    "lat": "lat",
    "lon": "lon",
}
WORKPLACE_COLUMN = re.compile(r"^(?:workplace|travail|lieu_de_travail)_(\d{1,2})_([a-z_]+)$")
CARE_SITE_COLUMN = re.compile(r"^(?:care_site|lieu_de_soins)_([a-z_]+)$")
TRUE_WORDS = {"oui", "o", "yes", "y", "true", "vrai", "1", "x"}
FALSE_WORDS = {"non", "n", "no", "false", "faux", "0"}
FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# "1 234,50", "61,5", "1 500": French figures (thin or no-break spaces between thousands).
FRENCH_NUMBER = re.compile(r"^-?\d+(?:[ \u00a0\u202f]\d{3})*(?:,\d+)?$")


def header_key(header: str) -> str:
    """'Code postal' -> 'code_postal', 'Pièces' -> 'pieces', "Nombre d'adultes" ->
    'nombre_d_adultes'."""
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


Path = tuple[str | int, ...]


class Row(NamedTuple):
    """One row of a file: its line (header = 1), the record's fields (nested where the
    record nests them), and for each field path as validation names it
    ("workplaces[0].commune"), the column as the file names it and the cell's raw value."""

    line: int
    fields: dict[str, Any]
    cells: dict[str, tuple[str, Any]]


def path_text(path: Path) -> str:
    """('workplaces', 0, 'commune') -> 'workplaces[0].commune', as import errors name it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "-"


def field_aliases(model: type[BaseModel]) -> dict[str, str]:
    fields = model.model_fields
    aliases = {header_key(name): name for name in fields}
    for name, french in FRENCH_HEADERS.items():
        if name in fields:
            aliases.update({key: name for key in french})
    return aliases


def column_path(key: str, model: type[BaseModel], aliases: dict[str, str]) -> Path | None:
    """Where a column (reduced by `header_key`) goes in the record, or None if nowhere.
    Workplaces are numbered from 1 in a file, from 0 in the record."""
    fields = model.model_fields
    if key in aliases:
        return (aliases[key],)
    if "needs" in fields and key in NESTED_COLUMNS:
        return NESTED_COLUMNS[key]
    if "needs" in fields and (care := CARE_SITE_COLUMN.match(key)) and care[1] in PLACE_PARTS:
        return ("needs", "care_site", PLACE_PARTS[care[1]])
    if "workplaces" in fields and (work := WORKPLACE_COLUMN.match(key)):
        number, part = int(work[1]), work[2]
        if number >= 1 and part in PLACE_PARTS:
            return ("workplaces", number - 1, PLACE_PARTS[part])
    return None


def _kind(spec: dict[str, Any]) -> str:
    for option in spec.get("anyOf", [spec]):
        if option.get("format") == "date":
            return "date"
        if option.get("type") not in (None, "null"):
            return str(option["type"])
        if "$ref" in option:
            return "object"
    return "string"


def kind_at(model: type[BaseModel], path: Path) -> str:
    """The kind of the field at `path` as the record's JSON schema says it: number, integer,
    boolean, date, array, object or string."""
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})

    def resolved(spec: dict[str, Any]) -> dict[str, Any]:
        for option in spec.get("anyOf", [spec]):
            if "$ref" in option:
                return dict(definitions[option["$ref"].rsplit("/", 1)[-1]])
        return spec

    spec: dict[str, Any] = schema
    for part in path:
        spec = resolved(spec)
        spec = spec.get("items", {}) if isinstance(part, int) else spec["properties"].get(part, {})
    return _kind(spec)


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
    source: str,
    data: bytes,
    model: type[BaseModel],
    max_rows: int,
    defaults: dict[str, Any] | None = None,
    today: date | None = None,
) -> list[Row]:
    """The rows of a CSV or spreadsheet file: cells put where the record takes them, values
    in the form the record validates, empty cells left out (`defaults`, then the record's
    own, apply). Unknown columns are kept under their own name, so the record refuses them;
    an RPLS extract's other items are left out (it has dozens)."""
    cells = (
        _spreadsheet_cells(source, data)
        if is_spreadsheet(source, data)
        else (_csv_cells(source, data))
    )
    if not cells:
        return []
    header = ["" if h is None else str(h).strip() for h in cells[0]]
    body = cells[1:]
    if rpls.is_extract(header):
        if today is None:  # its units are available from the day it is imported
            raise InvalidImport(
                [RowError(source, 1, "-", "an RPLS extract is imported by its landlord")]
            )
        header, body = rpls.as_unit_columns(header, body)
        defaults = rpls.defaults(today) | (defaults or {})
    aliases = field_aliases(model)
    paths = [column_path(header_key(h), model, aliases) or (h,) for h in header]
    kinds = {path: kind_at(model, path) for path in paths}
    rows: list[Row] = []
    for line, values in enumerate(body, start=2):
        if all(_blank(value) for value in values):
            continue
        if len(rows) == max_rows:
            raise InvalidImport(
                [RowError(source, 0, "-", f"more than {max_rows:,} rows: split the file")]
            )
        if len(values) > len(paths) and not all(_blank(v) for v in values[len(paths) :]):
            raise InvalidImport([RowError(source, line, "-", "more values than columns")])
        rows.append(_row(line, header, paths, kinds, values, defaults))
    return rows


def _row(
    line: int,
    header: list[str],
    paths: list[Path],
    kinds: dict[Path, str],
    values: list[Any],
    defaults: dict[str, Any] | None,
) -> Row:
    fields: dict[str, Any] = dict(defaults or {})
    found: dict[Path, tuple[str, Any]] = {}
    for name, path, value in zip(header, paths, values, strict=False):
        if not name or _blank(value):
            continue
        found[path] = (name, value)
        _put(fields, path, _value(value, kinds[path]))
    return Row(line, _listed(fields), _cells_by_field(found))


def form_row(model: type[BaseModel], cells: dict[str, Any]) -> Row:
    """A form's fields, named as a file's columns would be, read as one row of a file:
    a form and an import of the same record cannot disagree."""
    aliases = field_aliases(model)
    header = list(cells)
    paths = [column_path(header_key(name), model, aliases) or (name,) for name in header]
    kinds = {path: kind_at(model, path) for path in paths}
    return _row(1, header, paths, kinds, list(cells.values()), None)


def _put(fields: dict[str, Any], path: Path, value: Any) -> None:
    """Set a nested field; list items (workplaces) gather in a dict by number until
    `_listed` makes them a list."""
    target: Any = fields
    for part in path[:-1]:
        nested = target.get(part)
        if not isinstance(nested, dict):  # a JSON cell or a default gives way to columns
            nested = target[part] = {}
        target = nested
    target[path[-1]] = value


def _listed(fields: dict[str, Any]) -> dict[str, Any]:
    """Numbered items (workplace 1, 3) as the record's list, in order, without gaps."""
    items = fields.get("workplaces")
    if isinstance(items, dict):
        fields["workplaces"] = [items[number] for number in sorted(items)]
    return fields


def _cells_by_field(found: dict[Path, tuple[str, Any]]) -> dict[str, tuple[str, Any]]:
    """Column and raw value by field path as validation names it; list positions counted
    as `_listed` counts them (workplace 3 after workplace 1 is workplaces[1])."""
    numbers = sorted({path[1] for path in found if path[0] == "workplaces" and len(path) > 1})
    position = {number: index for index, number in enumerate(numbers)}
    by_field: dict[str, tuple[str, Any]] = {}
    for path, cell in found.items():
        if path[0] == "workplaces" and len(path) > 1:
            path = ("workplaces", position[path[1]], *path[2:])
        by_field[path_text(path)] = cell
    return by_field


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
    if kind in ("number", "integer") and FRENCH_NUMBER.match(text):
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
