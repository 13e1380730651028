"""Checks on device public keys (pure; uses the cryptography library)."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import ec


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def is_p256_public_jwk(jwk: object) -> bool:
    """True for the public half of an ECDSA P-256 key as WebCrypto exports it."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        return False
    if "d" in jwk:  # a private key must never leave the device
        return False
    try:
        x, y = _b64url(jwk["x"]), _b64url(jwk["y"])
        if len(x) != 32 or len(y) != 32:
            return False
        ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        ).public_key()
    except (KeyError, TypeError, ValueError):
        return False
    return True
