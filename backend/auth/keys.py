"""Checks on device public keys: they live with the other attestation rules."""

from backend.attestation.rules import is_p256_public_jwk

__all__ = ["is_p256_public_jwk"]
