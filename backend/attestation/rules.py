"""Pure attestation checks (谁调查谁签字谁负责, 002/004): device public keys, signatures over
a submission digest, and whether a record is signed by two investigators of its team.

No Flask, no SQLAlchemy: the caller loads keys and earlier attestations and passes them in.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ATTESTATION_PREFIX = "doorstep-attestation:v1:"

_DIGEST_RE = re.compile(r"[0-9a-f]{64}")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")


def _b64url_decode(text: object) -> bytes:
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def is_p256_public_jwk(jwk: object) -> bool:
    """True for the public half of an ECDSA P-256 key as WebCrypto exports it (``kty`` EC,
    ``crv`` P-256, ``x``/``y`` base64url of 32 bytes each, a point on the curve)."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        return False
    if "d" in jwk:  # a private key must never leave the device
        return False
    x, y = jwk.get("x"), jwk.get("y")
    return isinstance(x, str) and isinstance(y, str) and _p256_key(x, y) is not None


@lru_cache(maxsize=4096)
def _p256_key(x: str, y: str) -> ec.EllipticCurvePublicKey | None:
    """The P-256 public key of the base64url coordinates, or None when they are not 32 bytes
    each or not a point on the curve. Cached: a batch checks the same few device keys a
    thousand times, and building the key costs as much as a signature check."""
    try:
        x_bytes, y_bytes = _b64url_decode(x), _b64url_decode(y)
        if len(x_bytes) != 32 or len(y_bytes) != 32:
            return None
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(x_bytes, "big"), int.from_bytes(y_bytes, "big"), ec.SECP256R1()
        ).public_key()
    except (TypeError, ValueError):  # binascii.Error is a ValueError
        return None


def verify_p256(public_key_jwk: object, message: bytes, signature_b64url: object) -> bool:
    """Whether ``signature_b64url`` is a WebCrypto ECDSA P-256/SHA-256 signature of
    ``message`` by the key ``public_key_jwk``.

    WebCrypto signs in IEEE P1363 form, raw r||s (64 bytes, base64url); it is converted to
    DER for ``cryptography``. Any malformed input gives False, never an exception. Used for
    attestations (``verify_attestation``) and device-key proofs (devices.rules.verify_proof).
    """
    if not is_p256_public_jwk(public_key_jwk):
        return False
    assert isinstance(public_key_jwk, dict)
    key = _p256_key(public_key_jwk["x"], public_key_jwk["y"])
    assert key is not None  # is_p256_public_jwk said so
    try:
        raw = _b64url_decode(signature_b64url)
        if len(raw) != 64:
            return False
        signature = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                         int.from_bytes(raw[32:], "big"))
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def attestation_message(digest_hex: str) -> bytes:
    """The bytes an investigator's device signs: ``doorstep-attestation:v1:<digest hex>``."""
    if not _DIGEST_RE.fullmatch(digest_hex):
        raise ValueError("digest must be 64 lowercase hex characters")
    return (ATTESTATION_PREFIX + digest_hex).encode("ascii")


def verify_attestation(
    public_key_jwk: dict[str, Any], digest_hex: str, signature_b64url: str
) -> bool:
    """Whether ``signature_b64url`` signs ``attestation_message(digest_hex)`` with the
    device key ``public_key_jwk`` (``verify_p256``). Malformed input gives False."""
    if not isinstance(digest_hex, str) or not _DIGEST_RE.fullmatch(digest_hex):
        return False
    return verify_p256(public_key_jwk, attestation_message(digest_hex), signature_b64url)


class AttestationCheck(NamedTuple):
    """One attestation as ``attestation_status`` weighs it."""

    user_id: str  # who claims to sign
    key_user_id: str | None  # to whom the signing key is registered
    signature_ok: bool  # verify_attestation's answer
    key_active: bool = True  # the key was not revoked when the server received it


@dataclass(frozen=True)
class AttestationStatus:
    is_complete: bool
    attested_by: list[str]
    problems: list[str]


def attestation_status(
    team_user_ids: set[str],
    attestations: Iterable[AttestationCheck | tuple[str, str | None, bool]], *,
    min_attesters: int,
) -> AttestationStatus:
    """Whether the visit is signed by `min_attesters` distinct investigators of its team.

    `min_attesters` is the jurisdiction's ``min_visit_team_size`` (004: at least 2 staff;
    a place may require more), and every one of them signs (谁调查谁签字, 002/004).

    Each attestation is an ``AttestationCheck`` ``(user_id, key_user_id, signature_ok,
    key_active)``: who claims to sign, to whom the signing key is registered,
    ``verify_attestation``'s answer, and whether the key was still active when the server
    received it. One counts only when the signature is valid (else
    ``attestation-signature-invalid``), its key was not revoked by then
    (``attestation-key-revoked``), the key belongs to the
    signer (``attestation-key-not-owned``), and the signer is on the visit's team
    (``attestation-not-team-member``); a second one by the same person counts once
    (``attestation-same-person``). Complete with `min_attesters` that count. ``problems`` lists each
    slug once, in the order first met.
    """
    attested: set[str] = set()
    problems: list[str] = []

    def note(slug: str) -> None:
        if slug not in problems:
            problems.append(slug)

    for check in attestations:
        user_id, key_user_id, signature_ok, key_active = AttestationCheck(*check)
        if not signature_ok:
            note("attestation-signature-invalid")
        elif not key_active:
            note("attestation-key-revoked")
        elif key_user_id != user_id:
            note("attestation-key-not-owned")
        elif user_id not in team_user_ids:
            note("attestation-not-team-member")
        elif user_id in attested:
            note("attestation-same-person")
        else:
            attested.add(user_id)
    return AttestationStatus(
        is_complete=len(attested) >= min_attesters, attested_by=sorted(attested), problems=problems
    )
