"""Pure rules about device attestation keys (谁调查谁签字): shape, proof of possession,
which key counts when. Uses the cryptography library, nothing of Flask or SQLAlchemy."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

from backend.attestation.rules import is_p256_public_jwk, verify_p256

__all__ = ["is_p256_public_jwk", "is_challenge_usable", "is_key_active", "jwk_thumbprint",
           "proof_message", "public_part", "verify_proof"]

# Domain separation: a registration proof can never be replayed as an attestation
# ("doorstep-attestation:v1:…", backend/visits/rules.py) and the other way round.
PROOF_PREFIX = "doorstep-device-key:v1:"


def public_part(jwk: dict[str, Any]) -> dict[str, Any]:
    """Only the members that name the public key, so equal keys compare equal."""
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of a P-256 public JWK, base64url: one key, one name."""
    members = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).decode().rstrip("=")


def proof_message(user_id: str, device_id: str, nonce: str) -> bytes:
    """What a new key signs to prove the device holds it: the server's nonce, bound to
    the user and device it was issued for (pwa/static/js/domain/device-keys.js)."""
    return f"{PROOF_PREFIX}{user_id}:{device_id}:{nonce}".encode()


def verify_proof(public_key_jwk: dict[str, Any], user_id: str, device_id: str, nonce: str,
                 signature_b64url: object) -> bool:
    """Whether ``signature_b64url`` (WebCrypto ECDSA P-256/SHA-256, raw r||s, base64url)
    signs ``proof_message``. Malformed input gives False, never an exception."""
    return verify_p256(public_key_jwk, proof_message(user_id, device_id, nonce),
                       signature_b64url)


def is_key_active(revoked_at: datetime | None, at: datetime) -> bool:
    """A key vouches for what the server received before it was revoked, never after:
    an attestation received at ``at`` counts only if the key was not revoked by then."""
    return revoked_at is None or revoked_at > at


def is_challenge_usable(challenge_user_id: str, challenge_device_id: str,
                        expires_at: datetime, used_at: datetime | None,
                        user_id: str, device_id: str, now: datetime) -> str | None:
    """None when the nonce may be spent now by ``user_id`` on ``device_id``, else why not
    (a problem slug): single use, short-lived, bound to the user and device it was issued to."""
    if used_at is not None or challenge_user_id != user_id or challenge_device_id != device_id:
        return "device-key-challenge-invalid"
    if expires_at <= now:
        return "device-key-challenge-expired"
    return None
