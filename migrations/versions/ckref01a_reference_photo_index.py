"""index the check-in recipients' reference photos (every check-in looks its photo up there)

Revision ID: ckref01a
Revises: pcat01a
Create Date: 2026-12-07 02:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'ckref01a'
down_revision = 'pcat01a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checkin_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_recipient_reference_photo_sha256'),
                              ['reference_photo_sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('checkin_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_recipient_reference_photo_sha256'))
