"""A `visit_attestation` record (issue 8, 谁调查谁签字): only the signer sends their own
signature, only as a member of the visit's team, only while the case is open; a signature
under a revoked key says so (attestation-key-revoked)."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import func, select, update

from backend.attestation.canonical import submission_digest
from backend.audit.models import AuditEvent
from backend.cases.models import Case
from backend.visits.models import VisitAttestation
from tests.api.test_photos import PHOTOS
from tests.api.test_sync import assigned_case, push
from tests.device_keys import registered_key
from tests.visit_factory import attest, submission


def _half_signed_visit(api):
    """A visit pushed by fw1 with fw1's signature; fw2's key is registered."""
    case = assigned_case(api)
    pair1, key1 = registered_key(api, "wenping_fw1")
    pair2, key2 = registered_key(api, "wenping_fw2", "device-bbbbbbbb")
    record = attest(submission(case), api.user_id("wenping_fw1"), key1, pair1)
    first = push(api, [record]).get_json()["results"][0]
    assert first["status"] == "accepted" and first["is_complete"] is False
    return case, record, pair2, key2


def _signature(api, record, signer, key_id, pair):
    digest = submission_digest(record)
    return {"type": "visit_attestation", "id": str(uuid.uuid4()), "submission_id": record["id"],
            "user_id": api.user_id(signer), "key_id": key_id, "digest": digest,
            "signature": pair.sign(digest)}


def _attestations(db_session, record):
    return db_session.scalar(select(func.count()).select_from(VisitAttestation).where(
        VisitAttestation.submission_id == record["id"]))


def _attested_audits(db_session, record):
    return db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_id == record["id"], AuditEvent.action == "visit.attested"))


def _rejected(result, slug, status):
    assert result["status"] == "rejected", result
    assert (result["problem"]["type"], result["problem"]["status"]) == (slug, status)


def test_a_supervisor_cannot_send_a_field_workers_attestation(api, db_session):
    """The county supervisor holds fw2's signed record (a copied phone): refused, not audited."""
    _, record, pair2, key2 = _half_signed_visit(api)
    in_their_name = _signature(api, record, "wenping_fw2", key2, pair2)
    result = push(api, [in_their_name], username="county_supervisor").get_json()["results"][0]
    _rejected(result, "attestation-not-yours", 403)
    assert _attestations(db_session, record) == 1
    assert _attested_audits(db_session, record) == 0


def test_a_team_member_cannot_send_a_colleagues_attestation(api, db_session):
    _, record, pair2, key2 = _half_signed_visit(api)
    for_fw2 = _signature(api, record, "wenping_fw2", key2, pair2)
    result = push(api, [for_fw2], username="wenping_fw1").get_json()["results"][0]
    _rejected(result, "attestation-not-yours", 403)
    assert _attestations(db_session, record) == 1


def test_only_a_team_member_may_attest(api, db_session):
    _, record, _, _ = _half_signed_visit(api)
    pair3, key3 = registered_key(api, "wenping_fw3", "device-cccccccc")  # not on the team
    own = _signature(api, record, "wenping_fw3", key3, pair3)
    result = push(api, [own], username="wenping_fw3").get_json()["results"][0]
    _rejected(result, "attestation-not-team-member", 403)
    assert _attestations(db_session, record) == 1
    assert _attested_audits(db_session, record) == 0


def test_no_attestation_once_the_case_is_decided(api, db_session):
    case, record, pair2, key2 = _half_signed_visit(api)
    db_session.execute(update(Case).where(Case.id == case["id"]).values(status="approved"))
    own = _signature(api, record, "wenping_fw2", key2, pair2)
    result = push(api, [own], username="wenping_fw2").get_json()["results"][0]
    _rejected(result, "case-closed", 409)
    assert _attestations(db_session, record) == 1


def test_the_signer_on_the_team_of_an_open_case_completes_the_visit(api, db_session):
    _, record, pair2, key2 = _half_signed_visit(api)
    own = _signature(api, record, "wenping_fw2", key2, pair2)
    result = push(api, [own], username="wenping_fw2").get_json()["results"][0]
    assert result["status"] == "accepted" and result["is_complete"] is True
    assert _attested_audits(db_session, record) == 1


