"""index the sign-ins' end: each worker re-reads the recently ended ones once a second

Revision ID: authrv01a
Revises: ckref01a
Create Date: 2026-12-07 04:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'authrv01a'
down_revision = 'ckref01a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_revoked_at'), ['revoked_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_revoked_at'))
