"""All-or-nothing imports of landlords, units and households from JSON, CSV or spreadsheets.

Every row is validated (pydantic), geocoded and checked against the database before anything is
added; one bad row refuses the whole file with every problem listed by row and field. The
caller's transaction (models.db.transaction) makes the write itself all-or-nothing too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models import Household, HouseholdStatus, Landlord, Unit, UnitStatus, Workplace
from services import audit
from services.errors import InvalidImport, RowError
from services.geocoding import Geocoder, GeocodingError
from services.records import HouseholdRecord, LandlordRecord, PlaceRecord, UnitRecord
from services.tables import Row, path_text, read_table

RecordT = TypeVar("RecordT", bound=BaseModel)
EntityT = TypeVar("EntityT")

# Records that may change; a proposed, housed or let one waits for its proposal's answer.
UNIT_EDITABLE = (UnitStatus.VACANT, UnitStatus.WITHDRAWN)
HOUSEHOLD_EDITABLE = (HouseholdStatus.WAITING, HouseholdStatus.WITHDRAWN)

# One import is one transaction, validated and geocoded row by row before anything is written:
# past this many rows, a file must be split (a 50 MB file once held the server 79 s and 1.6 GB).
MAX_ROWS = 20_000


# A value quoted in an error is cut to this length.
QUOTED_VALUE_CHARS = 80


def read_rows(
    source: str,
    data: str | bytes,
    model: type[BaseModel],
    defaults: dict[str, Any] | None = None,
    today: date | None = None,
) -> list[Row]:
    """Rows of a JSON array (by index), or of a CSV or spreadsheet file (by line number,
    in the dialects services/tables.py reads; `defaults` fill the columns a file lacks, and
    `today` an RPLS extract's availability date)."""
    raw = data.encode() if isinstance(data, str) else data
    if not (source.lower().endswith(".json") or raw.lstrip()[:1] in (b"[", b"{")):
        return read_table(source, raw, model, MAX_ROWS, defaults, today)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InvalidImport(
            [RowError(source, line, "-", "the file is not UTF-8: JSON must be")]
        ) from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidImport(
            [RowError(source, error.lineno, "-", f"invalid JSON: {error.msg}")]
        ) from None
    except RecursionError:
        raise InvalidImport([RowError(source, 0, "-", "invalid JSON: nested too deeply")]) from None
    except ValueError:  # an integer of thousands of digits
        raise InvalidImport([RowError(source, 0, "-", "invalid JSON: a number too long")]) from None
    if not isinstance(parsed, list):
        raise InvalidImport([RowError(source, 0, "-", "expected a JSON array of objects")])
    if len(parsed) > MAX_ROWS:
        raise InvalidImport(
            [RowError(source, 0, "-", f"more than {MAX_ROWS:,} rows: split the file")]
        )
    return [Row(index, item, {}) for index, item in enumerate(parsed)]


def cell_error(source: str, row: Row, field: str, message: str) -> RowError:
    """An error about a field, naming the column and the value when a table gave it (an
    object-level error names the object's first column: "workplaces[0]" is workplace 1)."""
    cell = row.cells.get(field) or next(
        (cell for path, cell in row.cells.items() if path.startswith((f"{field}.", f"{field}["))),
        None,
    )
    if cell is None:
        return RowError(source, row.line, field, message)
    column, value = cell
    return RowError(source, row.line, field, message, column, str(value)[:QUOTED_VALUE_CHARS])


def validate_rows(
    source: str, rows: list[Row], model: type[RecordT]
) -> tuple[list[tuple[Row, RecordT]], list[RowError]]:
    valid: list[tuple[Row, RecordT]] = []
    errors: list[RowError] = []
    for row in rows:
        if not isinstance(row.fields, dict):
            errors.append(RowError(source, row.line, "-", "expected an object"))
            continue
        try:  # `version` is the import's own column (optimistic locking), not the record's
            fields = {name: value for name, value in row.fields.items() if name != "version"}
            valid.append((row, model.model_validate(fields)))
        except ValidationError as error:
            errors += [
                cell_error(source, row, path_text(tuple(detail["loc"])), detail["msg"])
                for detail in error.errors()
            ]
    return valid, errors


def _duplicates(
    source: str, rows: list[tuple[Row, RecordT]], key: Callable[[RecordT], object], field: str
) -> list[RowError]:
    seen: dict[object, int] = {}
    errors = []
    for row, record in rows:
        if key(record) in seen:
            message = f"duplicate of row {seen[key(record)]} in this file"
            errors.append(cell_error(source, row, field, message))
        seen.setdefault(key(record), row.line)
    return errors


@dataclass
class Imported(Generic[EntityT]):
    """What an import did: rows created, rows updated (with their audit view before the
    change), rows already as the file says."""

    created: list[EntityT] = field(default_factory=list)
    updated: list[tuple[EntityT, dict[str, Any]]] = field(default_factory=list)
    unchanged: list[EntityT] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    @property
    def ids(self) -> list[int]:
        """Every row's id, in the file's order within created, updated, unchanged."""
        entities = [*self.created, *(e for e, _ in self.updated), *self.unchanged]
        return [int(getattr(entity, "id")) for entity in entities]  # noqa: B009 (generic)


def _expected_version(source: str, row: Row) -> int | RowError | None:
    """A `version` column says which version of the record the row was edited from: the
    row then updates only that version (optimistic locking, as PATCH does)."""
    given = row.fields.get("version")
    if given is None:
        return None
    try:
        return int(str(given))
    except ValueError:
        return cell_error(source, row, "version", "expected a whole number (the record's version)")


def _change_refused(
    source: str, row: Row, what: str, current: int, expected: int | None, status: Any, editable: Any
) -> RowError | None:
    if status not in editable:
        allowed = " or ".join(str(s) for s in editable)
        message = f"{what} is {status}: only a {allowed} record can change (answer its proposal)"
        return cell_error(source, row, "reference", message)
    if expected is not None and expected != current:
        message = f"{what} is at version {current}, not {expected}: export it again and redo"
        return cell_error(source, row, "version", message)
    return None


def _in_chunks(values: list[str], size: int = 5_000) -> list[list[str]]:
    # SQLite caps a statement's parameters; 20,000 references are asked for in a few queries.
    return [values[start : start + size] for start in range(0, len(values), size)]


def import_landlords(session: Session, source: str, text: str | bytes) -> list[Landlord]:
    rows, errors = validate_rows(source, read_rows(source, text, LandlordRecord), LandlordRecord)
    errors += _duplicates(source, rows, lambda r: r.name, "name")
    existing = set(session.scalars(select(Landlord.name)))
    errors += [
        cell_error(source, row, "name", f"landlord {r.name!r} already exists")
        for row, r in rows
        if r.name in existing
    ]
    if errors:
        raise InvalidImport(errors)
    landlords = [Landlord(**record.model_dump()) for _, record in rows]
    session.add_all(landlords)
    session.flush()
    return landlords


def _geocode_place(geocoder: Geocoder, place: PlaceRecord | UnitRecord) -> tuple[float, float]:
    if place.lat is not None and place.lon is not None:
        return place.lat, place.lon
    query = " ".join(
        part
        for part in (place.address and f"{place.address},", place.postcode, place.commune)
        if part
    )
    return geocoder.locate(query)


def unit_values(record: UnitRecord, position: tuple[float, float]) -> dict[str, Any]:
    """A unit's columns as a record gives them, placed where it was geocoded."""
    lat, lon = position
    return {"lat": lat, "lon": lon, **record.model_dump(exclude={"landlord", "lat", "lon"})}


def import_units(
    session: Session,
    source: str,
    text: str | bytes,
    geocoder: Geocoder,
    *,
    landlord: Landlord | None = None,
    defaults: dict[str, Any] | None = None,
    today: date | None = None,
) -> Imported[Unit]:
    """Units of one landlord (given) or of several (named by a `landlord` column). A row
    whose reference the landlord already has updates that unit, if it changed. An RPLS
    extract's units are available from `today`."""
    read = read_rows(source, text, UnitRecord, defaults, today)
    rows, errors = validate_rows(source, read, UnitRecord)
    landlords = {lord.name: lord for lord in session.scalars(select(Landlord))}

    def owner(record: UnitRecord) -> str:
        return landlord.name if landlord is not None else record.landlord or ""

    errors += _duplicates(source, rows, lambda r: (owner(r), r.reference), "reference")
    existing: dict[tuple[int, str], Unit] = {}
    for references in _in_chunks(sorted({record.reference for _, record in rows})):
        for unit in session.scalars(select(Unit).where(Unit.reference.in_(references))):
            existing[unit.landlord_id, unit.reference] = unit
    imported: Imported[Unit] = Imported()
    changes: list[tuple[Unit, dict[str, Any]]] = []
    for row, record in rows:
        lord = landlord or landlords.get(record.landlord or "")
        if lord is None:
            errors.append(
                cell_error(source, row, "landlord", f"unknown landlord {record.landlord!r}")
            )
            continue
        expected = _expected_version(source, row)
        try:
            values = unit_values(record, _geocode_place(geocoder, record))
        except GeocodingError as error:
            errors.append(cell_error(source, row, "commune", str(error)))
            continue
        if isinstance(expected, RowError):
            errors.append(expected)
            continue
        known = existing.get((lord.id, record.reference))
        if known is None:
            imported.created.append(Unit(landlord_id=lord.id, **values))
            continue
        unit = known
        changed = {name: value for name, value in values.items() if getattr(unit, name) != value}
        if not changed:
            imported.unchanged.append(unit)
            continue
        what = f"{lord.name}/{record.reference}"
        refused = _change_refused(
            source, row, what, unit.version, expected, unit.status, UNIT_EDITABLE
        )
        if refused is not None:
            errors.append(refused)
            continue
        changes.append((unit, changed))
    if errors:
        raise InvalidImport(errors)
    for unit, changed in changes:
        imported.updated.append((unit, audit.view(unit)))
        for name, value in changed.items():
            setattr(unit, name, value)
    session.add_all(imported.created)
    session.flush()
    return imported


def build_household(
    record: HouseholdRecord, geocoder: Geocoder
) -> tuple[Household, list[tuple[str, str]]]:
    """The household of a validated record, with its workplaces and care site geocoded;
    the (field, message) of every place that could not be placed."""
    problems: list[tuple[str, str]] = []
    workplaces = []
    for index, place in enumerate(record.workplaces):
        try:
            lat, lon = _geocode_place(geocoder, place)
        except GeocodingError as error:
            problems.append((f"workplaces[{index}]", str(error)))
            continue
        workplaces.append(
            Workplace(
                address=place.address,
                commune=place.commune,
                postcode=place.postcode,
                lat=lat,
                lon=lon,
            )
        )
    site = record.needs.care_site
    site_position: tuple[float | None, float | None] = (None, None)
    if site is not None:
        try:
            site_position = _geocode_place(geocoder, site)
        except GeocodingError as error:
            problems.append(("needs.care_site", str(error)))
    household = Household(
        **record.model_dump(exclude={"workplaces", "needs", "accepted_lease_kinds"}),
        accepted_lease_kinds=[str(kind) for kind in record.accepted_lease_kinds],
        needs_wheelchair=record.needs.wheelchair,
        needs_reduced_mobility=record.needs.reduced_mobility,
        care_site_label=site.label if site else None,
        care_site_lat=site_position[0],
        care_site_lon=site_position[1],
        care_site_max_km=site.max_km if site else None,
        workplaces=workplaces,
    )
    return household, problems


# Columns a record sets; the rest the database and the lifecycle keep.
KEPT_COLUMNS = frozenset({"id", "status", "version", "created_at", "updated_at"})


def _places(workplaces: list[Workplace]) -> list[tuple[Any, ...]]:
    return [(w.address, w.commune, w.postcode, w.lat, w.lon) for w in workplaces]


def household_changes(household: Household, rebuilt: Household) -> dict[str, Any]:
    """The columns of `rebuilt` that differ from the household's, and `workplaces` if they do."""
    changed = {
        column.key: getattr(rebuilt, column.key)
        for column in Household.__table__.columns
        if column.key not in KEPT_COLUMNS
        and getattr(household, column.key) != getattr(rebuilt, column.key)
    }
    if _places(household.workplaces) != _places(rebuilt.workplaces):
        changed["workplaces"] = rebuilt.workplaces
    return changed


def apply_household_changes(household: Household, changed: dict[str, Any]) -> None:
    for name, value in changed.items():
        if name != "workplaces":
            setattr(household, name, value)
    if "workplaces" in changed:
        # Copies: the rebuilt household is transient, and its own workplaces, moved over,
        # were left out of the flush ("Workplace not in session", once a 500 on every PATCH).
        household.workplaces = [
            Workplace(
                address=w.address, commune=w.commune, postcode=w.postcode, lat=w.lat, lon=w.lon
            )
            for w in changed["workplaces"]
        ]
        # The household's row changes too, so that its version moves on with its workplaces.
        household.updated_at = func.now()


def import_households(
    session: Session, source: str, text: str | bytes, geocoder: Geocoder
) -> Imported[Household]:
    """Households by reference: a new reference is created, a known one updated if it
    changed (waiting or withdrawn households only: a proposed or housed household's row is
    refused with the reason)."""
    rows, errors = validate_rows(source, read_rows(source, text, HouseholdRecord), HouseholdRecord)
    errors += _duplicates(source, rows, lambda r: r.reference, "reference")
    existing: dict[str, Household] = {}
    for references in _in_chunks(sorted({record.reference for _, record in rows})):
        query = (
            select(Household)
            .where(Household.reference.in_(references))
            .options(selectinload(Household.workplaces))
        )
        existing.update((h.reference, h) for h in session.scalars(query))
    imported: Imported[Household] = Imported()
    changes: list[tuple[Household, dict[str, Any]]] = []
    for row, record in rows:
        expected = _expected_version(source, row)
        rebuilt, problems = build_household(record, geocoder)
        errors += [cell_error(source, row, field, message) for field, message in problems]
        if isinstance(expected, RowError):
            errors.append(expected)
        if problems or isinstance(expected, RowError):
            continue
        household = existing.get(record.reference)
        if household is None:
            imported.created.append(rebuilt)
            continue
        changed = household_changes(household, rebuilt)
        if not changed:
            imported.unchanged.append(household)
            continue
        what = f"household {record.reference}"
        refused = _change_refused(
            source, row, what, household.version, expected, household.status, HOUSEHOLD_EDITABLE
        )
        if refused is not None:
            errors.append(refused)
            continue
        changes.append((household, changed))
    if errors:
        raise InvalidImport(errors)
    for household, changed in changes:
        imported.updated.append((household, audit.view(household)))
        apply_household_changes(household, changed)
    session.add_all(imported.created)
    session.flush()
    return imported


FIXTURE_FILES = ("landlords.csv", "units.csv", "households.json")


def load_fixtures(session: Session, directory: Path, geocoder: Geocoder) -> dict[str, int]:
    """Landlords, units and households from a fixtures directory, in one transaction."""
    texts = {name: (directory / name).read_text(encoding="utf-8") for name in FIXTURE_FILES}
    landlords = import_landlords(session, "landlords.csv", texts["landlords.csv"])
    units = import_units(session, "units.csv", texts["units.csv"], geocoder)
    households = import_households(session, "households.json", texts["households.json"], geocoder)
    return {"landlords": len(landlords), "units": len(units), "households": len(households)}
