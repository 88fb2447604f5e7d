"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 20:11:24.755129
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('adults', sa.Integer(), nullable=False),
    sa.Column('couple', sa.Boolean(), nullable=False),
    sa.Column('children_ages', sa.JSON(), nullable=False),
    sa.Column('monthly_resources_eur', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('housing_benefit_eur', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('needs_wheelchair', sa.Boolean(), nullable=False),
    sa.Column('needs_reduced_mobility', sa.Boolean(), nullable=False),
    sa.Column('care_site_label', sa.String(length=200), nullable=True),
    sa.Column('care_site_lat', sa.Float(), nullable=True),
    sa.Column('care_site_lon', sa.Float(), nullable=True),
    sa.Column('care_site_max_km', sa.Float(), nullable=True),
    sa.Column('preferred_communes', sa.JSON(), nullable=False),
    sa.Column('excluded_communes', sa.JSON(), nullable=False),
    sa.Column('accepted_lease_kinds', sa.JSON(), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('urgent_reason', sa.String(length=300), nullable=True),
    sa.Column('urgent_deadline', sa.Date(), nullable=True),
    sa.Column('application_number', sa.String(length=32), nullable=True),
    sa.Column('consent_to_share', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'proposed', 'housed', 'withdrawn', name='household_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('(care_site_lat IS NULL) = (care_site_lon IS NULL)', name=op.f('ck_households_care_site_both_coords')),
    sa.CheckConstraint('NOT couple OR adults >= 2', name=op.f('ck_households_couple_needs_two_adults')),
    sa.CheckConstraint('NOT urgent OR urgent_reason IS NOT NULL', name=op.f('ck_households_urgent_has_reason')),
    sa.CheckConstraint('adults >= 1', name=op.f('ck_households_adults_at_least_one')),
    sa.CheckConstraint('care_site_max_km IS NULL OR care_site_max_km > 0', name=op.f('ck_households_care_km')),
    sa.CheckConstraint('housing_benefit_eur >= 0', name=op.f('ck_households_benefit_not_negative')),
    sa.CheckConstraint('monthly_resources_eur >= 0', name=op.f('ck_households_resources_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('reference', name=op.f('uq_households_reference'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index('ix_households_status', ['status'], unique=False)

    op.create_table('landlords',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('siren', sa.String(length=9), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_landlords')),
    sa.UniqueConstraint('name', name=op.f('uq_landlords_name'))
    )
    op.create_table('match_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'solved', 'published', 'failed', name='round_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('statistics', sa.JSON(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_rounds'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=128), nullable=False),
    sa.Column('role', sa.Enum('landlord', 'coordinator', 'admin', name='api_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('landlord_id', sa.Integer(), nullable=True),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(role = 'landlord') = (landlord_id IS NOT NULL)", name=op.f('ck_api_keys_landlord_key_has_landlord')),
    sa.ForeignKeyConstraint(['landlord_id'], ['landlords.id'], name=op.f('fk_api_keys_landlord_id_landlords')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('landlord_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('commune', sa.String(length=100), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('rooms', sa.Integer(), nullable=False),
    sa.Column('surface_m2', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=False),
    sa.Column('elevator', sa.Boolean(), nullable=False),
    sa.Column('wheelchair_accessible', sa.Boolean(), nullable=False),
    sa.Column('rent_eur', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('charges_eur', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('available_from', sa.Date(), nullable=False),
    sa.Column('building_id', sa.String(length=64), nullable=True),
    sa.Column('in_priority_neighbourhood', sa.Boolean(), nullable=False),
    sa.Column('lease_kind', sa.Enum('direct', 'sliding', 'intermediation', name='lease_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('vacant', 'proposed', 'let', 'withdrawn', name='unit_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('charges_eur >= 0', name=op.f('ck_units_charges_not_negative')),
    sa.CheckConstraint('floor >= -1', name=op.f('ck_units_floor_at_least_minus_one')),
    sa.CheckConstraint('lat BETWEEN -90 AND 90', name=op.f('ck_units_lat_range')),
    sa.CheckConstraint('lon BETWEEN -180 AND 180', name=op.f('ck_units_lon_range')),
    sa.CheckConstraint('rent_eur >= 0', name=op.f('ck_units_rent_not_negative')),
    sa.CheckConstraint('rooms >= 1', name=op.f('ck_units_rooms_at_least_one')),
    sa.CheckConstraint('surface_m2 > 0', name=op.f('ck_units_surface_positive')),
    sa.ForeignKeyConstraint(['landlord_id'], ['landlords.id'], name=op.f('fk_units_landlord_id_landlords'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('landlord_id', 'reference', name=op.f('uq_units_landlord_id_reference'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index('ix_units_status_commune', ['status', 'commune'], unique=False)

    op.create_table('workplaces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('commune', sa.String(length=100), nullable=True),
    sa.Column('postcode', sa.String(length=10), nullable=True),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.CheckConstraint('lat BETWEEN -90 AND 90', name=op.f('ck_workplaces_lat_range')),
    sa.CheckConstraint('lon BETWEEN -180 AND 180', name=op.f('ck_workplaces_lon_range')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_workplaces_household_id_households'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workplaces'))
    )
    op.create_table('exclusions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_exclusions_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_exclusions_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exclusions')),
    sa.UniqueConstraint('household_id', 'unit_id', name=op.f('uq_exclusions_household_id_unit_id'))
    )
    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('score_breakdown', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'accepted', 'refused', 'approved', 'rejected', 'signed', 'expired', name='proposal_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=True),
    sa.Column('reason_text', sa.Text(), nullable=True),
    sa.Column('respond_by', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('rank >= 1', name=op.f('ck_proposals_rank_at_least_one')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_proposals_household_id_households'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['match_rounds.id'], name=op.f('fk_proposals_round_id_match_rounds'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_proposals_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals')),
    sa.UniqueConstraint('round_id', 'household_id', 'unit_id', name=op.f('uq_proposals_round_id_household_id_unit_id'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index('ix_proposals_unit_status', ['unit_id', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_proposals_unit_status')

    op.drop_table('proposals')
    op.drop_table('exclusions')
    op.drop_table('workplaces')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index('ix_units_status_commune')

    op.drop_table('units')
    op.drop_table('api_keys')
    op.drop_table('match_rounds')
    op.drop_table('landlords')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index('ix_households_status')

    op.drop_table('households')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_entity')

    op.drop_table('audit_events')
