"""Encryption at rest (ADR 0020): after seeding, neither the SQLite file nor a PostgreSQL
table holds a full ID number, phone number or bank account; lookups by ID number still
work through the blind index; a data key rotates without stopping; the app refuses to
start without its keys or with the wrong ones."""

from __future__ import annotations

import base64
import glob
import os
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from backend.encryption.keys import KeyProblem, keyring_from, new_key_text

SCHEMA = "encryption_check"


@pytest.fixture
def fresh_database(tmp_path):
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path}/sealed.sqlite3"
        return
    from backend.config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3D{SCHEMA}"
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    engine.dispose()


def _plain_numbers(db) -> set[str]:
    """Every ID number, phone number and bank account, as the app reads them (opened)."""
    from backend.auth.models import User
    from backend.checkins.models import Recipient
    from backend.households.models import Member
    from backend.workflow.models import CaseWorkflow

    found = set()
    for member in db.session.scalars(select(Member)):
        found |= {member.id_number, member.phone}
    found |= set(db.session.scalars(select(User.phone)))
    found |= set(db.session.scalars(select(Recipient.phone)))
    found |= set(db.session.scalars(select(CaseWorkflow.bank_account)))
    found.discard(None)
    return found


def test_seeded_database_holds_no_full_number_in_plain_text(fresh_database, tmp_path):
    from flask_migrate import upgrade

    from backend import create_app
    from backend.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database, "TESTING": True,
                      "PASSWORD_HASH_PROFILE": "CHEAPEST", "PHOTO_DATA_DIR": str(tmp_path)})
    with app.app_context():
        upgrade()
    seeded = app.test_cli_runner().invoke(args=["seed-demo"])  # visits and recipients too
    assert seeded.exit_code == 0, seeded.output
    with app.app_context():
        numbers = _plain_numbers(db)
        kinds = {"id": [n for n in numbers if len(n) == 18],
                 "phone": [n for n in numbers if len(n) == 11],
                 "bank": [n for n in numbers if len(n) not in (11, 18)]}
        assert all(len(found) > 0 for found in kinds.values()), kinds  # the demo has each
        if db.engine.dialect.name == "postgresql":
            stored = []
            for table in inspect(db.engine).get_table_names():
                stored += db.session.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()
            raw = "\n".join(stored)
        db.session.remove()
        db.engine.dispose()  # SQLite: the WAL is checkpointed into the file
    if fresh_database.startswith("sqlite"):
        path = fresh_database.removeprefix("sqlite:///")
        raw = b"".join(Path(name).read_bytes() for name in glob.glob(path + "*")).decode(
            "utf-8", "replace")
    leaked = sorted(number for number in numbers if number in raw)
    assert leaked == []
    # Account names are not phone numbers either (recipient-<blind index>).
    assert re.search(r"recipient-1\d{10}(?![0-9a-f])", raw) is None


def test_a_household_is_found_by_a_full_id_number_through_the_blind_index(api, db_session):
    from backend.households.models import Household, Member

    member = db_session.scalars(select(Member).join(Household).where(
        Member.id_number_index.is_not(None),
        Household.jurisdiction_code.like("530621100%"))  # wenping_intake's township
        .order_by(Member.id)).first()
    raw = db_session.execute(text("SELECT id_number FROM household_member WHERE id = :id"),
                             {"id": member.id}).scalar()
    assert raw.startswith("v1.test1.") and member.id_number not in raw
    username = "wenping_intake"
    found = api.get(username, f"/api/households?q={member.id_number}").get_json()
    assert [h["id"] for h in found["items"]] == [member.household_id]
    lower = api.get(username, f"/api/households?q={member.id_number.lower()}").get_json()
    assert [h["id"] for h in lower["items"]] == [member.household_id]
    # A part of a number finds nothing: only whole numbers have an index.
    assert api.get(username, f"/api/households?q={member.id_number[:14]}").get_json()[
        "items"] == []
    with pytest.raises(TypeError, match="blind index"):
        select(Member).where(Member.id_number == member.id_number)  # would never match


