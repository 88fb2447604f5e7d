"""private household fields out of the audit trail's payloads

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:00:00

The audit trail copied `urgent_reason` and `application_number` (and, in early versions,
health fields) into the before/after of household events, which admins could read. They are
removed from the stored events; the code no longer writes them (Household.PRIVATE_COLUMNS).
The list is copied here, not imported: a migration stays what it was when it ran. Nothing is
restored on downgrade: the values are gone on purpose.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRIVATE = {
    "needs_wheelchair",
    "needs_reduced_mobility",
    "care_site_label",
    "care_site_lat",
    "care_site_lon",
    "care_site_max_km",
    "urgent_reason",
    "application_number",
    "workplaces",
    "needs",
}

events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("entity", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)


def _scrubbed(payload: dict | None) -> dict | None:  # type: ignore[type-arg]
    if not payload:
        return payload
    return {key: value for key, value in payload.items() if key not in PRIVATE}


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(events.c.id, events.c.before, events.c.after).where(
            events.c.entity == "household"
        )
    ).all()
    for row_id, before, after in rows:
        clean_before, clean_after = _scrubbed(before), _scrubbed(after)
        if (clean_before, clean_after) != (before, after):
            connection.execute(
                sa.update(events)
                .where(events.c.id == row_id)
                .values(before=clean_before, after=clean_after)
            )


def downgrade() -> None:
    pass
