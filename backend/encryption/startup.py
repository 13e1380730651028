"""Start-up: the keyring from the settings, checked against the database (ADR 0020).

A missing key, a malformed one, a data key that does not open what it sealed before, an
index key other than the one the blind indexes were made with, or data sealed with a key
the keyring lacks: each stops the start with a sentence saying which.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError

from backend.encryption.columns import EXTENSION
from backend.encryption.keys import (
    ENV_RETIRED_KEYS,
    KeyProblem,
    Keyring,
    SealedValueProblem,
    keyring_from,
)
from backend.encryption.models import DataKeyCheck
from backend.extensions import db

CHECK_PURPOSE = "data_key_check"
CHECK_TEXT = "doorstep data key check"
INDEX_ROW = "index"

log = logging.getLogger(__name__)


def install(app: Flask) -> Keyring:
    keyring = keyring_from(app.config.get("DATA_KEY"), app.config.get("DATA_KEYS_RETIRED"),
                           app.config.get("DATA_INDEX_KEY"))
    app.extensions[EXTENSION] = keyring
    with app.app_context():
        try:
            if not inspect(db.engine).has_table(DataKeyCheck.__tablename__):
                return keyring  # before the first `flask db upgrade`: the migration checks in
            check_against_database(keyring)
            db.session.commit()
        except OperationalError as error:  # the database is down: no write can happen either
            log.warning("data keys not checked against the database: %s", error.orig)
        finally:
            db.session.remove()
            # The check's connection is not kept: an app that ends here (KeyProblem), one a
            # gunicorn master forks, or one a test drops would otherwise leave a pooled
            # connection to be garbage-collected open (a ResourceWarning on PostgreSQL).
            db.engine.dispose()
    return keyring


def check_against_database(keyring: Keyring) -> None:
    """Raise KeyProblem unless the keyring opens what the database holds; record the
    current keys' check rows when they are new."""
    rows = {row.name: row.value for row in db.session.scalars(select(DataKeyCheck))}
    expected_index = keyring.blind_index(CHECK_PURPOSE, CHECK_TEXT)
    if INDEX_ROW in rows and rows[INDEX_ROW] != expected_index:
        raise KeyProblem("DOORSTEP_INDEX_KEY is not the key this database's blind indexes "
                         "were made with: lookups by ID number would find nothing")
    for name, value in rows.items():
        if not name.startswith("data:"):
            continue
        key_id = name[len("data:"):]
        if key_id not in keyring.secrets:
            raise KeyProblem(
                f"the database holds values sealed with data key {key_id!r}, which is not "
                f"configured: give it in {ENV_RETIRED_KEYS} until `flask rotate-data-key` "
                "has re-sealed them")
        try:
            opened = keyring.open(CHECK_PURPOSE, value)
        except SealedValueProblem:
            opened = None
        if opened != CHECK_TEXT:
            raise KeyProblem(f"data key {key_id!r} is not the key this database was sealed "
                             "with (its check value does not open)")
    new_rows = []
    if INDEX_ROW not in rows:
        new_rows.append(DataKeyCheck(name=INDEX_ROW, value=expected_index))
    if f"data:{keyring.current_id}" not in rows:
        new_rows.append(DataKeyCheck(name=f"data:{keyring.current_id}",
                                     value=keyring.seal(CHECK_PURPOSE, CHECK_TEXT)))
    if new_rows:
        try:
            with db.session.begin_nested():
                db.session.add_all(new_rows)
        except IntegrityError:  # another process started at the same moment: check theirs
            check_against_database(keyring)


def forget_retired_key(key_id: str) -> None:
    """No value is sealed with ``key_id`` any more (rotation finished)."""
    row = db.session.get(DataKeyCheck, f"data:{key_id}")
    if row is not None:
        db.session.delete(row)
