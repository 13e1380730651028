"""household dossier: one printable file per household, built as a job

Revision ID: c24a01d0551e
Revises: c19a01d5e7f2
Create Date: 2026-12-06 16:00:00

"""
from alembic import op
import sqlalchemy as sa

import backend.dbtypes


# revision identifiers, used by Alembic.
revision = 'c24a01d0551e'
down_revision = 'c19a01d5e7f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('household_dossier',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=12), nullable=False),
    sa.Column('requested_by_id', sa.String(length=36), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=40), nullable=True),
    sa.Column('requested_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('byte_size', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_household_dossier_household_id_household')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_household_dossier_requested_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_dossier'))
    )
    with op.batch_alter_table('household_dossier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_dossier_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_dossier_requested_by_id'), ['requested_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('household_dossier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_dossier_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_household_dossier_household_id'))

    op.drop_table('household_dossier')
