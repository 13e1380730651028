"""Column types that hold sealed values, and the blind indexes beside them (ADR 0020).

Service code reads and writes plain values; the column seals on the way into the database
and opens on the way out, with the app's keyring. With no keyring there is no write at all:
a value is never stored in plain text by accident.

A sealed column cannot be compared in SQL (each seal is different), so ``==``, ``IN`` and
``LIKE`` on it raise; a lookup compares the blind index column instead.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import String, Text, event
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from backend.encryption.keys import KeyProblem, Keyring

EXTENSION = "doorstep.keyring"
SEALED_LENGTH = 160  # v1.<id>.<base64 of 12 + 34 + 16 bytes> with room to spare
_ALLOWED_OPERATORS = {operators.is_, operators.is_not}


def active_keyring() -> Keyring:
    keyring = current_app.extensions.get(EXTENSION) if has_app_context() else None
    if keyring is None:
        raise KeyProblem("no data keyring: sealed columns are read and written only inside "
                         "an app that started with its keys")
    return keyring


class _Sealed(TypeDecorator):
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator):  # noqa: N801 - SQLAlchemy's name
        def operate(self, op, *other, **kwargs):
            if op not in _ALLOWED_OPERATORS:
                raise TypeError("a sealed column cannot be compared in SQL; compare its "
                                "blind index (backend.encryption.columns.blind_index)")
            return super().operate(op, *other, **kwargs)

    def __init__(self, purpose: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.purpose = purpose

    def _seal(self, text: str) -> str:
        return active_keyring().seal(self.purpose, text)

    def _open(self, token: str) -> str:
        return active_keyring().open(self.purpose, token)


class SealedString(_Sealed):
    """A short string (ID number, phone, bank account) sealed with AES-256-GCM."""

    cache_ok = True
    impl = String(SEALED_LENGTH)

    def __init__(self, purpose: str) -> None:
        super().__init__(purpose, SEALED_LENGTH)

    def process_bind_param(self, value, dialect):
        return None if value is None else self._seal(value)

    def process_result_value(self, value, dialect):
        return None if value is None else self._open(value)



class SealedJSON(_Sealed):
    """A JSON document (a visit's answers, an event's payload) sealed as one value."""

    cache_ok = True
    impl = Text

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return self._seal(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(self._open(value))



class SealedText(_Sealed):
    """A long text (a webhook body as signed) sealed as one value."""

    cache_ok = True
    impl = Text

    def process_bind_param(self, value, dialect):
        return None if value is None else self._seal(value)

    def process_result_value(self, value, dialect):
        return None if value is None else self._open(value)



def blind_index(purpose: str, value: str | None) -> str | None:
    """The keyed HMAC a lookup compares; ``purpose`` names the sealed column."""
    return None if value is None else active_keyring().blind_index(purpose, value)


def keep_blind_index(attribute, index_key: str, purpose: str) -> None:
    """Set ``index_key`` on the instance whenever ``attribute`` is set (constructor too)."""

    @event.listens_for(attribute, "set", retval=False)
    def _set(target, value, _old, _initiator):
        setattr(target, index_key, blind_index(purpose, value))


def sealed_columns(metadata) -> list[tuple[Any, Any]]:
    """(table, column) of every sealed column: what rotation walks."""
    return [(table, column) for table in metadata.sorted_tables for column in table.columns
            if isinstance(column.type, _Sealed)]
