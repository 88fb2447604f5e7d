"""Coordinators' standing overrides: pin a household to a unit, or forbid a pair, with a
reason and an author, kept until removed, applied to every round, audited.

A pin is the round's `pinned_pairs` (proposed whenever both are in the round and the pair
is feasible; the round reports what became of it); a forbidden pair its `forbidden_pairs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiRole, Household, Landlord, Override, OverrideKind, Unit
from services import audit
from services.access import Actor
from services.errors import Conflict, InvalidInput, NotFound
from services.rounds import override_rows, unit_key


@dataclass(frozen=True, slots=True)
class StandingOverride:
    """An override as coordinators read it: by reference and unit key."""

    id: int
    kind: OverrideKind
    household: str
    unit: str  # landlord/reference, as a round names it
    reason: str
    author: str


def _unit_by_key(session: Session, unit_key: str) -> Unit:
    landlord_name, _, reference = unit_key.partition("/")
    unit = session.scalars(
        select(Unit)
        .join(Unit.landlord)
        .where(Landlord.name == landlord_name.strip(), Unit.reference == reference.strip())
    ).first()
    if unit is None:
        raise InvalidInput("unit", f"no unit {unit_key!r}: write it as 'Landlord/Reference'")
    return unit


def add_override(
    session: Session,
    actor: Actor,
    kind: OverrideKind,
    household_reference: str,
    unit_key: str,
    reason: str,
) -> Override:
    actor.require(ApiRole.COORDINATOR)
    if not reason.strip():
        raise InvalidInput("reason", "say why: the reason is read before a commission")
    household = session.scalars(
        select(Household).where(Household.reference == household_reference.strip())
    ).first()
    if household is None:
        raise InvalidInput("household", f"no household {household_reference!r}")
    unit = _unit_by_key(session, unit_key)
    pairs = select(Override).where(Override.household_id == household.id)
    if session.scalars(pairs.where(Override.unit_id == unit.id)).first() is not None:
        raise Conflict("this pair already has an override: remove it first", field="unit")
    if (
        kind is OverrideKind.PIN
        and session.scalars(pairs.where(Override.kind == OverrideKind.PIN)).first()
    ):
        raise Conflict("this household is already pinned to a unit", field="household")
    override = Override(
        kind=kind,
        household_id=household.id,
        unit_id=unit.id,
        reason=reason.strip()[:300],
        author=f"{actor.role}:{actor.name}",
    )
    session.add(override)
    session.flush()
    audit.record(
        session,
        actor,
        f"override.{kind}",
        "override",
        override.id,
        after={"household_id": household.id, "unit_id": unit.id, "reason": override.reason},
    )
    return override


def remove_override(session: Session, actor: Actor, override_id: int) -> None:
    actor.require(ApiRole.COORDINATOR)
    override = session.get(Override, override_id)
    if override is None:
        raise NotFound("override", override_id)
    before = {"kind": str(override.kind), "household_id": override.household_id}
    session.delete(override)
    session.flush()
    audit.record(session, actor, "override.removed", "override", override_id, before=before)


def standing_overrides(session: Session, actor: Actor) -> Sequence[StandingOverride]:
    actor.require(ApiRole.COORDINATOR)
    return [
        StandingOverride(o.id, o.kind, reference, unit_key(unit, landlord), o.reason, o.author)
        for o, reference, unit, landlord in override_rows(session)
    ]
