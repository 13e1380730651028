"""Pure rules: one role-aware masker for every answer that carries identity numbers.

Who may see a full resident ID or a full mobile number is decided by the sensitivity
catalogue (``backend.privacy.catalogue``): the caller's roles and the purpose of the read
give a cell of its table for each field's mark (DOMAIN.md: Identity data; PIPL Art. 6).
Which survey answers are such numbers is decided by the form definition (a text field with
``format`` ``resident_id`` or ``mobile``). Anything else that looks like one of those numbers
(a free-text note, an answer to a form this server does not know, a malformed record echoed
in a conflict) is masked by its shape, so a careless surveyor or client cannot route a
number around the masker.

Everything that answers with household data or survey answers calls this module: household
and case views, the pull, visit revisions, the sync conflict body (and, later, exports).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from backend.auth.rules import Caller
from backend.forms.definition import iter_fields
from backend.forms.identity import mask_mobile, mask_resident_id
from backend.privacy import catalogue

# Shapes of the numbers inside longer text: not glued to other digits or letters (so a
# SHA-256 or a UUID is never mistaken for one).
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:86)?(1[3-9][0-9]{9})(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Disclosure:
    """What a caller may read in full."""

    full_id: bool
    full_phone: bool

    @classmethod
    def of(cls, caller: Caller, purpose: str = catalogue.CASE_WORK) -> Disclosure:
        return cls.for_roles(caller.roles, purpose)

    @classmethod
    def for_roles(cls, roles: frozenset[str] | set[str], purpose: str) -> Disclosure:
        """The catalogue's cells for the two numbers that are masked where they stand."""
        return cls(
            full_id=catalogue.field_shown(roles, purpose, "member.id_number") == catalogue.FULL,
            full_phone=catalogue.field_shown(roles, purpose, "member.phone") == catalogue.FULL)

    @classmethod
    def for_receiver(cls, purpose: str) -> Disclosure:
        """A system outside (a webhook subscription, the department feed) reading for
        ``purpose``."""
        return cls.for_roles({catalogue.RECEIVER}, purpose)

    @property
    def sees_everything(self) -> bool:
        return self.full_id and self.full_phone


def shown_id(id_number: str | None, sees_full: bool) -> str | None:
    if id_number is None:
        return None
    return id_number if sees_full else mask_resident_id(id_number)


def shown_phone(phone: str | None, sees_full: bool) -> str | None:
    if phone is None:
        return None
    return phone if sees_full else mask_mobile(phone)


def masked_account(account: str | None) -> str | None:
    """A bank account as payment lists show it: the last 4 characters only."""
    if not account:
        return None
    return "*" * max(len(account) - 4, 4) + account[-4:]


def mask_text(text: str, disclosure: Disclosure) -> str:
    """Mask every resident ID and mobile number written inside ``text``."""
    if not disclosure.full_id:
        text = _ID_IN_TEXT.sub(lambda m: mask_resident_id(m.group(0)), text)
    if not disclosure.full_phone:
        text = _MOBILE_IN_TEXT.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)]
                                   + mask_mobile(m.group(1)), text)
    return text


def _mask_by_shape(value: Any, disclosure: Disclosure) -> Any:
    if isinstance(value, str):
        return mask_text(value, disclosure)
    if isinstance(value, int) and not isinstance(value, bool):
        # A number sent where text belongs is still a number someone may not see.
        text = str(value)
        masked = mask_text(text, disclosure)
        return value if masked == text else masked
    if isinstance(value, dict):
        return {key: _mask_by_shape(item, disclosure) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_by_shape(item, disclosure) for item in value]
    return value


def identity_fields(definition: dict[str, Any] | None) -> dict[str, str]:
    """``{"contact_mobile": "mobile", "members.id_number": "resident_id"}``: answers by path
    (repeat members as ``group.member``) that the form declares as identity numbers."""
    found: dict[str, str] = {}
    if not isinstance(definition, dict):
        return found
    for _section, field, repeat in iter_fields(definition):
        if field.get("format") in ("resident_id", "mobile"):
            path = f"{repeat['name']}.{field['name']}" if repeat else field["name"]
            found[path] = field["format"]
    return found


