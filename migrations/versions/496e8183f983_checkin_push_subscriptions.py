"""checkin push subscriptions: browsers' Web Push subscriptions, one per (user, endpoint)

Revision ID: 496e8183f983
Revises: 4bd110eb3d52
Create Date: 2026-12-02 15:31:50.393604

"""
from alembic import op
import sqlalchemy as sa

import backend.dbtypes


# revision identifiers, used by Alembic.
revision = '496e8183f983'
down_revision = '4bd110eb3d52'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkin_push_subscription',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('endpoint', sa.String(length=1024), nullable=False),
    sa.Column('p256dh', sa.String(length=100), nullable=False),
    sa.Column('auth', sa.String(length=40), nullable=False),
    sa.Column('created_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_checkin_push_subscription_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_push_subscription'))
    )
    with op.batch_alter_table('checkin_push_subscription', schema=None) as batch_op:
        batch_op.create_index('ux_checkin_push_subscription', ['user_id', 'endpoint'], unique=True)



def downgrade():
    with op.batch_alter_table('checkin_push_subscription', schema=None) as batch_op:
        batch_op.drop_index('ux_checkin_push_subscription')

    op.drop_table('checkin_push_subscription')
