"""A round's report: one self-contained HTML file a coordinator prints for the commission.

Every asset is inline (styles, the map as SVG: no tile server, no CDN, no script), so the
file opens offline and carries nothing a browser would fetch. It is computed from the stored
result and the rows the round read (by their ids in its snapshot), and compares the round
with a first-come-first-served assignment on the same feasible pairs, computed when the
report is made. Coordinators only: it names households, their reasons and workplaces.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import matcher
from matcher.candidates import generate_candidates
from matcher.geo import haversine_km
from matcher.greedy import first_come_first_served
from matcher.unit_table import UnitTable
from models import Exclusion, Household, Landlord, MatchRound, RoundStatus, Unit
from services import maps
from services.access import Actor
from services.errors import Conflict
from services.maps import Projection, commune_labels, every_nth
from services.roundfile import to_policy
from services.rounds import get_round, to_matcher_household, to_matcher_unit, unit_key
from services.territories import ScopedPolicyIn

Language = Literal["fr", "en"]
TEMPLATE = "report.html.j2"  # next to this module
# Past this many feasible pairs the comparison would hold them all in memory: it is left out.
MAX_COMPARED_PAIRS = 5_000_000
# The map draws at most this many units and lines (a national round has 50,000 of each).
MAX_DRAWN = 4_000
LABELLED_COMMUNES = 24

# French phrases for the matcher's rule and parameter ids (its own phrases are English).
RULES_FR = {
    "surface": "sous la norme de surface",
    "min_rooms": "trop peu de pièces",
    "max_rooms": "trop de pièces (sous-occupation)",
    "wheelchair": "non accessible en fauteuil",
    "step_free": "étage sans ascenseur",
    "care_distance": "trop loin du lieu de soins",
    "commute": "trop loin d'un lieu de travail",
    "affordability": "trop cher pour les ressources",
    "excluded_commune": "dans une commune exclue",
    "excluded_pair": "refusé auparavant ou interdit",
    "lease_kind": "type de bail non accepté",
    "availability": "pas disponible dans l'horizon",
}
PARAMETERS = {
    "fr": {
        "max_commute_km": "trajet maximal de {value:g} km",
        "care_site.max_km": "distance maximale au lieu de soins de {value:g} km",
        "max_effort_rate": "taux d'effort maximal de {value:.1%}",
        "room_shortfall_allowed": "{value:g} pièce(s) de moins admise(s)",
        "horizon_days": "horizon de {value:g} jours",
    },
    "en": {
        "max_commute_km": "max commute of {value:g} km",
        "care_site.max_km": "care site max distance of {value:g} km",
        "max_effort_rate": "max effort rate of {value:.1%}",
        "room_shortfall_allowed": "a shortfall of {value:g} room(s)",
        "horizon_days": "a horizon of {value:g} days",
    },
}
# The matcher's reasons, in French, from an unmatched household's structured detail.
REASONS_FR = {
    "ruled_out": "{count} logement(s) {phrase}",
    "outcompeted": "ses {count} logement(s) possible(s) sont proposés à d'autres ménages",
    "passed_over": "{count} d'entre eux à des ménages moins prioritaires (meilleure adéquation)",
    "no_units": "aucun logement dans ce tour",
}
TEXT: dict[Language, dict[str, str]] = {
    "fr": {
        "title": "Tour d'attribution n° {id}",
        "solved": "Résolu le {when}, par {who}",
        "territory": "Territoire : {territory}",
        "headline": "En bref",
        "housed": "Ménages proposés",
        "urgent_housed": "Ménages urgents proposés",
        "units_with_candidates": "Logements avec un candidat",
        "vacant": "Logements restés vacants",
        "vacant_no_fit": "dont aucun ménage ne convient",
        "vacant_elsewhere": "dont les ménages possibles sont proposés ailleurs",
        "median_commute": "Trajet médian des adultes qui travaillent",
        "quota": "Quota de ressources",
        "quota_line": "{share} des propositions hors QPV vont à des ménages modestes ; "
        "coût : {fewer} ménage(s) de moins qu'à quota nul",
        "optimal": "Solution optimale prouvée",
        "not_optimal": "Solution non prouvée optimale (écart {gap})",
        "comparison": "Comparaison avec le premier arrivé, premier servi",
        "comparison_text": "Sur les mêmes couples possibles, servir les ménages dans l'ordre "
        "d'inscription, chacun prenant le meilleur logement encore libre, en propose {greedy} "
        "(dont {greedy_urgent} urgents) ; ce tour en propose {ours} (dont {ours_urgent} "
        "urgents) : {more} de plus, {more_urgent} urgents de plus.",
        "comparison_skipped": "Comparaison omise : {pairs} couples possibles, trop pour la "
        "refaire ici.",
        "changed": "{count} ménage(s) ou logement(s) ont changé depuis le tour : la "
        "comparaison et la carte utilisent leur état actuel.",
        "map": "Carte",
        "map_caption": "Logements proposés (plein) et restés vacants (creux), lieux de travail "
        "(losanges) et un trait par proposition vers les lieux de travail du ménage.",
        "map_sampled": "{drawn} éléments dessinés sur {total}.",
        "matches": "Propositions",
        "household": "Ménage",
        "unit": "Logement",
        "rank": "Rang",
        "score": "Score",
        "unmatched": "Ménages sans proposition",
        "reasons": "Motifs",
        "relaxation": "Plus petit assouplissement",
        "relaxation_text": "{units} logement(s) avec {what}",
        "pins": "Attributions imposées",
        "applied": "appliquée",
        "not_applied": "non appliquée",
        "notes": "Remarques",
        "none": "Aucun.",
        "language": "fr",
        "km": "km",
    },
    "en": {
        "title": "Match round {id}",
        "solved": "Solved on {when}, by {who}",
        "territory": "Territory: {territory}",
        "headline": "Headline",
        "housed": "Households proposed",
        "urgent_housed": "Urgent households proposed",
        "units_with_candidates": "Units with a candidate",
        "vacant": "Units left vacant",
        "vacant_no_fit": "no household fits them",
        "vacant_elsewhere": "the households that fit are proposed elsewhere",
        "median_commute": "Median commute of working adults",
        "quota": "Income quota",
        "quota_line": "{share} of the proposals outside priority neighbourhoods go to "
        "low-income households; cost: {fewer} fewer household(s) than without it",
        "optimal": "Proven optimal",
        "not_optimal": "Not proven optimal (gap {gap})",
        "comparison": "Compared with first come, first served",
        "comparison_text": "On the same feasible pairs, serving households in order of "
        "registration, each taking the best unit still free, proposes {greedy} (of which "
        "{greedy_urgent} urgent); this round proposes {ours} (of which {ours_urgent} urgent): "
        "{more} more, {more_urgent} more urgent.",
        "comparison_skipped": "Comparison left out: {pairs} feasible pairs, too many to redo here.",
        "changed": "{count} household(s) or unit(s) changed since the round: the comparison "
        "and the map use them as they are now.",
        "map": "Map",
        "map_caption": "Units proposed (filled) and left vacant (hollow), workplaces (diamonds) "
        "and a line from each proposal to the household's workplaces.",
        "map_sampled": "{drawn} of {total} items drawn.",
        "matches": "Proposals",
        "household": "Household",
        "unit": "Unit",
        "rank": "Rank",
        "score": "Score",
        "unmatched": "Households without a proposal",
        "reasons": "Reasons",
        "relaxation": "Smallest relaxation",
        "relaxation_text": "{units} unit(s) with {what}",
        "pins": "Pins",
        "applied": "applied",
        "not_applied": "not applied",
        "notes": "Notes",
        "none": "None.",
        "language": "en",
        "km": "km",
    },
}


@dataclass
class MapView:
    """The SVG's shapes, in its pixel coordinates."""

    units: list[tuple[float, float, bool]] = field(default_factory=list)  # x, y, proposed
    workplaces: list[tuple[float, float]] = field(default_factory=list)
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)
    labels: list[tuple[float, float, str]] = field(default_factory=list)
    scale: tuple[float, int] = (0.0, 0)  # bar length in pixels, and the km it stands for
    drawn: int = 0
    total: int = 0


