"""Why a proposal was refused or rejected: a documented list, each code tagged with the side it
comes from (docs/reasons.md is generated from this table by a test)."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    HOUSEHOLD = "household"
    LANDLORD = "landlord"
    SYSTEM = "system"  # set by the service itself, never given by a person


REASONS: dict[str, tuple[Side, str]] = {
    # The household refuses
    "too_far_from_work": (Side.HOUSEHOLD, "Too far from the workplace of an adult"),
    "too_far_from_school": (Side.HOUSEHOLD, "Too far from the children's school"),
    "unsuitable_for_health": (Side.HOUSEHOLD, "Unit unsuitable for the household's health needs"),
    "too_expensive": (Side.HOUSEHOLD, "Rent and charges too high for the household"),
    "too_small": (Side.HOUSEHOLD, "Unit too small for the household"),
    "neighbourhood": (Side.HOUSEHOLD, "The household does not want this neighbourhood"),
    "household_unreachable": (Side.HOUSEHOLD, "The household could not be reached in time"),
    "household_left": (Side.HOUSEHOLD, "The household left the department or found housing"),
    "other_household": (Side.HOUSEHOLD, "Other reason given by the household"),
    # The landlord's attribution commission rejects
    "commission_resources_insufficient": (
        Side.LANDLORD,
        "Commission: resources insufficient for the rent",
    ),
    "commission_file_incomplete": (Side.LANDLORD, "Commission: application file incomplete"),
    "commission_other_candidate": (
        Side.LANDLORD,
        "Commission: the unit went to another candidate",
    ),
    "commission_unit_unavailable": (
        Side.LANDLORD,
        "Commission: the unit is no longer available (works, sale, withdrawn)",
    ),
    "commission_occupancy": (Side.LANDLORD, "Commission: occupancy does not fit the unit"),
    "other_landlord": (Side.LANDLORD, "Other reason given by the landlord"),
    # Set by the service
    "deadline_passed": (Side.SYSTEM, "No answer before the deadline: the proposal expired"),
}


# The same reasons in French, for the pages (tests check that every code has one).
REASONS_FR: dict[str, str] = {
    "too_far_from_work": "Trop loin du lieu de travail d'un adulte",
    "too_far_from_school": "Trop loin de l'école des enfants",
    "unsuitable_for_health": "Logement inadapté aux besoins de santé du ménage",
    "too_expensive": "Loyer et charges trop élevés pour le ménage",
    "too_small": "Logement trop petit pour le ménage",
    "neighbourhood": "Le ménage ne souhaite pas ce quartier",
    "household_unreachable": "Le ménage n'a pas pu être joint à temps",
    "household_left": "Le ménage a quitté le département ou trouvé un logement",
    "other_household": "Autre motif donné par le ménage",
    "commission_resources_insufficient": "Commission : ressources insuffisantes pour le loyer",
    "commission_file_incomplete": "Commission : dossier incomplet",
    "commission_other_candidate": "Commission : logement attribué à un autre candidat",
    "commission_unit_unavailable": "Commission : logement plus disponible (travaux, vente, "
    "retrait)",
    "commission_occupancy": "Commission : l'occupation ne convient pas au logement",
    "other_landlord": "Autre motif donné par le bailleur",
    "deadline_passed": "Pas de réponse avant l'échéance : la proposition a expiré",
}


def label(code: str, language: str) -> str:
    """A reason's words in the language ("fr" or "en")."""
    if language == "fr" and code in REASONS_FR:
        return REASONS_FR[code]
    return REASONS[code][1] if code in REASONS else code


def codes_for(side: Side) -> list[str]:
    return [code for code, (code_side, _) in REASONS.items() if code_side is side]


def reasons_markdown() -> str:
    """docs/reasons.md: the reason codes a refusal or rejection carries."""
    lines = [
        "# Reason codes",
        "",
        "A refused, rejected or expired proposal carries one of these codes (plus free text).",
        "The side says who may give it: a household's refusal takes a `household` code, a",
        "commission's rejection a `landlord` code; `system` codes are set by the service.",
        "",
        "| code | side | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{code}` | {side} | {meaning} |" for code, (side, meaning) in REASONS.items()]
    return "\n".join(lines) + "\n"
