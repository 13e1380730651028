"""case duty history (separation of duties on every path, issue 19)

Each duty taken on a case (intake, preliminary review, approval, supervision) becomes a
row: who, which duty, when, through which path. Existing cases get their history from the
columns that held the latest of each duty (``backfill:<column>`` paths), so the rule reads
what is known of them too.

Revision ID: dut19a01d0b1
Revises: words01a
Create Date: 2026-12-06 13:00:00

"""
import sqlalchemy as sa
from alembic import op

import backend.dbtypes


# revision identifiers, used by Alembic.
revision = 'dut19a01d0b1'
down_revision = 'words01a'
branch_labels = None
depends_on = None

# (duty, table, case id column, user column, time column, extra condition)
_BACKFILL = (
    ("intake", "assistance_case", "id", "intake_by_id", "created_at", None),
    ("intake", "case_workflow", "case_id", "pledge_by_id", "pledge_at", None),
    ("intake", "case_workflow", "case_id", "authorization_by_id", "authorization_at", None),
    ("preliminary_review", "case_workflow", "case_id", "preliminary_review_by_id",
     "preliminary_review_at", None),
    ("preliminary_review", "visit_review", "case_id", "decided_by_id", "updated_at",
     "state IN ('approved', 'rejected')"),
    ("approval", "case_workflow", "case_id", "decided_by_id", "decided_at", None),
    ("approval", "case_workflow", "case_id", "stopped_by_id", "stopped_at", None),
    ("supervision", "spot_check", "case_id", "checked_by_id", "checked_at", None),
)


def upgrade():
    op.create_table(
        'case_duty',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('jurisdiction_code', sa.String(length=12), nullable=False),
        sa.Column('duty', sa.String(length=24), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('path', sa.String(length=64), nullable=False),
        sa.Column('roles', sa.JSON(), nullable=False),
        sa.Column('at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['assistance_case.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
        sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_duty', schema=None) as batch_op:
        batch_op.create_index('ix_case_duty_case_user', ['case_id', 'user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_duty_user_id'), ['user_id'], unique=False)

    bind = op.get_bind()
    duty_table = sa.table(
        'case_duty', sa.column('case_id', sa.String),
        sa.column('jurisdiction_code', sa.String), sa.column('duty', sa.String),
        sa.column('user_id', sa.String), sa.column('path', sa.String),
        sa.column('roles', sa.JSON), sa.column('at', backend.dbtypes.UtcDateTime()))
    rows = []
    for duty, table, case_column, user_column, at_column, condition in _BACKFILL:
        where = f"t.{user_column} IS NOT NULL"
        if condition:
            where += f" AND t.{condition}"
        found = bind.execute(sa.text(
            f"SELECT t.{case_column} AS case_id, c.jurisdiction_code AS code, "
            f"t.{user_column} AS user_id, COALESCE(t.{at_column}, c.created_at) AS at "
            f"FROM {table} t JOIN assistance_case c ON c.id = t.{case_column} WHERE {where}"
        ).columns(sa.column('case_id', sa.String), sa.column('code', sa.String),
                  sa.column('user_id', sa.String),
                  sa.column('at', backend.dbtypes.UtcDateTime()))).all()
        for case_id, code, user_id, at in found:
            rows.append({"case_id": case_id,
                         "jurisdiction_code": code, "duty": duty, "user_id": user_id,
                         "path": f"backfill:{table}.{user_column}", "roles": [], "at": at})
    rows.sort(key=lambda row: row["at"])  # the history's order is the ids' order
    if rows:
        op.bulk_insert(duty_table, rows)


def downgrade():
    with op.batch_alter_table('case_duty', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_duty_user_id'))
        batch_op.drop_index('ix_case_duty_case_user')

    op.drop_table('case_duty')