def test_a_revoked_key_says_so(api, db_session):
    """Revoked before the push arrived: stored, not counted, and named for what it is."""
    _, record, pair2, key2 = _half_signed_visit(api)
    assert api.post("wenping_fw2", f"/api/devices/keys/{key2}/revoke").status_code == 200
    own = _signature(api, record, "wenping_fw2", key2, pair2)
    result = push(api, [own], username="wenping_fw2").get_json()["results"][0]
    assert result["status"] == "accepted" and result["is_complete"] is False
    assert "attestation-key-revoked" in result["attestation_problems"]
    assert "attestation-signature-invalid" not in result["attestation_problems"]
    row = db_session.get(VisitAttestation, own["id"])
    assert row.is_signature_valid is False  # it vouches for nothing


def test_a_revoked_key_inside_a_submission_says_so(api):
    case = assigned_case(api)
    pair1, key1 = registered_key(api, "wenping_fw1")
    pair2, key2 = registered_key(api, "wenping_fw2", "device-bbbbbbbb")
    assert api.post("wenping_fw2", f"/api/devices/keys/{key2}/revoke").status_code == 200
    record = submission(case)
    attest(record, api.user_id("wenping_fw1"), key1, pair1)
    attest(record, api.user_id("wenping_fw2"), key2, pair2)
    result = push(api, [record]).get_json()["results"][0]
    assert result["is_complete"] is False
    assert result["attestation_problems"] == ["attestation-key-revoked"]


# --- the signature image belongs to the signer, their phone or the visit -------------------------

def _image(api, name, username, device_id=None):
    raw = (PHOTOS / name).read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    headers = {"Content-Type": "image/jpeg", **({"X-Device-Id": device_id} if device_id else {})}
    assert api.put(username, f"/api/photos/{sha}", data=raw,
                   headers=headers).status_code == 201
    return sha


def test_a_signature_image_someone_else_uploaded_is_refused(api, db_session):
    _, record, pair2, key2 = _half_signed_visit(api)
    fw1s = _image(api, "other_scene.jpg", "wenping_fw1")  # fw1's phone, not fw2's signing one
    signed = {**_signature(api, record, "wenping_fw2", key2, pair2),
              "signature_image_sha256": fw1s}
    result = push(api, [signed], username="wenping_fw2").get_json()["results"][0]
    _rejected(result, "signature-image-not-yours", 403)
    assert list(result["problem"]["errors"]) == ["signature_image_sha256"]
    assert _attestations(db_session, record) == 1

    own = _image(api, "same_scene_a.jpg", "wenping_fw2")
    signed = {**_signature(api, record, "wenping_fw2", key2, pair2),
              "signature_image_sha256": own}
    assert push(api, [signed], username="wenping_fw2").get_json()["results"][0][
        "status"] == "accepted"


def test_a_signature_image_from_the_signing_phone_counts(api):
    """fw2 signs on fw1's phone: the image came from the device the signing key lives on."""
    _, record, pair2, key2 = _half_signed_visit(api)
    on_the_phone = _image(api, "same_scene_b.jpg", "wenping_fw1", device_id="device-bbbbbbbb")
    signed = {**_signature(api, record, "wenping_fw2", key2, pair2),
              "signature_image_sha256": on_the_phone}
    assert push(api, [signed], username="wenping_fw2").get_json()["results"][0][
        "status"] == "accepted"


def test_a_submission_naming_another_teams_signature_image_is_refused(api):
    case = assigned_case(api)
    pair1, key1 = registered_key(api, "wenping_fw1")
    theirs = _image(api, "other_scene.jpg", "longtoushan_fw1")
    record = attest(submission(case), api.user_id("wenping_fw1"), key1, pair1)
    record["attestations"][0]["signature_image_sha256"] = theirs
    result = push(api, [record]).get_json()["results"][0]
    _rejected(result, "signature-image-not-yours", 403)
    assert list(result["problem"]["errors"]) == ["attestations.0.signature_image_sha256"]
    # The same picture filed as one of this visit's photos may sign it (the same visit).
    visit_photo = _image(api, "visit_gps.jpg", "wenping_fw2")  # fw2 filed it, fw1 signs with it
    record["photos"] = [{"sha256": visit_photo, "field": "house_photo"}]
    record = attest({**record, "attestations": []}, api.user_id("wenping_fw1"), key1, pair1)
    record["attestations"][0]["signature_image_sha256"] = visit_photo
    assert push(api, [record]).get_json()["results"][0]["status"] == "accepted"
