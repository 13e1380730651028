"""complaints and reports (举报): complaint, complaint_verification

Revision ID: c19a01d5e7f2
Revises: pret01a
Create Date: 2026-12-06 16:30:00

"""
from alembic import op
import sqlalchemy as sa

import backend.dbtypes


# revision identifiers, used by Alembic.
revision = 'c19a01d5e7f2'
down_revision = 'pret01a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaint',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=12), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('about', sa.String(length=100), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('is_anonymous', sa.Boolean(), nullable=False),
    sa.Column('reporter_name', sa.Text(), nullable=True),  # sealed (ADR 0020)
    sa.Column('reporter_contact', sa.Text(), nullable=True),
    sa.Column('reply_channel', sa.String(length=16), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=True),
    sa.Column('household_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('handler_id', sa.String(length=36), nullable=True),
    sa.Column('received_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('received_by_id', sa.String(length=36), nullable=True),
    sa.Column('assign_due_on', sa.Date(), nullable=False),
    sa.Column('verify_due_on', sa.Date(), nullable=False),
    sa.Column('reply_due_on', sa.Date(), nullable=False),
    sa.Column('assigned_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('is_substantiated', sa.Boolean(), nullable=True),
    sa.Column('finding', sa.String(length=1000), nullable=True),
    sa.Column('found_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('consequence', sa.String(length=24), nullable=True),
    sa.Column('consequence_case_id', sa.String(length=36), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['assistance_case.id'], name=op.f('fk_complaint_case_id_assistance_case')),
    sa.ForeignKeyConstraint(['consequence_case_id'], ['assistance_case.id'], name=op.f('fk_complaint_consequence_case_id_assistance_case')),
    sa.ForeignKeyConstraint(['handler_id'], ['user_account.id'], name=op.f('fk_complaint_handler_id_user_account')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_complaint_household_id_household')),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'], name=op.f('fk_complaint_jurisdiction_code_jurisdiction')),
    sa.ForeignKeyConstraint(['received_by_id'], ['user_account.id'], name=op.f('fk_complaint_received_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
    sa.UniqueConstraint('number', name=op.f('uq_complaint_number'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_handler_id'), ['handler_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_jurisdiction_code'), ['jurisdiction_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_status'), ['status'], unique=False)

    op.create_table('complaint_verification',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('complaint_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=24), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('visit_id', sa.String(length=36), nullable=True),
    sa.Column('recorded_by_id', sa.String(length=36), nullable=False),
    sa.Column('recorded_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_verification_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_complaint_verification_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_verification'))
    )
    with op.batch_alter_table('complaint_verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_verification_complaint_id'), ['complaint_id'], unique=False)


def downgrade():
    with op.batch_alter_table('complaint_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_verification_complaint_id'))

    op.drop_table('complaint_verification')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_status'))
        batch_op.drop_index(batch_op.f('ix_complaint_received_at'))
        batch_op.drop_index(batch_op.f('ix_complaint_jurisdiction_code'))
        batch_op.drop_index(batch_op.f('ix_complaint_household_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_handler_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_case_id'))

    op.drop_table('complaint')
