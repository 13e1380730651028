"""auth sessions: the refresh token last used up and when the current pair was issued (a
short grace in which the used-up token answers with that same pair)

Revision ID: hard01a5e55a
Revises: kern02f3e9d4
Create Date: 2026-12-06 13:00:00

"""
from alembic import op
import sqlalchemy as sa

import backend.dbtypes


# revision identifiers, used by Alembic.
revision = 'hard01a5e55a'
down_revision = 'kern02f3e9d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_refresh_token_id', sa.String(length=36),
                                      nullable=True))
        batch_op.add_column(sa.Column('tokens_issued_at',
                                      backend.dbtypes.UtcDateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_column('tokens_issued_at')
        batch_op.drop_column('previous_refresh_token_id')
