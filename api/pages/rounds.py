"""Coordinators' pages of the rounds: run one with a policy, follow it, read its report,
export it, publish it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.deps import AppClock, DbSession, RowId, UnitOfWork
from api.pages.base import Checked, Coordinator, coordinator, redirect, render
from api.pages.records import form_fields
from api.routes.rounds import REPORT_POLICY, XLSX
from models import RoundStatus
from services import exports, report, rounds
from services.errors import StaleRound
from services.roundfile import PolicyIn, WeightsIn
from services.territories import ScopedPolicyIn
from services.web_sessions import Language

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=UnitOfWork)

# The policy's parameters a round form offers, in order; each shows PolicyIn's default.
POLICY_FIELDS = (
    "round_date",
    "horizon_days",
    "max_commute_km",
    "max_effort_rate",
    "room_shortfall_allowed",
    "candidates_per_unit",
    "max_per_building",
    "time_limit_s",
    "seed",
)
QUOTA_FIELDS = ("quota_share", "quota_threshold")
# The territory, as lists separated by ';' (empty départements: every household and unit).
TERRITORY_FIELDS = ("territory_departements", "territory_communes")
# The score's weights, as `weight_<name>` fields, each showing its default.
WEIGHT_FIELDS = tuple(f"weight_{name}" for name in WeightsIn.model_fields)


def _defaults() -> dict[str, Any]:
    fields = PolicyIn.model_fields
    values = {name: fields[name].get_default(call_default_factory=True) for name in POLICY_FIELDS}
    weights = {f"weight_{name}": field.default for name, field in WeightsIn.model_fields.items()}
    return (
        {name: "" if value is None else value for name, value in values.items()}
        | dict.fromkeys(QUOTA_FIELDS + TERRITORY_FIELDS, "")
        | weights
    )


def _policy(form: dict[str, str]) -> ScopedPolicyIn:
    """The policy of a round form: empty fields take their defaults."""
    given: dict[str, Any] = {
        name: form[name].strip().replace(",", ".")
        for name in POLICY_FIELDS
        if form.get(name, "").strip()
    }
    weights = {
        name.removeprefix("weight_"): form[name].strip().replace(",", ".")
        for name in WEIGHT_FIELDS
        if form.get(name, "").strip()
    }
    if weights:
        given["weights"] = weights
    share = form.get("quota_share", "").strip().replace(",", ".")
    if share:
        threshold = form.get("quota_threshold", "").strip().replace(",", ".")
        given["income_quota"] = (
            {"share": share, "threshold_eur_per_consumption_unit": threshold}
            if threshold
            else {"share": share, "first_quartile": True}
        )
    departements, communes = (
        [part.strip() for part in form.get(name, "").replace(",", ";").split(";") if part.strip()]
        for name in TERRITORY_FIELDS
    )
    if departements or communes:
        given["territory"] = {"departements": departements, "communes": communes}
    return ScopedPolicyIn.model_validate(given, strict=False)  # form fields are text


def _rounds_page(request: Request, db: DbSession, who: Any, **context: Any) -> Response:
    page, _ = rounds.list_rounds(db, who.actor, limit=50)
    return render(
        request,
        who,
        "rounds.html",
        context.pop("code", 200),
        rounds=page,
        fields=POLICY_FIELDS + QUOTA_FIELDS + TERRITORY_FIELDS,
        text_fields=TERRITORY_FIELDS,
        weight_fields=WEIGHT_FIELDS,
        **({"values": _defaults(), "errors": {}} | context),
    )


@router.get("/rounds")
def round_list(request: Request, db: DbSession, who: Coordinator) -> Response:
    return _rounds_page(request, db, who)


@router.post("/rounds")
def round_form(
    request: Request,
    db: DbSession,
    who: Checked,
    clock: AppClock,
    form: Annotated[dict[str, str], Depends(form_fields)],
) -> Response:
    coordinator(who)
    try:
        policy = _policy(form)
    except ValidationError as invalid:
        errors: dict[str, str] = {}
        for detail in invalid.errors():
            place = detail["loc"][0] if detail["loc"] else "-"
            name = "quota_share" if place == "income_quota" else str(place)
            if place == "territory":
                name = f"territory_{detail['loc'][1]}" if len(detail["loc"]) > 1 else name
            if place == "weights" and len(detail["loc"]) > 1:
                name = f"weight_{detail['loc'][1]}"
            errors.setdefault(name, detail["msg"])
        return _rounds_page(request, db, who, code=422, values=form, errors=errors)
    queued = rounds.queue_round(db, who.actor, policy, clock.today())
    return redirect(f"/ui/rounds/{queued.id}")


@router.get("/rounds/{round_id}")
def round_page(
    request: Request, db: DbSession, who: Coordinator, clock: AppClock, round_id: RowId
) -> Response:
    match_round = rounds.get_round(db, who.actor, round_id)
    running = match_round.status in (RoundStatus.QUEUED, RoundStatus.RUNNING)
    result = match_round.result or {}
    return render(
        request,
        who,
        "round.html",
        round=match_round,
        progress=rounds.progress(db, match_round, clock.now()),
        running=running,
        stats=result.get("stats"),
        matches=result.get("matches", []),
        unmatched=result.get("unmatched", []),
        publishable=match_round.status is RoundStatus.SOLVED,
        published=request.query_params.get("published"),
        left_out=request.query_params.get("left_out"),
        territory=ScopedPolicyIn.model_validate(match_round.policy).territory,
        notes=result.get("notes", []),
    )


@router.get("/rounds/{round_id}/report")
def round_report(
    db: DbSession, who: Coordinator, round_id: RowId, lang: str | None = None
) -> Response:
    language: Language = "en" if (lang or who.language) == "en" else "fr"
    return HTMLResponse(
        report.render_report(db, who.actor, round_id, language),
        headers={"Content-Security-Policy": REPORT_POLICY},
    )


@router.get("/rounds/{round_id}/export.xlsx")
def round_export(db: DbSession, who: Coordinator, round_id: RowId) -> Response:
    match_round = rounds.get_round(db, who.actor, round_id)
    if match_round.result is None:
        return redirect(f"/ui/rounds/{round_id}")
    return Response(
        exports.to_xlsx(match_round.result),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="round-{round_id}.xlsx"'},
    )


@router.post("/rounds/{round_id}/publish")
def publish_form(
    request: Request,
    db: DbSession,
    who: Checked,
    clock: AppClock,
    round_id: RowId,
    skip_changed: Annotated[bool, Form()] = False,
) -> Response:
    coordinator(who)
    settings = request.app.state.settings
    try:
        publication = rounds.publish_round(
            db,
            who.actor,
            round_id,
            clock,
            settings.household_response_days,
            skip_changed=skip_changed,
        )
    except StaleRound as stale:
        match_round = rounds.get_round(db, who.actor, round_id)
        return render(
            request,
            who,
            "round.html",
            409,
            round=match_round,
            progress=rounds.progress(db, match_round, clock.now()),
            running=False,
            stats=(match_round.result or {}).get("stats"),
            matches=(match_round.result or {}).get("matches", []),
            unmatched=(match_round.result or {}).get("unmatched", []),
            publishable=True,
            changed=stale.changed,
        )
    left_out = "; ".join(publication.left_out)
    return redirect(
        f"/ui/rounds/{round_id}?published={len(publication.proposal_ids)}"
        + (f"&left_out={left_out}" if left_out else "")
    )
