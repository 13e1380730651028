"""Device attestation keys: one per user per device, registered with proof of possession,
listed and revoked (docs/decisions/0002-offline-attestation.md)."""
