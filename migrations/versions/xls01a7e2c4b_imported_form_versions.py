"""form versions imported from XLSForm (shipped versions stay files)

Revision ID: xls01a7e2c4b
Revises: dut19a02e1c2
Create Date: 2026-12-06 14:00:00

"""
from alembic import op
import sqlalchemy as sa

import backend.dbtypes


revision = 'xls01a7e2c4b'
down_revision = 'dut19a02e1c2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_version',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('form_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('definition_sha256', sa.String(length=64), nullable=False),
    sa.Column('source_filename', sa.String(length=200), nullable=True),
    sa.Column('imported_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('imported_by_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('form_id', 'version', name='uq_form_version_form_id')
    )


def downgrade():
    op.drop_table('form_version')
