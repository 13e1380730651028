"""device keys: one active key per user and device, thumbprints, revocation, challenges

Revision ID: a32390ced9a6
Revises: 8c60eb22d30d
Create Date: 2026-11-26 01:23:54.815856

Existing keys get their RFC 7638 thumbprint. Where a user had several active keys on one
device (allowed before), the newest stays active and the others are revoked as
"replaced", so the partial unique index can be built.
"""
import base64
import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import backend.dbtypes

# revision identifiers, used by Alembic.
revision = 'a32390ced9a6'
down_revision = '8c60eb22d30d'
branch_labels = None
depends_on = None


def _thumbprint(jwk) -> str:
    if isinstance(jwk, str):
        jwk = json.loads(jwk)
    members = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).decode().rstrip("=")


def upgrade():
    op.create_table('device_key_challenge',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', backend.dbtypes.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_device_key_challenge_user_id_user_account')),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_device_key_challenge'))
    )
    with op.batch_alter_table('device_key_challenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_key_challenge_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_key_challenge_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('device_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thumbprint', sa.String(length=43), nullable=True))
        batch_op.add_column(sa.Column('revoked_by_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('revoked_reason', sa.String(length=32), nullable=True))

    keys = sa.table('device_key', sa.column('id', sa.String), sa.column('user_id', sa.String),
                    sa.column('device_id', sa.String), sa.column('public_key_jwk', sa.JSON),
                    sa.column('created_at', backend.dbtypes.UtcDateTime),
                    sa.column('revoked_at', backend.dbtypes.UtcDateTime),
                    sa.column('revoked_reason', sa.String), sa.column('thumbprint', sa.String))
    connection = op.get_bind()
    now = datetime.now(UTC)
    seen = set()
    rows = connection.execute(sa.select(keys.c.id, keys.c.user_id, keys.c.device_id,
                                        keys.c.public_key_jwk, keys.c.revoked_at)
                              .order_by(keys.c.created_at.desc(), keys.c.id)).all()
    for key_id, user_id, device_id, jwk, revoked_at in rows:
        changes = {"thumbprint": _thumbprint(jwk)}
        if revoked_at is None:
            if (user_id, device_id) in seen:
                changes.update(revoked_at=now, revoked_reason="replaced")
            seen.add((user_id, device_id))
        connection.execute(keys.update().where(keys.c.id == key_id).values(**changes))

    with op.batch_alter_table('device_key', schema=None) as batch_op:
        batch_op.alter_column('thumbprint', existing_type=sa.String(length=43), nullable=False)
        batch_op.create_index(batch_op.f('ix_device_key_thumbprint'), ['thumbprint'], unique=False)
        batch_op.create_index('ux_device_key_active_user_device', ['user_id', 'device_id'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_device_key_revoked_by_id_user_account'), 'user_account', ['revoked_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('device_key', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_device_key_revoked_by_id_user_account'), type_='foreignkey')
        batch_op.drop_index('ux_device_key_active_user_device', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_device_key_thumbprint'))
        batch_op.drop_column('revoked_reason')
        batch_op.drop_column('revoked_by_id')
        batch_op.drop_column('thumbprint')

    with op.batch_alter_table('device_key_challenge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_key_challenge_user_id'))
        batch_op.drop_index(batch_op.f('ix_device_key_challenge_expires_at'))

    op.drop_table('device_key_challenge')
