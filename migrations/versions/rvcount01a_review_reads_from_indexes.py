"""the review queue's counts per state and the dashboard's last change of each case read an
index alone: both indexes carry the place

Revision ID: rvcount01a
Revises: authrv01a
Create Date: 2026-12-08 00:30:00.000000

The queue's first page counts the caller's visits per state (GROUP BY state, within their
place). SQLite answered it by walking ix_visit_review_state_queue and reading every row of
the table for its jurisdiction_code: 140-170 ms at 100,000 visits (bench/bench_growth.py).
With the place as the index's last column the count reads the index alone (about 11 ms);
the queue's order by state, risk, time and id is the same as before. Likewise the
dashboard's last change of each case (GROUP BY case_id, max(updated_at), within a place)
read the table row of every visit through ix_visit_review_case_id: 190 ms at 100,000
visits, 45 ms from ix_visit_review_case_touched (case_id, updated_at, place), which also
serves every lookup of a case's reviews in its place.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'rvcount01a'
down_revision = 'authrv01a'
branch_labels = None
depends_on = None

_BEFORE = ['state', 'risk_rank', 'received_at', 'submission_id']


def upgrade():
    with op.batch_alter_table('visit_review', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_review_state_queue')
        batch_op.create_index('ix_visit_review_state_queue',
                              [*_BEFORE, 'jurisdiction_code'], unique=False)
        batch_op.drop_index('ix_visit_review_case_id')
        batch_op.create_index('ix_visit_review_case_touched',
                              ['case_id', 'updated_at', 'jurisdiction_code'], unique=False)


def downgrade():
    with op.batch_alter_table('visit_review', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_review_case_touched')
        batch_op.create_index('ix_visit_review_case_id', ['case_id'], unique=False)
        batch_op.drop_index('ix_visit_review_state_queue')
        batch_op.create_index('ix_visit_review_state_queue', _BEFORE, unique=False)
