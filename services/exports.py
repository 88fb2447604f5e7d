"""A round's result as spreadsheets: its proposals with their score breakdowns, and its
unmatched households with their reasons. For coordinators only: the reasons name needs.

A cell a spreadsheet would run as a formula (text starting with =, +, -, @, or a tab or
carriage return) is written with a leading apostrophe, as OWASP advises for CSV injection: a
household reference or a commune can come from an imported file."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNMATCHED_COLUMNS = (
    "household",
    "why",
    "feasible_units",
    "smallest_relaxation",
    "relaxed_to",
    "units_it_would_open",
    "reasons",
)


def neutralised(value: Any) -> Any:
    """Text a spreadsheet would read as a formula, made plain text; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def tables(result: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """The result's tables, header first: proposals, then unmatched households."""
    # the score's parts, as the matcher names them (every match has them all)
    parts = list(result["matches"][0]["score_breakdown"]) if result["matches"] else []
    proposals: list[tuple[Any, ...]] = [("household", "unit", "rank", "score", *parts)]
    for match in result["matches"]:
        breakdown = match["score_breakdown"]
        proposals.append(
            (
                match["household"],
                match["unit"],
                match["rank"],
                match["score"],
                *(breakdown.get(part, 0) for part in parts),
            )
        )
    unmatched: list[tuple[Any, ...]] = [UNMATCHED_COLUMNS]
    for household in result["unmatched"]:
        detail = household.get("detail") or {}
        relaxation = (detail.get("relaxations") or [{}])[0]  # the explainer puts the least first
        unmatched.append(
            (
                household["household"],
                detail.get("kind"),
                detail.get("feasible_unit_count", 0),
                relaxation.get("parameter"),
                relaxation.get("value"),
                relaxation.get("units"),
                "\n".join(household["reasons"]),
            )
        )
    return {"proposals": proposals, "unmatched": unmatched}


def to_xlsx(result: dict[str, Any]) -> bytes:
    """One sheet per table, every text cell typed as text."""
    workbook = Workbook()
    first = workbook.active
    if first is not None:
        workbook.remove(first)
    for name, rows in tables(result).items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append([neutralised(value) for value in row])
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # openpyxl would otherwise keep "=..." as a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(result: dict[str, Any], table: str) -> str:
    """One table as CSV (comma-separated, UTF-8: write it with a byte-order mark for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in tables(result)[table]:
        writer.writerow([neutralised(value) for value in row])
    return buffer.getvalue()