def test_a_new_member_is_sealed_and_indexed_when_written(api, db_session):
    from backend.demo import resident_id
    from backend.encryption.columns import blind_index
    from backend.households.models import ID_NUMBER_PURPOSE, Member

    number = next(n for n in (resident_id("530621", date(1980, 1, 1), seq)
                              for seq in range(100, 200)) if n.endswith("X"))
    created = api.post("wenping_intake", "/api/households", json={
        "id": "5d3c2f9e-0c1a-4f6b-9e8d-7a6b5c4d3e2f", "jurisdiction_code": "530621100201",
        "address": "文屏镇砚池社区9组1号",
        "members": [{"name": "测试户主", "relation": "head", "id_number": number,
                     "phone": "13987654321"}]})
    assert created.status_code == 201, created.get_json()
    member = db_session.scalars(select(Member).where(
        Member.household_id == created.get_json()["id"])).one()
    assert member.id_number == number
    assert member.id_number_index == blind_index(ID_NUMBER_PURPOSE, number)
    stored = db_session.execute(text(
        "SELECT id_number, phone FROM household_member WHERE id = :id"), {"id": member.id}).one()
    assert number not in stored.id_number and "13987654321" not in stored.phone


def test_rotation_reseals_everything_in_batches_and_lets_the_old_key_go(app, db_session,
                                                                        monkeypatch):
    from backend.encryption.columns import EXTENSION, sealed_columns
    from backend.encryption.models import DataKeyCheck
    from backend.encryption.rotation import rotate
    from backend.encryption.startup import check_against_database
    from backend.extensions import db
    from backend.households.models import Member

    before = {m.id: (m.id_number, m.phone) for m in db_session.scalars(select(Member))}
    old = app.extensions[EXTENSION]
    index_key = base64.b64encode(old.index_secret).decode()
    old_text = "test1:" + base64.b64encode(old.secrets["test1"]).decode()
    rotated = keyring_from(new_key_text("test2"), old_text, index_key)
    monkeypatch.setitem(app.extensions, EXTENSION, rotated)
    check_against_database(rotated)  # what a restart with the new key does
    batches = []
    counts = rotate(batch_size=7, on_batch=lambda name, done: batches.append(name))
    assert counts["household_member.id_number"] == sum(1 for v in before.values() if v[0])
    assert batches.count("household_member.id_number") > 1  # in batches, not all at once
    for table, column in sealed_columns(db.metadata):
        values = db_session.execute(text(
            f"SELECT {column.name} FROM {table.name} WHERE {column.name} IS NOT NULL")).scalars()
        assert all(v.startswith("v1.test2.") for v in values), f"{table.name}.{column.name}"
    assert db_session.get(DataKeyCheck, "data:test1") is None
    # Without the old key now: everything opens, lookups still match (same index key).
    monkeypatch.setitem(app.extensions, EXTENSION,
                        keyring_from(rotated_text(rotated), None, index_key))
    db_session.expire_all()
    after = {m.id: (m.id_number, m.phone) for m in db_session.scalars(select(Member))}
    assert after == before
    check_against_database(app.extensions[EXTENSION])  # starts without the retired key


def rotated_text(keyring) -> str:
    return f"{keyring.current_id}:" + base64.b64encode(
        keyring.secrets[keyring.current_id]).decode()


def _start(app, **keys):
    from backend import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                       "TESTING": True, "PASSWORD_HASH_PROFILE": "CHEAPEST", **keys})


def test_a_started_app_keeps_no_connection_from_its_key_check(app):
    """A pooled connection of an app nobody disposes is garbage-collected open later, in
    whatever test runs then (a ResourceWarning on PostgreSQL failed CI that way)."""
    from backend.extensions import db

    started = _start(app)
    with started.app_context():
        pool = db.engine.pool
        assert (pool.checkedin(), pool.checkedout()) == (0, 0)


def test_the_app_does_not_start_without_its_keys(app):
    with pytest.raises(KeyProblem, match="DOORSTEP_DATA_KEY not set"):
        _start(app, DATA_KEY=None)
    with pytest.raises(KeyProblem, match="DOORSTEP_INDEX_KEY not set"):
        _start(app, DATA_INDEX_KEY="")


def test_the_app_does_not_start_with_the_wrong_keys(app):
    other = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(KeyProblem, match="'test1' is not the key this database was sealed"):
        _start(app, DATA_KEY=f"test1:{other}")
    with pytest.raises(KeyProblem, match="DOORSTEP_INDEX_KEY is not the key"):
        _start(app, DATA_INDEX_KEY=other)
    # A new key while the database still holds values sealed with test1: keep it retired.
    with pytest.raises(KeyProblem, match="sealed with data key 'test1', which is not"):
        _start(app, DATA_KEY=f"test2:{other}")


