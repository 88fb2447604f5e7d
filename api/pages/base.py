"""What every page shares: the signed-in person, templates, CSRF, headers, error pages.

Pages are server-rendered (Jinja2, autoescaped) and call the same services as the API, so
no rule lives here. A person signs in once with an API key (services/web_sessions.py); the
cookie holds a random token, HttpOnly, SameSite=Strict, Secure over HTTPS. Every form that
changes something carries the session's CSRF token. As in the API, a page of another role is
a 404, not a 403.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import AppClock, DbSession
from api.pages.text import TEXT
from models import ApiRole
from services import reasons
from services.errors import Forbidden, NotFound
from services.web_sessions import SignedIn, signed_in

HERE = Path(__file__).parent
COOKIE = "hm_session"
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.tests["date_value"] = lambda value: isinstance(value, date)

# Only this origin: no inline script, no other host, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


class PageHeaders:
    """Security headers on every response under /ui (pages, redirects, error pages); and
    empty query parameters dropped, as a filter form's "all" sends `urgent=` for "any"."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/ui"):
            await self.app(scope, receive, send)
            return
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        scope = dict(scope, query_string=urlencode([(k, v) for k, v in pairs if v]).encode())

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                known = {name for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    header for header in PAGE_HEADERS if header[0] not in known
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


class NotSignedIn(Exception):
    """A page asked for without a valid session: the sign-in page, then back."""


def person(request: Request, db: DbSession, clock: AppClock) -> SignedIn:
    found = signed_in(db, request.cookies.get(COOKIE), clock.now())
    if found is None:
        raise NotSignedIn
    return found


Person = Annotated[SignedIn, Depends(person)]


def coordinator(who: Person) -> SignedIn:
    if who.actor.role is not ApiRole.COORDINATOR:
        raise NotFound("page", "for coordinators")
    return who


def landlord(who: Person) -> SignedIn:
    if who.actor.role is not ApiRole.LANDLORD:
        raise NotFound("page", "for landlords")
    return who


Coordinator = Annotated[SignedIn, Depends(coordinator)]
Landlord = Annotated[SignedIn, Depends(landlord)]


def checked(who: Person, csrf: Annotated[str | None, Form()] = None) -> SignedIn:
    """The person of a form that changes something, if it carries their CSRF token."""
    if not who.accepts(csrf):
        raise Forbidden("this form is out of date or not ours: reload the page")
    return who


Checked = Annotated[SignedIn, Depends(checked)]


def render(
    request: Request, who: SignedIn | None, template: str, code: int = 200, **context: Any
) -> HTMLResponse:
    """The page of `template`, with the words of the person's language; `code` is its
    HTTP status."""
    language = who.language if who else "fr"
    return templates.TemplateResponse(
        request,
        template,
        {
            "t": TEXT[language],
            "language": language,
            "who": who,
            "path": request.url.path,
            "reason_label": lambda code: reasons.label(code, language),
        }
        | context,
        status_code=code,
    )


def redirect(url: str) -> RedirectResponse:
    """After a form: see the result (303, so a reload does not post again)."""
    return RedirectResponse(url, status_code=303)


def not_signed_in(request: Request, _: Exception) -> Response:
    return redirect(f"/ui/sign-in?next={quote(request.url.path)}")


def error_page(request: Request, status: int, message: str) -> Response:
    """A domain error of a page, as a page with the status the API's table gives it."""
    with request.app.state.sessions() as db:
        who = signed_in(db, request.cookies.get(COOKIE), request.app.state.clock.now())
    shown = "" if status == 404 else message  # a 404 says no more than the API's
    return render(request, who, "error.html", status, error_status=status, message=shown)
