"""seal ID numbers, phone numbers and bank accounts at rest; blind indexes (ADR 0020)

Revision ID: pcrypt01a
Revises: xls01a7e2c4b
Create Date: 2026-12-06 16:20:00

The data part seals every existing value with the app's current data key (the app that
runs `flask db upgrade` has its keys, or it does not start), fills the blind indexes, and
renames recipients' accounts from ``recipient-<phone>`` to ``recipient-<blind index>``.
Audit rows written before keep what they said: the audit chain is not rewritten.
"""
from alembic import op
import sqlalchemy as sa


revision = 'pcrypt01a'
down_revision = 'xls01a7e2c4b'
branch_labels = None
depends_on = None

BATCH = 500
# (table, primary key columns, column): every value sealed by this revision. The column's
# name is the purpose (the AES-GCM associated data) the models use.
SEALED = (
    ("household_member", ("id",), "id_number"),
    ("household_member", ("id",), "phone"),
    ("user_account", ("id",), "phone"),
    ("checkin_recipient", ("id",), "phone"),
    ("case_workflow", ("case_id",), "bank_account"),
    ("visit_revision", ("submission_id", "revision"), "content"),
    ("outbox_events", ("id",), "payload"),
    ("webhook_delivery", ("id",), "body"),
)
SHORT = (("household_member", "id_number", 18), ("household_member", "phone", 11),
         ("user_account", "phone", 11), ("checkin_recipient", "phone", 11),
         ("case_workflow", "bank_account", 34))
DOCUMENTS = (("visit_revision", "content"), ("outbox_events", "payload"))


def _sqlite_foreign_keys(on):
    """SQLite rebuilds a table to change a column's type (batch mode); with foreign keys
    enforced, dropping the old user_account (or outbox_events, checkin_recipient) fails
    while rows refer to it. The pragma works only between transactions: end the one the
    migration runs in, switch, and begin again (SQLite's own recipe for table rebuilds,
    "Making Other Kinds Of Table Schema Changes"), checking the keys before turning them
    back on."""
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    if on:
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
    conn.exec_driver_sql("COMMIT")
    conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _keyring():
    from backend.encryption.columns import active_keyring

    return active_keyring()


def _rows(conn, table_name, keys, column):
    """Every (key values, value) of a column, by key order, BATCH at a time."""
    table = sa.table(table_name, *(sa.column(k) for k in keys), sa.column(column, sa.Text))
    key_columns = [table.c[k] for k in keys]
    last = None
    while True:
        query = (sa.select(*key_columns, table.c[column]).where(table.c[column].is_not(None))
                 .order_by(*key_columns).limit(BATCH))
        if last is not None:
            query = query.where(sa.tuple_(*key_columns) > sa.tuple_(*last))
        rows = conn.execute(query).all()
        if not rows:
            return
        yield table, key_columns, rows
        last = tuple(rows[-1][:len(keys)])


def _convert(conn, change):
    """Apply ``change(purpose, value) -> value or None`` to every listed value."""
    for table_name, keys, column in SEALED:
        purpose = f"{table_name}.{column}"
        for table, key_columns, rows in _rows(conn, table_name, keys, column):
            for row in rows:
                new_value = change(purpose, row[-1])
                if new_value is not None:
                    conn.execute(sa.update(table).where(
                        *(key == row[i] for i, key in enumerate(key_columns)))
                        .values({column: new_value}))


