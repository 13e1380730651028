"""periodic review: one row per review case (one open per recipient case), review tier

Revision ID: 28ceecca2324
Revises: 496e8183f983
Create Date: 2026-12-02 15:30:10.938098

"""
from alembic import op
import sqlalchemy as sa

import backend.dbtypes


# revision identifiers, used by Alembic.
revision = '28ceecca2324'
down_revision = '496e8183f983'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('periodic_review',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('subject_case_id', sa.String(length=36), nullable=False),
    sa.Column('open_subject_case_id', sa.String(length=36), nullable=True),
    sa.Column('jurisdiction_code', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('trigger_ids', sa.JSON(), nullable=False),
    sa.Column('opened_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=24), nullable=True),
    sa.Column('findings', sa.String(length=2000), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('previous_amount_yuan', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('new_amount_yuan', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('completed_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['assistance_case.id'], name=op.f('fk_periodic_review_case_id_assistance_case')),
    sa.ForeignKeyConstraint(['subject_case_id'], ['assistance_case.id'], name=op.f('fk_periodic_review_subject_case_id_assistance_case')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_periodic_review')),
    sa.UniqueConstraint('open_subject_case_id', name=op.f('uq_periodic_review_open_subject_case_id'))
    )
    with op.batch_alter_table('periodic_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_periodic_review_jurisdiction_code'), ['jurisdiction_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_periodic_review_subject_case_id'), ['subject_case_id'], unique=False)

    with op.batch_alter_table('case_workflow', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_tier', sa.String(length=16), nullable=True))



def downgrade():
    with op.batch_alter_table('case_workflow', schema=None) as batch_op:
        batch_op.drop_column('review_tier')

    with op.batch_alter_table('periodic_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_periodic_review_subject_case_id'))
        batch_op.drop_index(batch_op.f('ix_periodic_review_jurisdiction_code'))

    op.drop_table('periodic_review')
