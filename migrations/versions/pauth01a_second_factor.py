"""second factor: TOTP secrets, recovery codes, the enrolment due date

Revision ID: pauth01a
Revises: pcrypt01a
Create Date: 2026-12-06 16:00:00

"""
from alembic import op
import sqlalchemy as sa

import backend.dbtypes


revision = 'pauth01a'
down_revision = 'pcrypt01a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_second_factor',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('secret', sa.String(length=160), nullable=False),  # sealed (ADR 0020)
    sa.Column('created_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_used_step', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('user_recovery_code',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('code_hash', sa.String(length=200), nullable=False),
    sa.Column('created_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('user_recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_recovery_code_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_factor_due_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('second_factor_due_at')
    with op.batch_alter_table('user_recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_recovery_code_user_id'))
    op.drop_table('user_recovery_code')
    op.drop_table('user_second_factor')
