"""household territory: the département whose service follows the household, for rounds
scoped to a territory; households already stored have none until a coordinator gives it

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('households') as batch:
        batch.add_column(sa.Column('territory', sa.String(length=3), nullable=True))
    op.create_index(
        'ix_households_territory_status', 'households', ['territory', 'status'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_households_territory_status', table_name='households')
    with op.batch_alter_table('households') as batch:
        batch.drop_column('territory')
