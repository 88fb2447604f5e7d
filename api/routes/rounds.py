"""Coordinators run match rounds in the background and publish them as proposals."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.orm import Session

from api.deps import AppClock, CurrentActor, DbSession, Expensive, RowId, UnitOfWork
from api.routes.openapi import CONFLICT, PROBLEMS
from api.schemas import RoundOut, RoundPage, problem
from models import MatchRound, RoundStatus
from services import exports, report, rounds
from services.clock import Clock
from services.errors import Conflict
from services.territories import ScopedPolicyIn

router = APIRouter(prefix="/v1/rounds", tags=["rounds"], route_class=UnitOfWork)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem("No such round")}


def with_progress(db: Session, match_round: MatchRound, clock: Clock) -> RoundOut:
    out = RoundOut.model_validate(match_round)
    out.progress = rounds.progress(db, match_round, clock.now())
    return out


@router.post(
    "",
    dependencies=[Expensive],
    status_code=202,
    response_model=RoundOut,
    responses=PROBLEMS,
    summary="Queue a match round",
)
def queue_round(
    policy: Annotated[
        ScopedPolicyIn,
        Body(
            openapi_examples={
                "defaults": {"value": {}},
                "three candidates per unit": {
                    "value": {"candidates_per_unit": 3, "max_commute_km": 35, "max_per_building": 4}
                },
                "one territory": {
                    "value": {
                        "territory": {
                            "departements": ["63"],
                            "communes": ["Clermont-Ferrand", "Aubière", "Cournon-d'Auvergne"],
                        }
                    }
                },
            }
        ),
    ],
    db: DbSession,
    actor: CurrentActor,
    clock: AppClock,
) -> Any:
    """Every waiting household and every vacant unit (of its territory, if given), at the
    time a worker picks the round up. Follow it with GET /v1/rounds/{id}."""
    match_round = rounds.queue_round(db, actor, policy, clock.today())
    return with_progress(db, match_round, clock)


@router.get("", response_model=RoundPage, responses=PROBLEMS, summary="Rounds, newest first")
def list_rounds(
    db: DbSession,
    actor: CurrentActor,
    clock: AppClock,
    status: RoundStatus | None = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """Each round's status, policy and statistics (its result: GET /v1/rounds/{id}/result)."""
    rows, next_page = rounds.list_rounds(db, actor, status=status, cursor=cursor, limit=limit)
    return {"items": [with_progress(db, r, clock) for r in rows], "next_cursor": next_page}


@router.get(
    "/{round_id}", response_model=RoundOut, responses={**PROBLEMS, **NOT_FOUND}, summary="A round"
)
def get_round(round_id: RowId, db: DbSession, actor: CurrentActor, clock: AppClock) -> Any:
    """Status (queued, running, solved, published, failed), statistics when solved."""
    return with_progress(db, rounds.get_round(db, actor, round_id), clock)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/{round_id}/result",
    responses={
        200: {
            "description": "JSON; or, asked for with Accept, a spreadsheet (XLSX: proposals "
            "and unmatched households) or one table as CSV",
            "content": {"text/csv": {}, XLSX: {}},
        },
        **PROBLEMS,
        **NOT_FOUND,
        **CONFLICT,
    },
    summary="Matches with score breakdowns, unmatched households with reasons",
)
def get_result(
    round_id: RowId,
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    table: Annotated[
        Literal["proposals", "unmatched"],
        Query(description="Which table a CSV holds (Accept: text/csv)"),
    ] = "proposals",
) -> Any:
    match_round = rounds.get_round(db, actor, round_id)
    if not rounds.has_result(match_round):
        raise Conflict(f"round {round_id} is {match_round.status}: no result yet", field="status")
    accept = request.headers.get("accept", "")
    name = f"round-{round_id}"
    if XLSX in accept or "text/csv" in accept:
        result = match_round.result or {}  # loaded whole: the tables are built in memory
        if XLSX in accept:
            return Response(
                exports.to_xlsx(result),
                media_type=XLSX,
                headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
            )
        return Response(
            # with a byte-order mark, so that Excel reads it as UTF-8
            "\ufeff" + exports.to_csv(result, table),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}-{table}.csv"'},
        )
    # Streamed from the database as it is stored: the API holds a chunk, not the document.
    return StreamingResponse(
        rounds.stored_result(request.app.state.sessions, round_id), media_type="application/json"
    )


# The report is a document of its own: inline styles and SVG, nothing else to load.
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@router.get(
    "/{round_id}/report",
    dependencies=[Expensive],
    response_class=HTMLResponse,
    responses={
        200: {"description": "One self-contained HTML page, printable on A4"},
        **PROBLEMS,
        **NOT_FOUND,
        **CONFLICT,
    },
    summary="The round's report for a commission (coordinators)",
)
def get_report(
    round_id: RowId,
    db: DbSession,
    actor: CurrentActor,
    lang: Annotated[Literal["fr", "en"], Query(description="The report's language")] = "fr",
) -> Any:
    """Headline figures, a map, every proposal with its score, every unmatched household
    with its reasons and smallest relaxation, pins, and a comparison with first come,
    first served on the same data. It names households and their needs: no landlord gets
    it."""
    return HTMLResponse(
        report.render_report(db, actor, round_id, lang),
        headers={
            "Content-Security-Policy": REPORT_POLICY,
            "Content-Disposition": f'inline; filename="round-{round_id}.html"',
        },
    )


@router.post(
    "/{round_id}/publish",
    dependencies=[Expensive],
    responses={**PROBLEMS, **NOT_FOUND, **CONFLICT},
    summary="Publish a solved round as proposals",
)
def publish_round(
    round_id: RowId,
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    clock: AppClock,
    skip_changed: Annotated[
        bool,
        Query(
            description="Leave out the pairs of households and units that changed since the "
            "round (listed in `left_out`) and publish the rest, instead of a 409"
        ),
    ] = False,
) -> Any:
    """In one transaction: a proposal per match, units and households moved to `proposed`.
    If any of them changed since the round read them: 409 listing them (`changed`), nothing
    published; or, with `skip_changed=true`, their pairs left out and the rest published,
    unless that would break the round's income quota (409: run the round again)."""
    settings = request.app.state.settings
    publication = rounds.publish_round(
        db,
        actor,
        round_id,
        clock,
        settings.household_response_days,
        skip_changed=skip_changed,
    )
    return {
        "round_id": round_id,
        "proposals": len(publication.proposal_ids),
        "left_out": publication.left_out,
    }