@dataclass
class Report:
    round_id: int
    solved: str
    created_by: str
    stats: dict[str, Any]
    matches: list[dict[str, Any]]
    parts: list[str]
    unmatched: list[tuple[str, list[str], str]]  # household, reasons, smallest relaxation
    pins: list[dict[str, Any]]
    notes: list[str]
    urgent_housed: int
    urgent_total: int
    vacant: int
    vacant_no_fit: int | None  # None: the feasible pairs were too many to look at again
    vacant_elsewhere: int | None
    median_commute_km: float | None
    quota: dict[str, Any] | None
    greedy: tuple[int, int] | None  # households and urgent households it proposes
    changed: int
    map: MapView
    territory: str | None  # None: the round read every household and unit


def _reasons(unmatched: dict[str, Any], language: Language) -> list[str]:
    """The reasons in the report's language, from the structured detail."""
    if language == "en":
        return list(unmatched["reasons"])
    text, detail = REASONS_FR, unmatched.get("detail") or {}
    kind = detail.get("kind")
    if kind == "outcompeted":
        reasons = [text["outcompeted"].format(count=detail["feasible_unit_count"])]
        if detail.get("passed_over_count"):
            reasons.append(text["passed_over"].format(count=detail["passed_over_count"]))
        return reasons
    if kind == "no_feasible_unit":
        ruled_out = detail.get("units_ruled_out_by", {})
        return [
            text["ruled_out"].format(count=count, phrase=RULES_FR.get(rule, rule))
            for rule, count in sorted(ruled_out.items(), key=lambda item: (-item[1], item[0]))
        ]
    if kind == "no_units":
        return [text["no_units"]]
    return list(unmatched["reasons"])


