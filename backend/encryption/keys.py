"""The keyring and the two operations on a value: seal (AES-256-GCM) and blind index
(HMAC-SHA-256). Pure: no Flask, no SQLAlchemy (ADR 0020).

A sealed value is text, ``v1.<key id>.<base64url(nonce || ciphertext || tag)>``, so every
column type on SQLite and PostgreSQL holds it and a reader knows which key opens it. The
associated data is the value's purpose (``household_member.id_number``): a ciphertext
copied into another column does not open there.

The blind index uses its own key, which data-key rotation leaves alone, so lookups and
unique constraints keep working while rows are re-sealed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
INDEX_HEX_CHARS = 32  # 128 bits of HMAC-SHA-256: collisions are out of reach
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
ENV_DATA_KEY = "DOORSTEP_DATA_KEY"
ENV_RETIRED_KEYS = "DOORSTEP_DATA_KEYS_RETIRED"
ENV_INDEX_KEY = "DOORSTEP_INDEX_KEY"


class KeyProblem(Exception):
    """The keys are missing, malformed or do not open the data: the app must not start."""


class SealedValueProblem(Exception):
    """A stored value does not open with any key of the keyring (or is not sealed)."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    secrets: dict[str, bytes] = field(repr=False)  # key id -> 32-byte AES key
    index_secret: bytes = field(repr=False)

    def seal(self, purpose: str, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.secrets[self.current_id]).encrypt(
            nonce, plaintext.encode("utf-8"), purpose.encode("utf-8"))
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{FORMAT}.{self.current_id}.{body}"

    def open(self, purpose: str, token: str) -> str:
        key_id = key_id_of(token)
        if key_id not in self.secrets:
            raise SealedValueProblem(
                f"a value of {purpose} is sealed with data key {key_id!r}, which is not "
                f"configured ({ENV_RETIRED_KEYS} lists keys still being rotated away)")
        body = token.split(".", 2)[2]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = AESGCM(self.secrets[key_id]).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode("utf-8"))
        except (InvalidTag, ValueError, binascii.Error):
            raise SealedValueProblem(
                f"a value of {purpose} does not open with data key {key_id!r}: wrong key, "
                "or the value was changed") from None
        return plain.decode("utf-8")

    def blind_index(self, purpose: str, value: str) -> str:
        digest = hmac.new(self.index_secret, f"{purpose}\x00{value}".encode(),
                          hashlib.sha256).hexdigest()
        return digest[:INDEX_HEX_CHARS]

    def is_current(self, token: str) -> bool:
        return token.startswith(f"{FORMAT}.{self.current_id}.")


def key_id_of(token: str) -> str:
    parts = token.split(".", 2)
    if len(parts) != 3 or parts[0] != FORMAT:
        raise SealedValueProblem("a stored value is not sealed (plain text in a sealed column)")
    return parts[1]


def is_sealed(value: str) -> bool:
    parts = value.split(".", 2)
    return len(parts) == 3 and parts[0] == FORMAT and bool(KEY_ID.match(parts[1]))


def _secret(text: str, name: str) -> bytes:
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyProblem(f"{name} is not base64 (make one with "
                         f"`python -m backend.encryption.keytool new KEY_ID`)") from None
    if len(secret) != KEY_BYTES:
        raise KeyProblem(f"{name} must decode to {KEY_BYTES} bytes, not {len(secret)}")
    return secret


def _entry(text: str, name: str) -> tuple[str, bytes]:
    key_id, colon, secret = text.strip().partition(":")
    if not colon or not KEY_ID.match(key_id):
        raise KeyProblem(f"{name} must read '<key id>:<base64 of 32 bytes>' (a key id of "
                         "letters, digits, '-' or '_', at most 16), e.g. from "
                         "`python -m backend.encryption.keytool new KEY_ID`")
    return key_id, _secret(secret, name)


def keyring_from(data_key: str | None, retired_keys: str | None,
                 index_key: str | None) -> Keyring:
    """The keyring from the settings' texts, or KeyProblem saying what is missing."""
    missing = [name for name, value in ((ENV_DATA_KEY, data_key), (ENV_INDEX_KEY, index_key))
               if not (value or "").strip()]
    if missing:
        raise KeyProblem(
            f"{' and '.join(missing)} not set: Doorstep seals ID numbers, phone numbers and "
            "bank accounts and will not start without its keys (docs/decisions/"
            "0020-encryption-at-rest.md; `python -m backend.encryption.keytool new KEY_ID` "
            "prints a pair)")
    current_id, current = _entry(data_key or "", ENV_DATA_KEY)
    secrets = {current_id: current}
    for text in filter(None, (item.strip() for item in (retired_keys or "").split(","))):
        key_id, secret = _entry(text, ENV_RETIRED_KEYS)
        if key_id in secrets and secrets[key_id] != secret:
            raise KeyProblem(f"data key id {key_id!r} is given twice with different keys")
        secrets[key_id] = secret
    return Keyring(current_id, secrets, _secret(index_key or "", ENV_INDEX_KEY))


def new_key_text(key_id: str) -> str:
    if not KEY_ID.match(key_id):
        raise KeyProblem("a key id is letters, digits, '-' or '_', at most 16")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode('ascii')}"


def new_index_key_text() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")
