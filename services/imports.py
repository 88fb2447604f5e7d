"""All-or-nothing imports of landlords, units and households from JSON, CSV or spreadsheets.

Every row is validated (pydantic), geocoded and checked against the database before anything is
added; one bad row refuses the whole file with every problem listed by row and field. The
caller's transaction (models.db.transaction) makes the write itself all-or-nothing too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from geopy.geocoders.base import Geocoder
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Household, Landlord, Unit, Workplace
from services.errors import InvalidImport, RowError
from services.geocoding import GeocodingError, locate
from services.records import HouseholdRecord, LandlordRecord, PlaceRecord, UnitRecord
from services.tables import read_table

RecordT = TypeVar("RecordT", bound=BaseModel)

# One import is one transaction, validated and geocoded row by row before anything is written:
# past this many rows, a file must be split (a 50 MB file once held the server 79 s and 1.6 GB).
MAX_ROWS = 20_000


def read_rows(source: str, data: str | bytes, model: type[BaseModel]) -> list[tuple[int, Any]]:
    """Rows of a JSON array (by index), or of a CSV or spreadsheet file (by line number,
    in the dialects services/tables.py reads)."""
    raw = data.encode() if isinstance(data, str) else data
    if not (source.lower().endswith(".json") or raw.lstrip()[:1] in (b"[", b"{")):
        return read_table(source, raw, model, MAX_ROWS)
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
    return list(enumerate(parsed))


def _field_path(location: Sequence[int | str]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "-"


def validate_rows(
    source: str, rows: list[tuple[int, Any]], model: type[RecordT]
) -> tuple[list[tuple[int, RecordT]], list[RowError]]:
    valid: list[tuple[int, RecordT]] = []
    errors: list[RowError] = []
    for row, data in rows:
        if not isinstance(data, dict):
            errors.append(RowError(source, row, "-", "expected an object"))
            continue
        try:
            valid.append((row, model.model_validate(data)))
        except ValidationError as error:
            errors += [
                RowError(source, row, _field_path(detail["loc"]), detail["msg"])
                for detail in error.errors()
            ]
    return valid, errors


def _duplicates(
    source: str, rows: list[tuple[int, RecordT]], key: Callable[[RecordT], object], field: str
) -> list[RowError]:
    seen: dict[object, int] = {}
    errors = []
    for row, record in rows:
        if key(record) in seen:
            errors.append(
                RowError(source, row, field, f"duplicate of row {seen[key(record)]} in this file")
            )
        seen.setdefault(key(record), row)
    return errors


def import_landlords(session: Session, source: str, text: str | bytes) -> list[Landlord]:
    rows, errors = validate_rows(source, read_rows(source, text, LandlordRecord), LandlordRecord)
    errors += _duplicates(source, rows, lambda r: r.name, "name")
    existing = set(session.scalars(select(Landlord.name)))
    errors += [
        RowError(source, row, "name", f"landlord {r.name!r} already exists")
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
    return locate(geocoder, query)


def import_units(
    session: Session,
    source: str,
    text: str | bytes,
    geocoder: Geocoder,
    *,
    landlord: Landlord | None = None,
) -> list[Unit]:
    """Units of one landlord (given) or of several (named by a `landlord` column)."""
    rows, errors = validate_rows(source, read_rows(source, text, UnitRecord), UnitRecord)
    landlords = {lord.name: lord for lord in session.scalars(select(Landlord))}

    def owner(record: UnitRecord) -> str:
        return landlord.name if landlord is not None else record.landlord or ""

    errors += _duplicates(source, rows, lambda r: (owner(r), r.reference), "reference")
    existing = {
        (name, reference)
        for name, reference in session.execute(
            select(Landlord.name, Unit.reference).join(Unit.landlord)
        )
    }
    prepared: list[tuple[UnitRecord, Landlord, tuple[float, float]]] = []
    for row, record in rows:
        row_errors = []
        lord = landlord or landlords.get(record.landlord or "")
        if lord is None:
            row_errors.append(
                RowError(source, row, "landlord", f"unknown landlord {record.landlord!r}")
            )
        elif (lord.name, record.reference) in existing:
            row_errors.append(
                RowError(
                    source, row, "reference", f"{lord.name} already has unit {record.reference}"
                )
            )
        try:
            position = _geocode_place(geocoder, record)
        except GeocodingError as error:
            row_errors.append(RowError(source, row, "commune", str(error)))
        if row_errors or lord is None:
            errors += row_errors
            continue
        prepared.append((record, lord, position))
    if errors:
        raise InvalidImport(errors)
    units = [
        Unit(
            landlord_id=lord.id,
            lat=lat,
            lon=lon,
            **record.model_dump(exclude={"landlord", "lat", "lon"}),
        )
        for record, lord, (lat, lon) in prepared
    ]
    session.add_all(units)
    session.flush()
    return units


def build_household(
    record: HouseholdRecord, geocoder: Geocoder
) -> tuple[Household, list[tuple[str, str]]]:
    """The household of a validated record, with its workplaces geocoded; the (field,
    message) of every workplace that could not be placed."""
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
    household = Household(
        **record.model_dump(exclude={"workplaces", "needs", "accepted_lease_kinds"}),
        accepted_lease_kinds=[str(kind) for kind in record.accepted_lease_kinds],
        needs_wheelchair=record.needs.wheelchair,
        needs_reduced_mobility=record.needs.reduced_mobility,
        care_site_label=site.label if site else None,
        care_site_lat=site.lat if site else None,
        care_site_lon=site.lon if site else None,
        care_site_max_km=site.max_km if site else None,
        workplaces=workplaces,
    )
    return household, problems


def import_households(
    session: Session, source: str, text: str | bytes, geocoder: Geocoder
) -> list[Household]:
    rows, errors = validate_rows(source, read_rows(source, text, HouseholdRecord), HouseholdRecord)
    errors += _duplicates(source, rows, lambda r: r.reference, "reference")
    existing = set(session.scalars(select(Household.reference)))
    households: list[Household] = []
    for row, record in rows:
        if record.reference in existing:
            errors.append(
                RowError(source, row, "reference", f"household {record.reference} already exists")
            )
            continue
        household, problems = build_household(record, geocoder)
        errors += [RowError(source, row, field, message) for field, message in problems]
        households.append(household)
    if errors:
        raise InvalidImport(errors)
    session.add_all(households)
    session.flush()
    return households


FIXTURE_FILES = ("landlords.csv", "units.csv", "households.json")


def load_fixtures(session: Session, directory: Path, geocoder: Geocoder) -> dict[str, int]:
    """Landlords, units and households from a fixtures directory, in one transaction."""
    texts = {name: (directory / name).read_text(encoding="utf-8") for name in FIXTURE_FILES}
    landlords = import_landlords(session, "landlords.csv", texts["landlords.csv"])
    units = import_units(session, "units.csv", texts["units.csv"], geocoder)
    households = import_households(session, "households.json", texts["households.json"], geocoder)
    return {"landlords": len(landlords), "units": len(units), "households": len(households)}
