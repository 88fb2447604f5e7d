"""round snapshot apart: the ids and versions a round read move out of its result, so the
result is the public document and can be served from the database as it is stored

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROUNDS = sa.table(
    'match_rounds',
    sa.column('id', sa.Integer),
    sa.column('result', sa.JSON),
    sa.column('snapshot', sa.JSON),
)


def _move(into_result: bool) -> None:
    """One round at a time: results are megabytes each."""
    bind = op.get_bind()
    for round_id in bind.execute(sa.select(ROUNDS.c.id).order_by(ROUNDS.c.id)).scalars().all():
        result, snapshot = bind.execute(
            sa.select(ROUNDS.c.result, ROUNDS.c.snapshot).where(ROUNDS.c.id == round_id)
        ).one()
        if not isinstance(result, dict):
            continue
        if into_result and isinstance(snapshot, dict):
            values = {'result': result | {'snapshot': snapshot}, 'snapshot': None}
        elif not into_result and 'snapshot' in result:
            values = {'snapshot': result.pop('snapshot'), 'result': result}
        else:
            continue
        bind.execute(sa.update(ROUNDS).where(ROUNDS.c.id == round_id).values(**values))


def upgrade() -> None:
    with op.batch_alter_table('match_rounds') as batch:
        batch.add_column(sa.Column('snapshot', sa.JSON(), nullable=True))
    _move(into_result=False)


def downgrade() -> None:
    _move(into_result=True)
    with op.batch_alter_table('match_rounds') as batch:
        batch.drop_column('snapshot')
