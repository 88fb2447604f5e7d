"""Signing in and out, the language switch, and the landing page of each role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import AppClock, DbSession, UnitOfWork
from api.pages.base import COOKIE, Checked, Person, redirect, render
from api.ratelimit import RateLimiter
from models import ApiRole
from services import dashboard
from services.errors import Unauthenticated
from services.web_sessions import LANGUAGES, SESSION_HOURS, set_language, sign_in, sign_out

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=UnitOfWork)


def _safe_next(target: str | None) -> str:
    # Only a path of ours: "//evil.example" or "https://..." would send the person away.
    if target and target.startswith("/ui") and not target.startswith("//"):
        return target
    return "/ui"


@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    return render(request, None, "sign_in.html", next=_safe_next(next))


@router.post("/sign-in")
def sign_in_form(
    request: Request,
    db: DbSession,
    clock: AppClock,
    api_key: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    failures: RateLimiter = request.app.state.failed_authentications
    client = request.client.host if request.client else "unknown"
    failures.check(client)
    try:
        token = sign_in(db, api_key, clock.now())
    except Unauthenticated:
        failures.spend(client)
        return render(request, None, "sign_in.html", 401, next=_safe_next(next), failed=True)
    response = redirect(_safe_next(next))
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
def sign_out_form(request: Request, db: DbSession, who: Checked) -> Response:
    sign_out(db, request.cookies.get(COOKIE))
    response = redirect("/ui/sign-in")
    response.delete_cookie(COOKIE, path="/ui")
    return response


@router.post("/language")
def language_form(
    db: DbSession,
    who: Checked,
    language: Annotated[str, Form()],
    back: Annotated[str | None, Form()] = None,
) -> Response:
    if language in LANGUAGES:
        set_language(db, who, "en" if language == "en" else "fr")
    return redirect(_safe_next(back))


@router.get("")
def home(request: Request, db: DbSession, who: Person, clock: AppClock) -> Response:
    """The coordinator's dashboard; a landlord starts from its proposals."""
    if who.actor.role is ApiRole.LANDLORD:
        return redirect("/ui/proposals")
    if who.actor.role is not ApiRole.COORDINATOR:
        return render(request, who, "error.html", 404, error_status=404, message="")
    today = clock.today()
    board = dashboard.coordinator_dashboard(db, who.actor, today)
    context: dict[str, Any] = {"board": board, "today": today}
    return render(request, who, "dashboard.html", **context)