def _mask_declared(value: Any, kind: str, disclosure: Disclosure) -> Any:
    sees_full = disclosure.full_id if kind == "resident_id" else disclosure.full_phone
    if sees_full or value is None or isinstance(value, bool):
        return _mask_by_shape(value, disclosure)
    if isinstance(value, str | int | float):
        text = str(value)
        return mask_resident_id(text) if kind == "resident_id" else mask_mobile(text)
    return _mask_by_shape(value, disclosure)


def _walk(value: Any, path: str, declared: dict[str, str], disclosure: Disclosure) -> Any:
    if path in declared:
        return _mask_declared(value, declared[path], disclosure)
    if isinstance(value, dict):
        return {key: _walk(item, f"{path}.{key}" if path else str(key), declared, disclosure)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, path, declared, disclosure) for item in value]
    return _mask_by_shape(value, disclosure)


def mask_answers(data: Any, definition: dict[str, Any] | None, caller: Caller,
                 purpose: str = catalogue.CASE_WORK) -> Any:
    """Survey answers as ``caller`` may see them: identity fields of ``definition`` masked
    whole, any other number of that shape masked where it stands. ``definition`` None (an
    unknown form) masks by shape only."""
    disclosure = Disclosure.of(caller, purpose)
    if disclosure.sees_everything:
        return data
    return _walk(data, "", identity_fields(definition), disclosure)


def mask_answer(value: Any, path: str, definition: dict[str, Any] | None, caller: Caller) -> Any:
    """One answer found at ``path`` (repeat members as ``group.member``; "" for the whole
    record) as ``caller`` may see it: the same masking as ``mask_answers``, for one value."""
    disclosure = Disclosure.of(caller)
    if disclosure.sees_everything:
        return value
    return _walk(value, path, identity_fields(definition), disclosure)


def mask_values(value: Any, caller: Caller, purpose: str = catalogue.CASE_WORK) -> Any:
    """Any JSON value (computed values, an echoed record) with identity numbers masked by shape."""
    disclosure = Disclosure.of(caller, purpose)
    if disclosure.sees_everything:
        return value
    return _mask_by_shape(value, disclosure)


def age_on(birth_on: date | None, today: date) -> int | None:
    """Completed years on ``today``."""
    if birth_on is None:
        return None
    return today.year - birth_on.year - ((today.month, today.day) < (birth_on.month, birth_on.day))


def shown_value(value: Any, cell: str, masker: Callable[[Any], Any]) -> Any:
    """A value as a catalogue cell shows it: full, masked by ``masker``, or not at all."""
    if value is None or cell == catalogue.HIDDEN:
        return None
    return value if cell == catalogue.FULL else masker(value)


def mask_member(member: dict[str, Any], caller: Caller, today: date,
                purpose: str = catalogue.CASE_WORK) -> dict[str, Any]:
    """A household member's record as the catalogue's table shows it to ``caller`` for
    ``purpose``: ``id_number``, ``phone`` and ``birth_on`` full, masked or left out.

    A masked resident ID hides the place code and the birth date; the place is known from
    the jurisdiction, so beside a masked ID the birth date would give the number back (the
    check digit confirms the guess). Whoever sees the ID masked sees the age in years instead
    of the birth date: a year of possible birth dates, a dozen or more numbers that fit."""
    def cell(key: str) -> str:
        return catalogue.field_shown(caller.roles, purpose, key)

    id_cell = cell("member.id_number")
    birth_on = member.get("birth_on")
    sees_birth = id_cell == catalogue.FULL and cell("member.birth_on") == catalogue.FULL
    return {**member, "id_number": shown_value(member.get("id_number"), id_cell,
                                               mask_resident_id),
            "phone": shown_value(member.get("phone"), cell("member.phone"), mask_mobile),
            "birth_on": birth_on if sees_birth else None,
            "age": age_on(birth_on, today)}