def _relaxation(unmatched: dict[str, Any], language: Language) -> str:
    relaxations = (unmatched.get("detail") or {}).get("relaxations") or []
    if not relaxations:
        return ""
    least = relaxations[0]  # the explainer puts the least change first
    phrase = PARAMETERS[language].get(least["parameter"], least["parameter"] + " = {value:g}")
    return TEXT[language]["relaxation_text"].format(
        units=least["units"], what=phrase.format(value=least["value"])
    )


def _rows_of(
    session: Session, snapshot: dict[str, dict[str, list[int]]]
) -> tuple[matcher.Instance, int, frozenset[tuple[str, str]]]:
    """The instance of the rows the round read, as they are now; how many changed since;
    the exclusions between them."""
    household_ids = {pair[0]: pair[1] for pair in snapshot["households"].values()}
    unit_ids = {pair[0]: pair[1] for pair in snapshot["units"].values()}
    households = session.scalars(
        select(Household)
        .where(Household.id.in_(household_ids))
        .options(selectinload(Household.workplaces))
        .order_by(Household.reference)
    ).all()
    units = session.execute(
        select(Unit, Landlord.name)
        .join(Unit.landlord)
        .where(Unit.id.in_(unit_ids))
        .order_by(Unit.id)
    ).all()
    changed = sum(household_ids[h.id] != h.version for h in households) + sum(
        unit_ids[u.id] != u.version for u, _ in units
    )
    changed += len(household_ids) - len(households) + len(unit_ids) - len(units)
    reference = {h.id: h.reference for h in households}
    key = {unit.id: unit_key(unit, name) for unit, name in units}
    exclusions = session.execute(select(Exclusion.household_id, Exclusion.unit_id)).all()
    instance = matcher.Instance(
        tuple(to_matcher_household(h) for h in households),
        tuple(to_matcher_unit(unit, name) for unit, name in units),
    )
    excluded = frozenset(
        (reference[h], key[u]) for h, u in exclusions if h in reference and u in key
    )
    return instance, changed, excluded


def _map(instance: matcher.Instance, matches: list[dict[str, Any]]) -> MapView:
    view = MapView()
    households = {h.id: h for h in instance.households}
    units = {u.id: u for u in instance.units}
    proposed = {m["unit"] for m in matches}
    projection = Projection.fitting(
        [(u.lat, u.lon) for u in instance.units]
        + [(w.lat, w.lon) for h in instance.households for w in h.workplaces]
    )
    if projection is None:
        return view
    xy = projection.xy
    drawn_units: list[matcher.Unit] = every_nth(list(instance.units), MAX_DRAWN)
    view.units = [(*xy(u.lat, u.lon), u.id in proposed) for u in drawn_units]
    drawn_matches: list[dict[str, Any]] = every_nth(matches, MAX_DRAWN)
    for match in drawn_matches:
        unit, household = units.get(match["unit"]), households.get(match["household"])
        if unit is None or household is None:
            continue
        for place in household.workplaces:
            view.lines.append((*xy(unit.lat, unit.lon), *xy(place.lat, place.lon)))
            view.workplaces.append(xy(place.lat, place.lon))
    view.drawn = len(view.units) + len(view.lines)
    view.total = len(instance.units) + sum(
        len(households[m["household"]].workplaces) for m in matches if m["household"] in households
    )
    places = ((u.commune, u.lat, u.lon) for u in instance.units)
    view.labels = commune_labels(projection, places, LABELLED_COMMUNES)
    view.scale = projection.scale_bar()
    return view


