"""round workers, proposal answers, move-in checklists

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 21:08:30.240418
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('move_in_checklists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('meters_opened_on', sa.Date(), nullable=True),
    sa.Column('home_insurance_on', sa.Date(), nullable=True),
    sa.Column('housing_benefit_filed_on', sa.Date(), nullable=True),
    sa.Column('essential_furniture_on', sa.Date(), nullable=True),
    sa.Column('first_support_visit_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_move_in_checklists_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_move_in_checklists_proposal_id_proposals'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_move_in_checklists')),
    sa.UniqueConstraint('household_id', name=op.f('uq_move_in_checklists_household_id'))
    )
    with op.batch_alter_table('match_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('household_answer', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('commission_answer', sa.String(length=16), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('commission_answer')
        batch_op.drop_column('household_answer')

    with op.batch_alter_table('match_rounds', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('worker')

    op.drop_table('move_in_checklists')
