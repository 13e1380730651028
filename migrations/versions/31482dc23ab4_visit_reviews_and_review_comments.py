"""visit reviews and review comments

Revision ID: 31482dc23ab4
Revises: a32390ced9a6
Create Date: 2026-11-26 02:48:55.883875

The review state of each home visit (issue 10) and the reviewers' comments. The queue reads
visit_review in the order of ix_visit_review_queue (risk_rank = -risk, then age), or of
ix_visit_review_state_queue when filtered by state, so its first page and keyset pages stay
an index range scan at 100,000 visits.
"""
import sqlalchemy as sa
from alembic import op

import backend.dbtypes


# revision identifiers, used by Alembic.
revision = '31482dc23ab4'
down_revision = 'a32390ced9a6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review_comment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('submission_id', sa.String(length=36), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_review_comment_author_id_user_account')),
    sa.ForeignKeyConstraint(['submission_id'], ['visit_submission.id'], name=op.f('fk_review_comment_submission_id_visit_submission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_comment'))
    )
    with op.batch_alter_table('review_comment', schema=None) as batch_op:
        batch_op.create_index('ix_review_comment_submission', ['submission_id', 'revision'], unique=False)

    op.create_table('visit_review',
    sa.Column('submission_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=12), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('risk', sa.Integer(), nullable=False),
    sa.Column('risk_rank', sa.Integer(), nullable=False),
    sa.Column('flag_codes', sa.String(length=1000), nullable=False),
    sa.Column('team_ids', sa.String(length=400), nullable=False),
    sa.Column('received_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.String(length=36), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['visit_submission.id'], name=op.f('fk_visit_review_submission_id_visit_submission')),
    sa.PrimaryKeyConstraint('submission_id', name=op.f('pk_visit_review'))
    )
    with op.batch_alter_table('visit_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_review_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_review_jurisdiction_code'), ['jurisdiction_code'], unique=False)
        batch_op.create_index('ix_visit_review_queue', ['risk_rank', 'received_at', 'submission_id'], unique=False)
        batch_op.create_index('ix_visit_review_state_queue', ['state', 'risk_rank', 'received_at', 'submission_id'], unique=False)



def downgrade():
    with op.batch_alter_table('visit_review', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_review_state_queue')
        batch_op.drop_index('ix_visit_review_queue')
        batch_op.drop_index(batch_op.f('ix_visit_review_jurisdiction_code'))
        batch_op.drop_index(batch_op.f('ix_visit_review_case_id'))

    op.drop_table('visit_review')
    with op.batch_alter_table('review_comment', schema=None) as batch_op:
        batch_op.drop_index('ix_review_comment_submission')

    op.drop_table('review_comment')
