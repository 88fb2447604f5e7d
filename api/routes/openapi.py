"""What the routes' OpenAPI shares: the problems every route may answer, and import bodies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api.schemas import problem

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: problem("Missing, unknown or revoked API key"),
    403: problem("This role may not do this"),
    413: problem("Request body over the size limit (HOUSING_MATCH_MAX_REQUEST_BYTES)"),
    422: problem("Invalid field, named in `errors`"),
    429: problem("Too many failed authentications, or expensive requests: see Retry-After"),
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: problem("Clashes with the record's current state")
}


def import_body(record: type[BaseModel], example: dict[str, Any], csv: str) -> dict[str, Any]:
    """OpenAPI of an import body: a JSON array of records, CSV text (UTF-8 or Windows-1252,
    ',' ';' or tab, French or English headers) or a spreadsheet (XLSX, ODS)."""
    spreadsheet = {"schema": {"type": "string", "format": "binary"}}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": csv},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": spreadsheet,
                "application/vnd.oasis.opendocument.spreadsheet": spreadsheet,
                "application/json": {
                    "schema": {"type": "array", "items": record.model_json_schema()},
                    "example": [example],
                },
            },
        }
    }
