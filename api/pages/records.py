"""Forms of a household or a unit, read exactly as one row of an imported file: the columns
of the import templates (services/templates.py), the same reader, the same messages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from api.pages.base import render
from models import LeaseKind
from services import templates
from services.imports import validate_rows
from services.tables import form_row
from services.web_sessions import SignedIn


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted form as text fields (read here, off the route, which runs in a thread)."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


def parse(kind: templates.Kind, form: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """The validated record of a form, or None and each bad field's message by column."""
    model: type[BaseModel] = templates.RECORDS[kind]
    cells = {
        column.english: form.get(column.english, "") for column in templates.FORM_COLUMNS[kind]
    }
    valid, errors = validate_rows("form", [form_row(model, cells)], model)
    if errors:
        return None, {error.column or error.field: error.message for error in errors}
    return valid[0][1], {}


def field_for(place: str) -> str:
    """The form column a service error names ("workplaces[0]" -> "workplace_1_commune")."""
    if place.startswith("workplaces["):
        number = int(place.split("[", 1)[1].split("]", 1)[0]) + 1
        return f"workplace_{number}_commune"
    if place.startswith("needs.care_site"):
        return "care_site_commune"
    return place


def form_page(
    request: Request,
    who: SignedIn,
    kind: templates.Kind,
    action: str,
    title: str,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    version: int | None = None,
) -> Response:
    """A household's or a unit's form, filled with `values`, its errors by column (422)."""
    return render(
        request,
        who,
        "record_form.html",
        422 if errors else 200,
        action=action,
        title=title,
        columns=templates.FORM_COLUMNS[kind],
        values=values,
        errors=errors or {},
        version=version,
        lease_kinds=list(LeaseKind),
    )
