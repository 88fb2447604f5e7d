"""units by landlord: an index for a landlord's pages of units in id order

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 22:20:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_units_landlord_id_id', 'units', ['landlord_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_units_landlord_id_id', table_name='units')
