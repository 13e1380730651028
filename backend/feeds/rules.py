"""Pure rules of the feeds other departments read (一件事联办, S6): which feeds exist, what a
purpose may see, the service token's shape, and a decision as a reader gets it.

A service token is scoped to one feed and one jurisdiction and names a purpose; the purpose
decides what is masked. Only a purpose that must match the person in its own register (to
enrol them in medical aid, fee waivers, housing support) reads the full resident ID; every
such read is audited. Resident IDs and mobile numbers written in free text (reasons) are
masked by shape for every other purpose.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from backend.privacy import catalogue
from backend.privacy.rules import Disclosure, mask_text, shown_id

FEEDS: dict[str, tuple[str, ...]] = {"decisions": ("case.decided",)}


@dataclass(frozen=True)
class Purpose:
    """A feed token's purpose; what it may read is the catalogue's row for ``reads_as``."""

    code: str
    reads_as: str

    @property
    def disclosure(self) -> Disclosure:
        return Disclosure.for_receiver(self.reads_as)

    @property
    def full_id(self) -> bool:
        return self.disclosure.full_id


PURPOSES: dict[str, Purpose] = {p.code: p for p in (
    # 一件事联办: the department acts on the person, so it must match the ID in its register
    Purpose("medical_assistance", catalogue.JOINT_HANDLING),   # 医疗救助, 医保参保资助
    Purpose("education_assistance", catalogue.JOINT_HANDLING),  # 教育资助
    Purpose("housing_assistance", catalogue.JOINT_HANDLING),    # 住房保障
    # reporting and dashboards count; they never need a person's number
    Purpose("statistics", catalogue.STATISTICS),
)}

TOKEN_PREFIX = "dsf_"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored of a token's secret (the secret is random, 256 bits: a plain hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_text(token_id: str, secret: str) -> str:
    """The token as shown once to the administrator: ``dsf_<id>.<secret>``."""
    return f"{TOKEN_PREFIX}{token_id}.{secret}"


def parse_token(text: str | None) -> tuple[str, str] | None:
    """(token id, secret) from a presented token, or None when it is not one."""
    if not text or not text.startswith(TOKEN_PREFIX) or len(text) > 200:
        return None
    token_id, _, secret = text[len(TOKEN_PREFIX):].partition(".")
    if not token_id or not secret:
        return None
    return token_id, secret


def secret_matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


CURSOR_SALT = "doorstep.feed-cursor"


@dataclass(frozen=True)
class Cursor:
    """Where a reader is in a feed: after ``sequence``, for ``jurisdiction_code``."""

    feed: str
    jurisdiction_code: str
    sequence: int


def encode_cursor(secret_key: str, cursor: Cursor) -> str:
    """An opaque cursor, signed with the server's key: a reader cannot forge or move it,
    nor take it to another jurisdiction's token."""
    return URLSafeSerializer(secret_key, salt=CURSOR_SALT).dumps(
        [cursor.feed, cursor.jurisdiction_code, cursor.sequence])


def decode_cursor(secret_key: str, text: str) -> Cursor | None:
    """The cursor, or None when it was not signed by this server or is malformed."""
    if len(text) > 300:
        return None
    try:
        value = URLSafeSerializer(secret_key, salt=CURSOR_SALT).loads(text)
    except BadSignature:
        return None
    if (not isinstance(value, list) or len(value) != 3
            or not all(isinstance(part, str) for part in value[:2])
            or not isinstance(value[2], int) or isinstance(value[2], bool) or value[2] < 0):
        return None
    return Cursor(value[0], value[1], value[2])


def decision_item(event: Mapping[str, Any], purpose: Purpose) -> dict[str, Any]:
    """One ``case.decided`` event (id, sequence, occurred_at, jurisdiction, payload) as the
    feed answers it for ``purpose``."""
    payload = event["payload"]
    disclosure = purpose.disclosure
    head = payload.get("head") or {}
    return {
        "event_id": event["id"], "sequence": event["sequence"],
        "jurisdiction_code": event["jurisdiction_code"],
        "decision": payload["decision"], "decided_at": payload["decided_at"],
        "case_id": payload["case_id"], "household_id": payload["household_id"],
        "kind": payload["kind"], "category": payload.get("category"),
        "monthly_amount_yuan": payload.get("monthly_amount_yuan"),
        "previous_amount_yuan": payload.get("previous_amount_yuan"),
        "payment_starts_on": payload.get("payment_starts_on"),
        "stopped_on": payload.get("stopped_on"),
        "members_count": payload.get("members_count"),
        "reasons": [mask_text(reason, disclosure) for reason in payload.get("reasons") or []],
        "review_case_id": payload.get("review_case_id"),
        "head": {"name": head.get("name"),
                 "id_number": shown_id(head.get("id_number"), purpose.full_id)},
    }


def discloses_full_id(items: list[dict[str, Any]], purpose: Purpose) -> bool:
    return purpose.full_id and any(item["head"]["id_number"] for item in items)
