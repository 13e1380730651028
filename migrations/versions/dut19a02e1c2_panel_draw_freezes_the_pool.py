"""the panel draw freezes the pool (issue 19)

The draw keeps the pool it drew from (members with names and roles) and its SHA-256, who
drew and when, so a stored draw stays verifiable after the pool is replaced.

Revision ID: dut19a02e1c2
Revises: dut19a01d0b1
Create Date: 2026-12-06 13:20:00

"""
import sqlalchemy as sa
from alembic import op

import backend.dbtypes


# revision identifiers, used by Alembic.
revision = 'dut19a02e1c2'
down_revision = 'dut19a01d0b1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_workflow', schema=None) as batch_op:
        batch_op.add_column(sa.Column('panel_pool', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('panel_pool_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('panel_drawn_at',
                                      backend.dbtypes.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('panel_drawn_by_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_case_workflow_panel_drawn_by_id_user_account'),
                                    'user_account', ['panel_drawn_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('case_workflow', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_case_workflow_panel_drawn_by_id_user_account'),
                                 type_='foreignkey')
        batch_op.drop_column('panel_drawn_by_id')
        batch_op.drop_column('panel_drawn_at')
        batch_op.drop_column('panel_pool_sha256')
        batch_op.drop_column('panel_pool')
