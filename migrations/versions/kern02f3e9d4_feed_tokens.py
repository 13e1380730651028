"""feed tokens: service tokens other departments read the decisions feed with

Revision ID: kern02f3e9d4
Revises: kern01a0b7c1
Create Date: 2026-12-06 12:58:52.308589

"""
from alembic import op
import sqlalchemy as sa

import backend.dbtypes


# revision identifiers, used by Alembic.
revision = 'kern02f3e9d4'
down_revision = 'kern01a0b7c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feed_token',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('feed', sa.String(length=32), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=12), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_feed_token_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'], name=op.f('fk_feed_token_jurisdiction_code_jurisdiction')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_feed_token_revoked_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_token'))
    )
    with op.batch_alter_table('feed_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_token_jurisdiction_code'), ['jurisdiction_code'], unique=False)



def downgrade():
    with op.batch_alter_table('feed_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_token_jurisdiction_code'))

    op.drop_table('feed_token')
