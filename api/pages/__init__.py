"""The pages coordinators and landlords work in, under /ui (api/pages/base.py says how)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages import (
    account,
    audit,
    households,
    move_ins,
    overrides,
    proposals,
    rounds,
    units,
)
from api.pages.base import NotSignedIn, PageHeaders, not_signed_in

STATIC = Path(__file__).parent / "static"


def add_pages(app: FastAPI) -> None:
    for module in (account, households, units, rounds, overrides, proposals, move_ins, audit):
        app.include_router(module.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_middleware(PageHeaders)
