"""Register device keys the way the PWA does: challenge, then sign it with the new key."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from backend.devices.rules import proof_message
from tests.visit_factory import DeviceKeyPair, b64url


def sign_proof(pair: DeviceKeyPair, user_id: str, device_id: str, nonce: str) -> str:
    der = pair.private.sign(proof_message(user_id, device_id, nonce), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def challenge(api, username: str, device_id: str) -> str:
    response = api.post(username, "/api/devices/keys/challenge", json={"device_id": device_id})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["nonce"]


def register_key(api, username: str, device_id: str = "device-" + "a" * 8,
                 pair: DeviceKeyPair | None = None, **extra):
    """The raw answer of a proper registration (challenge signed by `pair`)."""
    pair = pair or DeviceKeyPair()
    nonce = challenge(api, username, device_id)
    body = {"device_id": device_id, "public_key_jwk": pair.jwk, "nonce": nonce,
            "signature": sign_proof(pair, api.user_id(username), device_id, nonce), **extra}
    return api.post(username, "/api/devices/keys", json=body)


def registered_key(api, username: str, device_id: str = "device-" + "a" * 8):
    """A new key pair registered for `username` on `device_id`: (pair, key id)."""
    pair = DeviceKeyPair()
    response = register_key(api, username, device_id, pair)
    assert response.status_code == 201, response.get_json()
    return pair, response.get_json()["id"]
