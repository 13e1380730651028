"""outbox: events written in the transaction of their change, and each subscriber's receipts

Revision ID: kern01a0b7c1
Revises: 28ceecca2324
Create Date: 2026-12-06 12:48:12.361908

"""
from alembic import op
import sqlalchemy as sa

import backend.dbtypes


# revision identifiers, used by Alembic.
revision = 'kern01a0b7c1'
down_revision = '28ceecca2324'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=48), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('aggregate_type', sa.String(length=32), nullable=False),
    sa.Column('aggregate_id', sa.String(length=36), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=12), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('occurred_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('relayed_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events')),
    sa.UniqueConstraint('sequence', name=op.f('uq_outbox_events_sequence'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_events_aggregate', ['aggregate_type', 'aggregate_id', 'sequence'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_events_relayed_at'), ['relayed_at'], unique=False)
        batch_op.create_index('ix_outbox_events_type_sequence', ['type', 'sequence'], unique=False)

    op.create_table('outbox_receipts',
    sa.Column('subscriber', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('handled_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_events.id'], name=op.f('fk_outbox_receipts_event_id_outbox_events')),
    sa.PrimaryKeyConstraint('subscriber', 'event_id', name=op.f('pk_outbox_receipts'))
    )


def downgrade():
    op.drop_table('outbox_receipts')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_events_type_sequence')
        batch_op.drop_index(batch_op.f('ix_outbox_events_relayed_at'))
        batch_op.drop_index('ix_outbox_events_aggregate')

    op.drop_table('outbox_events')