def test_nothing_is_written_without_a_keyring(app):
    from backend.encryption.columns import SealedString

    column_type = SealedString("household_member.phone")
    with pytest.raises(KeyProblem, match="no data keyring"):
        column_type.process_bind_param("13912345678", None)  # outside any app: refused


def test_the_upgrade_seals_existing_rows_and_indexes_them(fresh_database):
    """Rows written before pcrypt01a are sealed by it; the blind indexes are filled and the
    recipients' accounts renamed; the app then reads them as they were."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from backend import create_app
    from backend.config import sqlalchemy_url
    from backend.dbtypes import UtcDateTime
    from backend.extensions import db
    from tests.api.test_migrations import _place_and_home_tables, flask

    env = {**os.environ, "DATABASE_URL": fresh_database}
    before = flask("db", "upgrade", "xls01a7e2c4b", env=env)
    assert before.returncode == 0, before.stderr
    now = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    stamp = {"created_at": now, "updated_at": now}
    place, home = _place_and_home_tables()
    member = sa.table("household_member", *(sa.column(c) for c in (
        "id", "household_id", "position", "name", "relation", "id_number", "phone")))
    account = sa.table("user_account", *(sa.column(c) for c in (
        "id", "username", "display_name", "password_hash", "jurisdiction_code", "phone",
        "is_active", "failed_login_count")), sa.column("created_at", UtcDateTime))
    recipient = sa.table("checkin_recipient", *(sa.column(c) for c in (
        "id", "user_id", "household_id", "member_id", "jurisdiction_code", "phone", "category",
        "reference_photo_sha256", "enrolled_by_id", "version")),
        sa.column("enrolled_at", UtcDateTime))
    engine = create_engine(sqlalchemy_url(fresh_database))
    with engine.begin() as connection:
        connection.execute(place.insert().values(code="530621", name="鲁甸县", level="county",
                                                 **stamp))
        connection.execute(home.insert().values(id="h1", jurisdiction_code="530621",
                                                address="x", is_relative_of_staff=False,
                                                version=1, **stamp))
        connection.execute(member.insert().values(
            id="m1", household_id="h1", position=0, name="户主", relation="head",
            id_number="530621198101042520", phone="13912345678"))
        connection.execute(account.insert().values(
            id="u1", username="recipient-13912345678", display_name="户主", password_hash="x",
            jurisdiction_code="530621", phone="13912345678", is_active=True,
            failed_login_count=0, created_at=now))
        connection.execute(recipient.insert().values(
            id="r1", user_id="u1", household_id="h1", member_id="m1", jurisdiction_code="530621",
            phone="13912345678", category="monthly", reference_photo_sha256="0" * 64,
            enrolled_by_id="u1", version=1, enrolled_at=now))
    upgraded = flask("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    with engine.connect() as connection:
        stored = connection.execute(sa.text(
            "SELECT m.id_number, m.phone, m.id_number_index, r.phone AS recipient_phone, "
            "r.phone_index, u.phone AS user_phone, u.username FROM household_member m, "
            "checkin_recipient r, user_account u")).one()
    engine.dispose()
    assert "530621198101042520" not in stored.id_number
    assert all("13912345678" not in value for value in (
        stored.phone, stored.recipient_phone, stored.user_phone, stored.username))
    assert all(value.startswith("v1.test1.") for value in (
        stored.id_number, stored.phone, stored.recipient_phone, stored.user_phone))

    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database, "TESTING": True,
                      "PASSWORD_HASH_PROFILE": "CHEAPEST"})
    with app.app_context():
        from backend.checkins.models import Recipient
        from backend.checkins.recipients import username_for
        from backend.households.models import Member

        opened = db.session.get(Member, "m1")
        assert (opened.id_number, opened.phone) == ("530621198101042520", "13912345678")
        assert stored.id_number_index == opened.id_number_index  # unchanged by reading
        assert db.session.get(Recipient, "r1").phone == "13912345678"
        assert stored.username == username_for("13912345678")
        db.session.remove()
        db.engine.dispose()
