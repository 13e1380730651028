"""Two-investigator attestation (004: at least 2 staff; 002/004: 谁调查谁签字谁负责).

The vector comes from real WebCrypto in Node (tests/unit/js/make_attestation_vector.mjs), so
this proves the server accepts what a device signs: JWK import, raw r||s signatures, the
message format and the canonical digest all agree across the two languages."""

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from backend.attestation.canonical import submission_digest
from backend.attestation.rules import attestation_message, attestation_status, verify_attestation

SCRIPT = Path(__file__).parent / "js" / "make_attestation_vector.mjs"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def make_vector() -> dict:
    """Run the device-side script; without Node the device side is unproven: fail, never skip."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the WebCrypto attestation vector cannot be made")
    result = subprocess.run(
        [node, str(SCRIPT)], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def vector():
    return make_vector()


def test_a_missing_node_fails_instead_of_skipping(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)

    with pytest.raises(pytest.fail.Exception, match="node is not installed"):
        make_vector()


def _flip_last_hex(digest: str) -> str:
    return digest[:-1] + ("0" if digest[-1] != "0" else "1")


def test_digest_computed_in_javascript_equals_python(vector):
    assert submission_digest(vector["submission"]) == vector["digest"]


def test_webcrypto_signature_is_accepted(vector):
    assert verify_attestation(
        vector["public_key_jwk"], vector["digest"], vector["signature_b64url"]
    )


def test_tampered_digest_is_rejected(vector):
    tampered = _flip_last_hex(vector["digest"])

    assert not verify_attestation(vector["public_key_jwk"], tampered, vector["signature_b64url"])


def test_tampered_submission_is_rejected(vector):
    submission = {**vector["submission"], "form_version": vector["submission"]["form_version"] + 1}

    assert not verify_attestation(
        vector["public_key_jwk"], submission_digest(submission), vector["signature_b64url"]
    )


def test_tampered_signature_is_rejected(vector):
    raw = bytearray(base64.urlsafe_b64decode(vector["signature_b64url"] + "=="))
    raw[10] ^= 0x01

    assert not verify_attestation(vector["public_key_jwk"], vector["digest"], _b64url(bytes(raw)))


def test_another_key_is_rejected(vector):
    assert not verify_attestation(
        vector["other_public_key_jwk"], vector["digest"], vector["signature_b64url"]
    )


def test_der_encoded_signature_is_rejected(vector):
    # WebCrypto sends raw r||s (IEEE P1363); the same signature in DER form is not accepted.
    raw = base64.urlsafe_b64decode(vector["signature_b64url"] + "==")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))

    assert not verify_attestation(vector["public_key_jwk"], vector["digest"], _b64url(der))


def _local_signature(digest: str) -> tuple[dict, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }
    r, s = decode_dss_signature(key.sign(attestation_message(digest), ec.ECDSA(hashes.SHA256())))
    return jwk, _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


DIGEST = "ab" * 32


def test_python_made_p1363_signature_is_accepted():
    jwk, signature = _local_signature(DIGEST)

    assert verify_attestation(jwk, DIGEST, signature)


@pytest.mark.parametrize(
    "change",
    [
        {"kty": "RSA"},
        {"crv": "P-384"},
        {"crv": "secp256k1"},
        {"x": "not base64url!"},
        {"x": "AAAA"},
        {"y": _b64url(b"\x00" * 33)},
        {"x": _b64url(b"\x00" * 32), "y": _b64url(b"\x00" * 32)},
        {"x": 12345},
        {"x": None},
    ],
    ids=[
        "rsa",
        "p384",
        "secp256k1",
        "bad-b64",
        "short-x",
        "long-y",
        "not-on-curve",
        "int-x",
        "no-x",
    ],
)
def test_invalid_keys_give_false(change):
    jwk, signature = _local_signature(DIGEST)

    assert not verify_attestation({**jwk, **change}, DIGEST, signature)


def test_a_key_that_is_not_a_dict_gives_false():
    _, signature = _local_signature(DIGEST)

    assert not verify_attestation("not a jwk", DIGEST, signature)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "signature",
    ["", "***", "A", _b64url(b"\x01" * 63), _b64url(b"\x01" * 65), _b64url(b"\x00" * 64), None],
    ids=["empty", "bad-chars", "bad-length-b64", "63-bytes", "65-bytes", "zero-r-s", "none"],
)
def test_invalid_signatures_give_false(signature):
    jwk, _ = _local_signature(DIGEST)

    assert not verify_attestation(jwk, DIGEST, signature)


@pytest.mark.parametrize("digest", ["AB" * 32, "ab" * 31, "zz" * 32, "", None, "é" * 64])
def test_malformed_digests_give_false(digest):
    jwk, signature = _local_signature(DIGEST)

    assert not verify_attestation(jwk, digest, signature)


def test_attestation_message_format():
    assert attestation_message(DIGEST) == b"doorstep-attestation:v1:" + DIGEST.encode()


# --- attestation_status: two distinct team members, each with their own key (004, 002/004) --

TEAM = {"wang", "li", "zhao"}


def test_two_distinct_team_members_complete():
    status = attestation_status(TEAM, [("wang", "wang", True), ("li", "li", True)], min_attesters=2)

    assert status.is_complete
    assert status.attested_by == ["li", "wang"]
    assert status.problems == []


def test_one_person_twice_is_incomplete():
    status = attestation_status(TEAM, [("wang", "wang", True), ("wang", "wang", True)],
                                min_attesters=2)

    assert not status.is_complete
    assert status.attested_by == ["wang"]
    assert status.problems == ["attestation-same-person"]


def test_non_member_does_not_count():
    status = attestation_status(TEAM, [("wang", "wang", True), ("sun", "sun", True)],
                                min_attesters=2)

    assert not status.is_complete
    assert status.attested_by == ["wang"]
    assert status.problems == ["attestation-not-team-member"]


def test_key_of_another_user_does_not_count():
    status = attestation_status(TEAM, [("wang", "wang", True), ("li", "wang", True)],
                                min_attesters=2)

    assert not status.is_complete
    assert status.attested_by == ["wang"]
    assert status.problems == ["attestation-key-not-owned"]


def test_forged_signature_does_not_count():
    status = attestation_status(TEAM, [("wang", "wang", True), ("li", "li", False)],
                                min_attesters=2)

    assert not status.is_complete
    assert status.attested_by == ["wang"]
    assert status.problems == ["attestation-signature-invalid"]


def test_problems_do_not_prevent_completion_by_two_valid_ones():
    status = attestation_status(
        TEAM,
        [("li", "li", False), ("wang", "wang", True), ("li", "li", True), ("wang", "wang", True)],
        min_attesters=2,
    )

    assert status.is_complete
    assert status.attested_by == ["li", "wang"]
    assert status.problems == ["attestation-signature-invalid", "attestation-same-person"]


def test_no_attestations_is_incomplete():
    status = attestation_status(TEAM, [], min_attesters=2)

    assert not status.is_complete
    assert status.attested_by == []
    assert status.problems == []


def test_three_members_all_count():
    status = attestation_status(
        TEAM, [("wang", "wang", True), ("li", "li", True), ("zhao", "zhao", True)],
        min_attesters=2,
    )

    assert status.is_complete
    assert status.attested_by == ["li", "wang", "zhao"]


def test_end_to_end_webcrypto_attestation_counts(vector):
    ok = verify_attestation(vector["public_key_jwk"], vector["digest"], vector["signature_b64url"])
    forged = verify_attestation(
        vector["other_public_key_jwk"], vector["digest"], vector["signature_b64url"]
    )

    status = attestation_status(TEAM, [("wang", "wang", ok), ("li", "li", forged)], min_attesters=2)

    assert status.attested_by == ["wang"]
    assert status.problems == ["attestation-signature-invalid"]


def test_a_jurisdiction_requiring_three_needs_three_signers():
    # min_visit_team_size 3: two valid signatures are not enough, three are (004: at least 2).
    two = [("wang", "wang", True), ("li", "li", True)]
    assert not attestation_status(TEAM, two, min_attesters=3).is_complete
    assert attestation_status(TEAM, [*two, ("zhao", "zhao", True)], min_attesters=3).is_complete


def test_a_revoked_key_does_not_count_and_says_so():
    from backend.attestation.rules import AttestationCheck

    status = attestation_status({"u1", "u2"}, [
        AttestationCheck("u1", "u1", True),
        AttestationCheck("u2", "u2", True, key_active=False),
    ], min_attesters=2)
    assert status.is_complete is False and status.attested_by == ["u1"]
    assert status.problems == ["attestation-key-revoked"]


def test_one_p256_check_serves_attestations_and_device_key_proofs():
    """devices.rules uses attestation.rules' key check and verifier, with its own message:
    a registration proof never verifies as an attestation, nor the other way round."""
    from backend.attestation import rules as attestation
    from backend.devices import rules as devices
    from tests.device_keys import sign_proof
    from tests.visit_factory import DeviceKeyPair

    assert devices.is_p256_public_jwk is attestation.is_p256_public_jwk
    pair = DeviceKeyPair()
    proof = sign_proof(pair, "u1", "device-1", "nonce")
    assert devices.verify_proof(pair.jwk, "u1", "device-1", "nonce", proof)
    assert attestation.verify_p256(pair.jwk, devices.proof_message("u1", "device-1", "nonce"),
                                   proof)
    digest = "0" * 64
    assert not verify_attestation(pair.jwk, digest, proof)
    assert verify_attestation(pair.jwk, digest, pair.sign(digest))
    assert not devices.verify_proof(pair.jwk, "u1", "device-1", "nonce", pair.sign(digest))
