"""Pure rules of device keys: proof of possession, challenge use, when a key counts."""

from datetime import UTC, datetime, timedelta

from backend.attestation.rules import verify_attestation
from backend.devices.rules import (
    is_challenge_usable,
    is_key_active,
    is_p256_public_jwk,
    jwk_thumbprint,
    proof_message,
    verify_proof,
)
from tests.device_keys import sign_proof
from tests.visit_factory import DeviceKeyPair

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def test_a_key_counts_for_what_arrived_before_its_revocation_only():
    assert is_key_active(None, NOW)
    assert is_key_active(NOW + timedelta(seconds=1), NOW)
    assert not is_key_active(NOW, NOW)  # revoked_at <= received: not valid
    assert not is_key_active(NOW - timedelta(days=1), NOW)


def test_challenge_is_single_use_bound_and_short_lived():
    later = NOW + timedelta(minutes=5)
    assert is_challenge_usable("u", "d", later, None, "u", "d", NOW) is None
    assert is_challenge_usable("u", "d", later, NOW, "u", "d", NOW) == \
        "device-key-challenge-invalid"
    assert is_challenge_usable("u", "d", later, None, "v", "d", NOW) == \
        "device-key-challenge-invalid"
    assert is_challenge_usable("u", "d", later, None, "u", "e", NOW) == \
        "device-key-challenge-invalid"
    assert is_challenge_usable("u", "d", NOW, None, "u", "d", NOW) == \
        "device-key-challenge-expired"


def test_proof_verifies_only_for_its_key_user_device_and_nonce():
    pair = DeviceKeyPair()
    signature = sign_proof(pair, "u1", "device-1", "nonce-1")
    assert verify_proof(pair.jwk, "u1", "device-1", "nonce-1", signature)
    assert not verify_proof(DeviceKeyPair().jwk, "u1", "device-1", "nonce-1", signature)
    assert not verify_proof(pair.jwk, "u2", "device-1", "nonce-1", signature)
    assert not verify_proof(pair.jwk, "u1", "device-2", "nonce-1", signature)
    assert not verify_proof(pair.jwk, "u1", "device-1", "nonce-2", signature)
    for garbage in (None, 42, "", "***", signature[:-4]):
        assert not verify_proof(pair.jwk, "u1", "device-1", "nonce-1", garbage)
    assert not verify_proof({"kty": "EC"}, "u1", "device-1", "nonce-1", signature)


def test_a_proof_is_never_an_attestation_and_the_other_way_round():
    pair = DeviceKeyPair()
    digest = "a" * 64
    attestation = pair.sign(digest)
    assert not verify_proof(pair.jwk, "u", "d", digest, attestation)
    assert proof_message("u", "d", "n").startswith(b"doorstep-device-key:v1:")
    proof = sign_proof(pair, "u", "d", digest)
    assert not verify_attestation(pair.jwk, digest, proof)


def test_thumbprint_follows_rfc_7638():
    # RFC 7638 has no EC example; RFC 8037's appendix is OKP. Check canonical member order
    # and independence from extra members instead.
    pair = DeviceKeyPair()
    assert jwk_thumbprint(pair.jwk) == jwk_thumbprint({**pair.jwk, "ext": True,
                                                      "key_ops": ["verify"]})
    assert jwk_thumbprint(pair.jwk) != jwk_thumbprint(DeviceKeyPair().jwk)
    assert len(jwk_thumbprint(pair.jwk)) == 43


def test_only_public_p256_keys_are_accepted():
    pair = DeviceKeyPair()
    assert is_p256_public_jwk(pair.jwk)
    assert not is_p256_public_jwk({**pair.jwk, "d": "x"})
    assert not is_p256_public_jwk({**pair.jwk, "x": "@@@"})
    assert not is_p256_public_jwk("jwk")


def test_the_pwas_registration_proof_verifies_on_the_server():
    """A proof made with WebCrypto and pwa/static/js/domain/device-keys.js (Node) verifies
    with the server's rule: both sides build the same message."""
    import json
    import shutil
    import subprocess
    from pathlib import Path

    import pytest

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = Path(__file__).parent / "js" / "make_registration_vector.mjs"
    vector = json.loads(subprocess.run([node, str(script)], capture_output=True, text=True,
                                       check=True, timeout=60).stdout)
    assert verify_proof(vector["public_key_jwk"], vector["user_id"], vector["device_id"],
                        vector["nonce"], vector["signature_b64url"])
    assert not verify_proof(vector["public_key_jwk"], vector["user_id"], vector["device_id"],
                            vector["nonce"] + "x", vector["signature_b64url"])