def upgrade():
    from backend.encryption.keys import is_sealed
    from backend.encryption.startup import CHECK_PURPOSE, CHECK_TEXT, INDEX_ROW

    keyring = _keyring()
    _sqlite_foreign_keys(False)
    op.create_table('data_key_check',
    sa.Column('name', sa.String(length=24), nullable=False),
    sa.Column('value', sa.String(length=160), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_data_key_check'))
    )
    for table_name, column, length in SHORT:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=length),
                                  type_=sa.String(length=160))
    for table_name, column in DOCUMENTS:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.JSON(), type_=sa.Text(),
                                  existing_nullable=False,
                                  postgresql_using=f"{column}::text")
    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_number_index', sa.String(length=32), nullable=True))
        batch_op.drop_index(batch_op.f('ix_household_member_id_number'))
        batch_op.create_index(batch_op.f('ix_household_member_id_number_index'),
                              ['id_number_index'], unique=False)
    with op.batch_alter_table('checkin_recipient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_index', sa.String(length=32), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_checkin_recipient_phone'), type_='unique')

    conn = op.get_bind()
    # Blind indexes and recipients' account names first, from the plain values.
    member = sa.table('household_member', sa.column('id'), sa.column('id_number'),
                      sa.column('id_number_index'))
    for _table, _keys, rows in _rows(conn, 'household_member', ('id',), 'id_number'):
        for row in rows:
            if not is_sealed(row.id_number):
                conn.execute(sa.update(member).where(member.c.id == row.id).values(
                    id_number_index=keyring.blind_index("household_member.id_number",
                                                        row.id_number)))
    recipient = sa.table('checkin_recipient', sa.column('id'), sa.column('user_id'),
                         sa.column('phone'), sa.column('phone_index'))
    account = sa.table('user_account', sa.column('id'), sa.column('username'))
    for row in conn.execute(sa.select(recipient.c.id, recipient.c.user_id,
                                      recipient.c.phone)).all():
        index = keyring.blind_index("checkin_recipient.phone", row.phone)
        conn.execute(sa.update(recipient).where(recipient.c.id == row.id)
                     .values(phone_index=index))
        conn.execute(sa.update(account).where(account.c.id == row.user_id)
                     .values(username=f"recipient-{index}"))
    _convert(conn, lambda purpose, value: None if is_sealed(value)
             else keyring.seal(purpose, value))
    with op.batch_alter_table('checkin_recipient', schema=None) as batch_op:
        batch_op.alter_column('phone_index', existing_type=sa.String(length=32),
                              nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_checkin_recipient_phone_index'),
                                          ['phone_index'])
    check = sa.table('data_key_check', sa.column('name'), sa.column('value'))
    conn.execute(sa.insert(check), [
        {"name": INDEX_ROW, "value": keyring.blind_index(CHECK_PURPOSE, CHECK_TEXT)},
        {"name": f"data:{keyring.current_id}",
         "value": keyring.seal(CHECK_PURPOSE, CHECK_TEXT)}])
    _sqlite_foreign_keys(True)


def downgrade():
    from backend.encryption.keys import is_sealed

    keyring = _keyring()
    _sqlite_foreign_keys(False)
    conn = op.get_bind()
    _convert(conn, lambda purpose, value: keyring.open(purpose, value)
             if is_sealed(value) else None)
    recipient = sa.table('checkin_recipient', sa.column('user_id'), sa.column('phone'))
    account = sa.table('user_account', sa.column('id'), sa.column('username'))
    for row in conn.execute(sa.select(recipient.c.user_id, recipient.c.phone)).all():
        conn.execute(sa.update(account).where(account.c.id == row.user_id)
                     .values(username=f"recipient-{row.phone}"))
    with op.batch_alter_table('checkin_recipient', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_checkin_recipient_phone_index'),
                                 type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_checkin_recipient_phone'), ['phone'])
        batch_op.drop_column('phone_index')
    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_member_id_number_index'))
        batch_op.create_index(batch_op.f('ix_household_member_id_number'), ['id_number'],
                              unique=False)
        batch_op.drop_column('id_number_index')
    for table_name, column in DOCUMENTS:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.JSON(),
                                  existing_nullable=False,
                                  postgresql_using=f"{column}::json")
    for table_name, column, length in SHORT:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=160),
                                  type_=sa.String(length=length))
    op.drop_table('data_key_check')
    _sqlite_foreign_keys(True)
