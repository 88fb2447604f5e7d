"""A round's result as spreadsheets (services/exports.py)."""

from __future__ import annotations

import csv
import io
from typing import Any

from python_calamine import CalamineWorkbook

from services.exports import UNMATCHED_COLUMNS, neutralised, tables, to_csv, to_xlsx

RESULT: dict[str, Any] = {
    "matches": [
        {
            "household": '=HYPERLINK("http://evil")',
            "unit": "Dome Habitat/LOT-1",
            "rank": 1,
            "score": 1856,
            "score_breakdown": {"waiting": 676, "size_fit": 400, "commute": 0},
        },
        {
            "household": "HH-2",
            "unit": "Dome Habitat/LOT-2",
            "rank": 1,
            "score": 900,
            "score_breakdown": {"waiting": 500, "size_fit": 400, "commute": 0},
        },
    ],
    "unmatched": [
        {
            "household": "@HH-3",
            "reasons": ["no feasible unit among 2", "-1 room short"],
            "detail": {
                "kind": "no_feasible_unit",
                "relaxations": [{"parameter": "room_shortfall_allowed", "value": 1.0, "units": 2}],
            },
        },
    ],
}


def test_text_a_spreadsheet_would_run_is_made_plain() -> None:
    assert [neutralised(v) for v in ("=1+1", "+33", "-2", "@SUM", "\tx", "HH-1", -2, 3.5)] == [
        "'=1+1",
        "'+33",
        "'-2",
        "'@SUM",
        "'\tx",
        "HH-1",
        -2,
        3.5,
    ]


def test_the_tables_carry_every_match_and_reason_with_the_score_parts() -> None:
    proposals, unmatched = tables(RESULT)["proposals"], tables(RESULT)["unmatched"]
    assert proposals[0] == ("household", "unit", "rank", "score", "waiting", "size_fit", "commute")
    assert proposals[2] == ("HH-2", "Dome Habitat/LOT-2", 1, 900, 500, 400, 0)
    assert unmatched[1] == (
        "@HH-3",
        "no_feasible_unit",
        0,
        "room_shortfall_allowed",
        1.0,
        2,
        "no feasible unit among 2\n-1 room short",
    )


def test_the_xlsx_holds_text_not_formulas() -> None:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(to_xlsx(RESULT)))
    assert workbook.sheet_names == ["proposals", "unmatched"]
    proposals = workbook.get_sheet_by_name("proposals").to_python()
    assert proposals[1][0] == '\'=HYPERLINK("http://evil")'
    assert proposals[2][:4] == ["HH-2", "Dome Habitat/LOT-2", 1, 900]
    unmatched = workbook.get_sheet_by_name("unmatched").to_python()
    assert unmatched[1][0] == "'@HH-3"
    assert unmatched[1][3:] == [
        "room_shortfall_allowed",
        1.0,
        2,
        "no feasible unit among 2\n-1 room short",
    ]


def test_the_csv_is_one_table_neutralised() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(RESULT, "unmatched"))))
    assert rows[0] == list(UNMATCHED_COLUMNS)
    assert rows[1] == [
        "'@HH-3",
        "no_feasible_unit",
        "0",
        "room_shortfall_allowed",
        "1.0",
        "2",
        "no feasible unit among 2\n-1 room short",
    ]