def build_report(session: Session, actor: Actor, round_id: int, language: Language) -> Report:
    match_round: MatchRound = get_round(session, actor, round_id)
    result = match_round.result
    if match_round.status not in (RoundStatus.SOLVED, RoundStatus.PUBLISHED) or result is None:
        message = f"round {round_id} is {match_round.status}: it has no result yet"
        raise Conflict(message, field="status")
    assert match_round.snapshot is not None  # stored with the result (rounds.store_result)
    instance, changed, excluded = _rows_of(session, match_round.snapshot)
    policy_in = ScopedPolicyIn.model_validate(match_round.policy)
    policy = to_policy(policy_in)
    policy = replace(policy, excluded_pairs=policy.excluded_pairs | excluded)
    households = {h.id: h for h in instance.households}
    units = {u.id: u for u in instance.units}
    matches = result["matches"]
    urgent = {h.id for h in instance.households if h.urgent}
    matched_households = {m["household"] for m in matches}
    commutes = [
        haversine_km(units[m["unit"]].lat, units[m["unit"]].lon, w.lat, w.lon)
        for m in matches
        if m["unit"] in units and m["household"] in households
        for w in households[m["household"]].workplaces
    ]
    greedy: tuple[int, int] | None = None
    feasible_units: set[int] = set()
    if result["stats"]["candidate_pairs"] <= MAX_COMPARED_PAIRS:
        candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
        pairs = candidates.every_pair()
        feasible_units = set(pairs.unit.tolist())
        assignment = first_come_first_served(instance, policy, pairs)
        greedy = (
            len(assignment),
            sum(instance.households[h].id in urgent for h, _ in assignment),
        )
    used = {m["unit"] for m in matches}
    vacant = [i for i, u in enumerate(instance.units) if u.id not in used]
    elsewhere = sum(i in feasible_units for i in vacant)
    quota = (result.get("stats") or {}).get("income_quota")
    solved = match_round.finished_at  # set with the result (services/rounds.store_result)
    assert solved is not None
    return Report(
        round_id=round_id,
        solved=solved.strftime("%d/%m/%Y %H:%M" if language == "fr" else "%Y-%m-%d %H:%M"),
        created_by=match_round.created_by,
        stats=result["stats"],
        matches=matches,
        parts=list(matches[0]["score_breakdown"]) if matches else [],
        unmatched=[
            (u["household"], _reasons(u, language), _relaxation(u, language))
            for u in result["unmatched"]
        ],
        pins=result.get("pins", []),
        notes=result.get("notes", []),
        urgent_housed=len(matched_households & urgent),
        urgent_total=len(urgent),
        vacant=len(vacant),
        vacant_no_fit=len(vacant) - elsewhere if greedy is not None else None,
        vacant_elsewhere=elsewhere if greedy is not None else None,
        median_commute_km=statistics.median(commutes) if commutes else None,
        quota=quota,
        greedy=greedy,
        changed=changed,
        map=_map(instance, matches),
        territory=policy_in.territory.label() if policy_in.territory else None,
    )


def _number(value: float, language: Language) -> str:
    """1234 -> '1 234' in French (narrow no-break space), '1,234' in English."""
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    return text.replace(",", "\u202f").replace(".", ",") if language == "fr" else text


_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape(default=True)
)


def render_report(session: Session, actor: Actor, round_id: int, language: Language = "fr") -> str:
    """The round's report as one HTML document."""
    report = build_report(session, actor, round_id, language)
    return _environment.get_template(TEMPLATE).render(
        report=report,
        t=TEXT[language],
        language=language,
        number=lambda value: _number(value, language),
        percent=lambda share: (
            f"{share:.1%}".replace(".", ",") if language == "fr" else f"{share:.1%}"
        ),
        map_size=(maps.WIDTH, maps.HEIGHT),
    )
