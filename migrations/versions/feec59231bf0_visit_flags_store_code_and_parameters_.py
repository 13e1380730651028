"""visit flags store code and parameters, not prose

The zh/en words of a flag are rendered on read from the catalogue in
backend/visits/flags.py; the rows keep the code, severity and parameters (``data``).

Revision ID: feec59231bf0
Revises: 2642acaa0edc
Create Date: 2026-11-26 01:24:25.221441

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'feec59231bf0'
down_revision = '2642acaa0edc'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visit_flag', schema=None) as batch_op:
        batch_op.drop_column('detail_en')
        batch_op.drop_column('detail_zh')


def downgrade():
    # The prose is not restored: older code reads the columns but never needs old rows' words.
    with op.batch_alter_table('visit_flag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail_zh', sa.VARCHAR(length=300), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('detail_en', sa.VARCHAR(length=300), nullable=False,
                                      server_default=''))
