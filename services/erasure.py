"""Erasure of a household on request (GDPR art. 17), and of closed cases past retention.

A household is anonymised in place rather than deleted: its proposals keep the lifecycle of the
units they concern (a unit let, refused, re-let) and the round statistics stay true. What goes,
everywhere it is held:
- the record: its reference (replaced by `erased-<id>`), health needs and care site, workplaces,
  urgency and its reason, application number, communes, lease preferences, consent; its
  registration date is kept to the month;
- its proposals' free-text reasons (reason codes stay: they are statistics);
- the audit trail's payloads about it (who did what and when stays);
- stored rounds: its reference in results, explanations and policies (a reason naming it in
  another household's explanation included), and its own explanation, which names its needs.
What stays is what a statistic needs and cannot single a person out once the reference is
gone: the number of adults, couple or not, children's ages, resources, status."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Text, cast, select, update
from sqlalchemy.orm import Session, selectinload

from models import (
    AuditEvent,
    Household,
    HouseholdStatus,
    MatchRound,
    Proposal,
)
from services import audit
from services.access import SYSTEM, Actor
from services.errors import Conflict
from services.households import get_household

ERASED_PREFIX = "erased-"
# A household with a live proposal is in a commission's hands: erase it once that is settled.
ERASABLE_STATUSES = (HouseholdStatus.WAITING, HouseholdStatus.WITHDRAWN, HouseholdStatus.HOUSED)
CLOSED_STATUSES = (HouseholdStatus.WITHDRAWN, HouseholdStatus.HOUSED)
PURGED_PER_PASS = 500


def is_erased(household: Household) -> bool:
    return household.reference.startswith(ERASED_PREFIX)


def erase_household(session: Session, actor: Actor, household_id: int) -> Household:
    """Anonymise the household everywhere (see the module's docstring); erasing an erased
    household again changes nothing."""
    household = get_household(session, actor, household_id)
    if is_erased(household):
        return household
    if household.status not in ERASABLE_STATUSES:
        raise Conflict(
            f"household {household_id} is {household.status}: its proposal must be answered "
            "or expire before it is erased",
            field="status",
        )
    _erase(session, household)
    audit.record(session, actor, "household.erased", "household", household.id)
    return household


def purge_closed(session: Session, today: date, retention_days: int) -> list[int]:
    """Erase the households closed (housed or withdrawn) for longer than the retention
    period, by their last change; the ids erased."""
    cutoff = datetime.combine(today - timedelta(days=retention_days), time(), tzinfo=UTC)
    closed = session.scalars(
        select(Household)
        .where(
            Household.status.in_(CLOSED_STATUSES),
            Household.updated_at < cutoff,
            Household.reference.not_like(f"{ERASED_PREFIX}%"),
        )
        .options(selectinload(Household.workplaces))
        .limit(PURGED_PER_PASS)  # the rest on the next pass: one transaction stays short
    ).all()
    for household in closed:
        _erase(session, household)
        audit.record(
            session,
            SYSTEM,
            "household.erased",
            "household",
            household.id,
            after={"why": f"closed for more than {retention_days} days"},
        )
    return [h.id for h in closed]


def _erase(session: Session, household: Household) -> None:
    reference = household.reference
    replacement = f"{ERASED_PREFIX}{household.id}"
    household.reference = replacement
    household.needs_wheelchair = False
    household.needs_reduced_mobility = False
    household.care_site_label = None
    household.care_site_lat = None
    household.care_site_lon = None
    household.care_site_max_km = None
    household.workplaces = []
    household.preferred_communes = []
    household.excluded_communes = []
    household.accepted_lease_kinds = []
    household.registered_on = household.registered_on.replace(day=1)
    household.urgent = False
    household.urgent_reason = None
    household.urgent_deadline = None
    household.application_number = None
    household.consent_to_share = False
    if household.status is HouseholdStatus.WAITING:
        household.status = HouseholdStatus.WITHDRAWN
    session.execute(
        update(Proposal).where(Proposal.household_id == household.id).values(reason_text=None)
    )
    session.execute(
        update(AuditEvent)
        .where(AuditEvent.entity == "household", AuditEvent.entity_id == str(household.id))
        .values(before=None, after=None)
    )
    _scrub_rounds(session, reference, replacement)
    session.flush()


def _scrub_rounds(session: Session, reference: str, replacement: str) -> None:
    """Every stored round that names the household: its reference replaced, its own
    explanation (which names its needs) emptied. One round in memory at a time."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(reference)}(?![\w-])")
    stored = json.dumps(reference)[1:-1]  # as the JSON columns hold it (escaped)
    naming = select(MatchRound.id).where(
        cast(MatchRound.result, Text).contains(stored, autoescape=True)
        | cast(MatchRound.snapshot, Text).contains(stored, autoescape=True)
        | cast(MatchRound.policy, Text).contains(stored, autoescape=True)
    )
    for round_id in session.scalars(naming.order_by(MatchRound.id)).all():
        match_round = session.get(MatchRound, round_id)
        assert match_round is not None
        result, snapshot, policy = match_round.result, match_round.snapshot, match_round.policy
        if any(_mentions(document, pattern) for document in (result, snapshot, policy)):
            if result is not None:
                result = _without_explanation(result, reference)
            match_round.result = _replaced(result, pattern, replacement)
            match_round.snapshot = _replaced(snapshot, pattern, replacement)
            match_round.policy = _replaced(policy, pattern, replacement)
        session.flush()
        session.expunge(match_round)


def _mentions(document: Any, pattern: re.Pattern[str]) -> bool:
    if isinstance(document, str):
        return pattern.search(document) is not None
    if isinstance(document, dict):
        return any(_mentions(k, pattern) or _mentions(v, pattern) for k, v in document.items())
    if isinstance(document, list):
        return any(_mentions(item, pattern) for item in document)
    return False


def _replaced(document: Any, pattern: re.Pattern[str], replacement: str) -> Any:
    if isinstance(document, str):
        return pattern.sub(replacement, document)
    if isinstance(document, dict):
        return {
            _replaced(k, pattern, replacement): _replaced(v, pattern, replacement)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [_replaced(item, pattern, replacement) for item in document]
    return document


def _without_explanation(result: dict[str, Any], reference: str) -> dict[str, Any]:
    unmatched = [
        {"household": u["household"], "reasons": ["erased on request"], "detail": {}}
        if u.get("household") == reference
        else u
        for u in result.get("unmatched", [])
    ]
    return result | {"unmatched": unmatched}
