"""RPLS extracts read as units.

Every French social landlord files its stock each year in the RPLS format (répertoire des
logements locatifs des bailleurs sociaux), so its software can extract the vacant units in
it. Such a file is recognised by its upper-case item names and turned into the unit columns
services/tables.py reads; docs/spreadsheets.md says which item goes where and what an RPLS
file lacks (availability date, lease kind, elevator, charges), which the import's defaults
fill.
"""

from __future__ import annotations

from datetime import date
from typing import Any

# RPLS item -> unit field. The landlord's own identifier is the unit's reference.
ITEMS = {
    "IDENT_INT": "reference",
    "LIBCOM": "commune",
    "CODEPOSTAL": "postcode",
    "ETAGE": "floor",
    "NBPIECE": "rooms",
    "SURFHAB": "surface_m2",
    "LOYERPRINC": "rent_eur",
    "QPV": "in_priority_neighbourhood",
    "PMR": "wheelchair_accessible",
}
# The street address, written in four items.
ADDRESS_ITEMS = ("NUMVOIE", "INDREP", "TYPVOIE", "NOMVOIE")
# Present in every extract, absent from our own templates.
SIGNATURE = frozenset({"NBPIECE", "SURFHAB"})
# RPLS codes yes/no items as 1 (yes) and 2 or 0 (no).
YES_CODES = {"1", "1.0", "oui", "o"}
GROUND_FLOOR = {"rdc", "rc", "r"}


def defaults(today: date) -> dict[str, Any]:
    """What an extract lacks, filled unless the import says otherwise: available today (the
    landlord extracts its vacant units); the unit record's own defaults give the rest (a
    direct lease, no elevator, no charges)."""
    return {"available_from": today.isoformat()}


def is_extract(header: list[str]) -> bool:
    names = {name.strip().upper() for name in header}
    return names >= SIGNATURE and bool(names & {"LOYERPRINC", "DEPCOM", "IDENT_INT"})


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _converted(field: str, value: Any) -> Any:
    text = _text(value)
    if field in ("in_priority_neighbourhood", "wheelchair_accessible"):
        return "" if not text else ("oui" if text.lower() in YES_CODES else "non")
    if field == "floor" and text.lower() in GROUND_FLOOR:
        return "0"
    return value


def as_unit_columns(header: list[str], body: list[list[Any]]) -> tuple[list[str], list[list[Any]]]:
    """The extract's rows as unit columns: the items above renamed, the address joined, the
    yes/no codes and the ground floor written as the unit columns read them. Other items
    (financing, energy rating, LOYERACC's ancillary rent for a garage...) are left out."""
    index = {name.strip().upper(): position for position, name in enumerate(header)}
    kept = [(index[item], field) for item, field in ITEMS.items() if item in index]
    address = [index[item] for item in ADDRESS_ITEMS if item in index]
    columns = [field for _, field in kept] + (["address"] if address else [])
    rows = []
    for values in body:

        def cell(position: int, values: list[Any] = values) -> Any:
            return values[position] if position < len(values) else None

        row = [_converted(field, cell(position)) for position, field in kept]
        if address:
            row.append(" ".join(part for p in address if (part := _text(cell(p)))))
        rows.append(row)
    return columns, rows
