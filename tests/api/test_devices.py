"""Device attestation keys (谁调查谁签字): proof of possession, one per user and device,
listing and revoking (API and CLI), and a revoked key completing no later visit."""

from datetime import timedelta

from sqlalchemy import select

from backend import clock
from backend.audit.models import AuditEvent
from backend.devices import service as devices
from backend.devices.models import DeviceKey
from tests.device_keys import challenge, register_key, registered_key, sign_proof
from tests.visit_factory import DeviceKeyPair, attest, submission

DEVICE = "device-aaaaaaaa"
OTHER_DEVICE = "device-bbbbbbbb"


def problem_of(response, status, slug):
    assert response.status_code == status, response.get_json()
    assert response.get_json()["type"] == slug
    return response.get_json()


# --- challenge and proof of possession -------------------------------------------------

def test_challenge_is_a_fresh_short_lived_nonce(api):
    first = api.post("wenping_fw1", "/api/devices/keys/challenge", json={"device_id": DEVICE})
    assert first.status_code == 201
    body = first.get_json()
    assert len(body["nonce"]) >= 40 and body["device_id"] == DEVICE
    assert body["pin_max_attempts"] == 5
    second = api.post("wenping_fw1", "/api/devices/keys/challenge", json={"device_id": DEVICE})
    assert second.get_json()["nonce"] != body["nonce"]


def test_challenge_needs_sign_in(client):
    response = client.post("/api/devices/keys/challenge", json={"device_id": DEVICE})
    assert response.status_code == 401


def test_registration_without_proof_is_refused(api):
    """The old API took any public key; a key nobody proved to hold is not registered."""
    response = api.post("wenping_fw1", "/api/devices/keys",
                        json={"device_id": DEVICE, "public_key_jwk": DeviceKeyPair().jwk})
    problem = problem_of(response, 422, "validation-failed")
    assert {"nonce", "signature"} <= set(problem["errors"])


def test_bad_signature_is_refused_and_spends_the_nonce(api, db_session):
    pair, impostor = DeviceKeyPair(), DeviceKeyPair()
    user_id = api.user_id("wenping_fw1")
    nonce = challenge(api, "wenping_fw1", DEVICE)
    forged = {"device_id": DEVICE, "public_key_jwk": pair.jwk, "nonce": nonce,
              "signature": sign_proof(impostor, user_id, DEVICE, nonce)}
    problem_of(api.post("wenping_fw1", "/api/devices/keys", json=forged),
               422, "device-key-proof-invalid")
    for garbage in ("", "AAAA", "!" * 86):
        problem_of(api.post("wenping_fw1", "/api/devices/keys",
                            json={**forged, "nonce": challenge(api, "wenping_fw1", DEVICE),
                                  "signature": garbage or "x"}),
                   422, "device-key-proof-invalid")
    honest = {**forged, "signature": sign_proof(pair, user_id, DEVICE, nonce)}
    problem_of(api.post("wenping_fw1", "/api/devices/keys", json=honest),
               422, "device-key-challenge-invalid")
    assert db_session.scalar(select(DeviceKey).where(DeviceKey.user_id == user_id)) is None
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "device_key.proof_failed", AuditEvent.object_id == user_id))


def test_signature_over_another_users_or_devices_message_is_refused(api):
    """The proof names user and device: a signature made for another binding fails."""
    pair = DeviceKeyPair()
    nonce = challenge(api, "wenping_fw1", DEVICE)
    for user_id, device in ((api.user_id("wenping_fw2"), DEVICE),
                            (api.user_id("wenping_fw1"), OTHER_DEVICE)):
        body = {"device_id": DEVICE, "public_key_jwk": pair.jwk, "nonce": nonce,
                "signature": sign_proof(pair, user_id, device, nonce)}
        problem_of(api.post("wenping_fw1", "/api/devices/keys", json=body),
                   422, "device-key-proof-invalid")
        nonce = challenge(api, "wenping_fw1", DEVICE)


def test_replayed_nonce_is_refused(api):
    pair = DeviceKeyPair()
    user_id = api.user_id("wenping_fw1")
    nonce = challenge(api, "wenping_fw1", DEVICE)
    body = {"device_id": DEVICE, "public_key_jwk": pair.jwk, "nonce": nonce,
            "signature": sign_proof(pair, user_id, DEVICE, nonce)}
    assert api.post("wenping_fw1", "/api/devices/keys", json=body).status_code == 201
    other = DeviceKeyPair()
    replay = {**body, "public_key_jwk": other.jwk,
              "signature": sign_proof(other, user_id, DEVICE, nonce)}
    problem_of(api.post("wenping_fw1", "/api/devices/keys", json=replay),
               422, "device-key-challenge-invalid")
    problem_of(api.post("wenping_fw1", "/api/devices/keys", json=body),
               422, "device-key-challenge-invalid")


def test_expired_nonce_is_refused(api, app):
    pair = DeviceKeyPair()
    nonce = challenge(api, "wenping_fw1", DEVICE)
    body = {"device_id": DEVICE, "public_key_jwk": pair.jwk, "nonce": nonce,
            "signature": sign_proof(pair, api.user_id("wenping_fw1"), DEVICE, nonce)}
    seconds = app.config["DEVICE_KEY_CHALLENGE_SECONDS"]
    clock.freeze(clock.now() + timedelta(seconds=seconds + 1))
    try:
        problem_of(api.post("wenping_fw1", "/api/devices/keys", json=body),
                   422, "device-key-challenge-expired")
    finally:
        clock.freeze(None)


def test_other_users_nonce_is_refused(api):
    """A nonce issued to fw2 cannot register a key for fw1, even signed correctly."""
    pair = DeviceKeyPair()
    nonce = challenge(api, "wenping_fw2", DEVICE)
    body = {"device_id": DEVICE, "public_key_jwk": pair.jwk, "nonce": nonce,
            "signature": sign_proof(pair, api.user_id("wenping_fw1"), DEVICE, nonce)}
    problem_of(api.post("wenping_fw1", "/api/devices/keys", json=body),
               422, "device-key-challenge-invalid")


def test_other_devices_nonce_is_refused(api):
    pair = DeviceKeyPair()
    nonce = challenge(api, "wenping_fw1", OTHER_DEVICE)
    body = {"device_id": DEVICE, "public_key_jwk": pair.jwk, "nonce": nonce,
            "signature": sign_proof(pair, api.user_id("wenping_fw1"), DEVICE, nonce)}
    problem_of(api.post("wenping_fw1", "/api/devices/keys", json=body),
               422, "device-key-challenge-invalid")


def test_device_key_must_be_a_p256_public_key(api):
    pair = DeviceKeyPair()
    for bad in ({"kty": "RSA"}, {**pair.jwk, "crv": "P-384"}, {**pair.jwk, "x": "AAAA"},
                {**pair.jwk, "d": "secret"}):
        nonce = challenge(api, "wenping_fw1", DEVICE)
        response = api.post("wenping_fw1", "/api/devices/keys", json={
            "device_id": DEVICE, "public_key_jwk": bad, "nonce": nonce,
            "signature": sign_proof(pair, api.user_id("wenping_fw1"), DEVICE, nonce)})
        problem_of(response, 422, "device-key-invalid")


# --- one key per user and device ---------------------------------------------------------

def test_new_key_for_the_same_user_and_device_revokes_the_old_one(api, db_session):
    _, old = registered_key(api, "wenping_fw1", DEVICE)
    _, elsewhere = registered_key(api, "wenping_fw1", OTHER_DEVICE)
    _, colleague = registered_key(api, "wenping_fw2", DEVICE)
    _, new = registered_key(api, "wenping_fw1", DEVICE)
    keys = {k["id"]: k for k in api.get("wenping_fw1", "/api/devices/keys").get_json()["items"]}
    assert keys[old]["revoked_at"] is not None and keys[old]["revoked_reason"] == "replaced"
    assert keys[new]["revoked_at"] is None and keys[elsewhere]["revoked_at"] is None
    assert db_session.get(DeviceKey, colleague).revoked_at is None
    active = [k for k in keys.values() if k["device_id"] == DEVICE and not k["revoked_at"]]
    assert [k["id"] for k in active] == [new]


def test_keys_read_beside_another_row_equal_the_keys_read_alone(api, db_session):
    """A push of one visit reads its attesters' keys as JSON beside the case (issue 23):
    the same views as `keys_by_id`, times aware and in UTC, a revoked key's included."""
    _, old = registered_key(api, "wenping_fw1", DEVICE)
    _, new = registered_key(api, "wenping_fw1", DEVICE)  # revokes the old one
    _, colleague = registered_key(api, "wenping_fw2", OTHER_DEVICE)
    named = [old, new, colleague, "no-such-key"]
    joined = db_session.scalar(select(devices.keys_joinable(
        db_session.get_bind().dialect.name)), {"key_ids": named})
    from_json = devices.keys_from_joined(joined)
    assert from_json == devices.keys_by_id(named)
    assert from_json[old].revoked_at is not None and from_json[new].revoked_at is None
    assert from_json[old].revoked_at.utcoffset() == timedelta(0)
    assert devices.keys_from_joined(db_session.scalar(select(devices.keys_joinable(
        db_session.get_bind().dialect.name)), {"key_ids": ["no-such-key"]})) == {}


def test_the_same_key_again_is_a_no_op(api):
    pair, key_id = registered_key(api, "wenping_fw1", DEVICE)
    again = register_key(api, "wenping_fw1", DEVICE, pair)
    assert again.status_code == 200 and again.get_json()["id"] == key_id
    assert again.get_json()["revoked_at"] is None


def test_a_key_cannot_be_registered_for_two_users(api):
    """One key pair signs for one person: the first investigator's key cannot also be
    registered as the second's (nor a revoked key brought back)."""
    pair, _ = registered_key(api, "wenping_fw1", DEVICE)
    problem_of(register_key(api, "wenping_fw2", DEVICE, pair), 409, "device-key-in-use")
    registered_key(api, "wenping_fw1", DEVICE)  # replaces `pair`'s key
    problem_of(register_key(api, "wenping_fw1", DEVICE, pair), 409, "device-key-in-use")


def test_registering_with_end_session_ends_that_sign_in(api):
    """Adding an investigator to a colleague's phone must not leave them signed in there."""
    response = register_key(api, "wenping_fw2", DEVICE, end_session=True)
    assert response.status_code == 201
    after = api.get("wenping_fw2", "/api/me")
    problem_of(after, 401, "token-revoked")
    refresh = api.client.post("/api/auth/refresh", headers={
        "Authorization": f"Bearer {api.tokens('wenping_fw2')['refresh_token']}"})
    assert refresh.status_code == 401


# --- listing and revoking ----------------------------------------------------------------

def test_users_list_only_their_own_keys(api):
    _, mine = registered_key(api, "wenping_fw1", DEVICE)
    _, theirs = registered_key(api, "wenping_fw2", DEVICE)
    items = api.get("wenping_fw1", "/api/devices/keys").get_json()["items"]
    assert [k["id"] for k in items] == [mine]
    fw2 = api.user_id("wenping_fw2")
    problem_of(api.get("wenping_fw1", f"/api/devices/keys?user_id={fw2}"), 403, "forbidden")
    problem_of(api.get("wenping_reviewer", f"/api/devices/keys?user_id={fw2}"),
               403, "forbidden")
    assert theirs


def test_admin_lists_keys_of_users_in_their_jurisdiction_only(api):
    _, key_id = registered_key(api, "wenping_fw1", DEVICE)
    fw1 = api.user_id("wenping_fw1")
    items = api.get("wenping_admin", f"/api/devices/keys?user_id={fw1}").get_json()["items"]
    assert [k["id"] for k in items] == [key_id]
    problem_of(api.get("longtoushan_admin", f"/api/devices/keys?user_id={fw1}"),
               404, "user-not-found")
    problem_of(api.get("wenping_admin", "/api/devices/keys?user_id=nobody"),
               404, "user-not-found")


def test_users_revoke_their_own_keys(api, db_session):
    _, key_id = registered_key(api, "wenping_fw1", DEVICE)
    response = api.post("wenping_fw1", f"/api/devices/keys/{key_id}/revoke")
    assert response.status_code == 200
    body = response.get_json()
    assert body["revoked_at"] and body["revoked_reason"] == "revoked"
    again = api.post("wenping_fw1", f"/api/devices/keys/{key_id}/revoke").get_json()
    assert again["revoked_at"] == body["revoked_at"]
    events = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "device_key.revoked", AuditEvent.object_id == key_id)).all()
    assert len(events) == 1 and events[0].actor_id == api.user_id("wenping_fw1")


def test_revoking_someone_elses_key_is_refused_unless_admin_in_scope(api, db_session):
    _, key_id = registered_key(api, "wenping_fw1", DEVICE)
    for username in ("wenping_fw2", "wenping_reviewer", "longtoushan_admin",
                     "county_supervisor"):
        problem_of(api.post(username, f"/api/devices/keys/{key_id}/revoke"),
                   404, "device-key-not-found")
    assert db_session.get(DeviceKey, key_id).revoked_at is None
    problem_of(api.post("wenping_fw1", "/api/devices/keys/no-such-key/revoke"),
               404, "device-key-not-found")
    response = api.post("wenping_admin", f"/api/devices/keys/{key_id}/revoke")
    assert response.status_code == 200 and response.get_json()["revoked_at"]
    key = db_session.get(DeviceKey, key_id)
    assert key.revoked_by_id == api.user_id("wenping_admin")


# --- a revoked key completes no later visit ----------------------------------------------

def _assigned_case(api):
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100")
    return next(c for c in items.get_json()["items"] if c["household"]["home_lat"] is not None
                and c["kind"] != "extreme_poverty")


def _push(api, records, username="wenping_fw1"):
    response = api.post(username, "/api/sync/push",
                        json={"device_id": DEVICE, "records": records})
    return response.get_json()["results"]


def test_revoked_keys_attestation_does_not_complete_a_visit(api):
    case = _assigned_case(api)
    pair1, key1 = registered_key(api, "wenping_fw1", DEVICE)
    pair2, key2 = registered_key(api, "wenping_fw2", DEVICE)
    api.post("wenping_fw2", f"/api/devices/keys/{key2}/revoke")
    record = submission(case)
    attest(record, api.user_id("wenping_fw1"), key1, pair1)
    attest(record, api.user_id("wenping_fw2"), key2, pair2)
    result = _push(api, [record])[0]
    assert result["status"] == "accepted"
    assert result["is_complete"] is False


def test_revoked_keys_later_attestation_record_does_not_complete_a_visit(api):
    """The second investigator signs later from their own phone, after their key was
    revoked (lost phone): the `visit_attestation` does not count."""
    import uuid

    from backend.attestation.canonical import submission_digest

    case = _assigned_case(api)
    pair1, key1 = registered_key(api, "wenping_fw1", DEVICE)
    pair2, key2 = registered_key(api, "wenping_fw2", OTHER_DEVICE)
    record = attest(submission(case), api.user_id("wenping_fw1"), key1, pair1)
    assert _push(api, [record])[0]["is_complete"] is False
    assert api.post("wenping_admin", f"/api/devices/keys/{key2}/revoke").status_code == 200
    digest = submission_digest(record)
    later = {"type": "visit_attestation", "id": str(uuid.uuid4()), "submission_id": record["id"],
             "user_id": api.user_id("wenping_fw2"), "key_id": key2, "digest": digest,
             "signature": pair2.sign(digest)}
    result = _push(api, [later], username="wenping_fw2")[0]
    assert result["is_complete"] is False


def test_attestation_received_before_revocation_keeps_counting(api):
    """Revocation looks forward: what the key vouched for before stays vouched for."""
    case = _assigned_case(api)
    pair1, key1 = registered_key(api, "wenping_fw1", DEVICE)
    pair2, key2 = registered_key(api, "wenping_fw2", DEVICE)
    record = submission(case)
    attest(record, api.user_id("wenping_fw1"), key1, pair1)
    attest(record, api.user_id("wenping_fw2"), key2, pair2)
    assert _push(api, [record])[0]["is_complete"] is True
    api.post("wenping_fw2", f"/api/devices/keys/{key2}/revoke")
    replay = _push(api, [record])[0]
    assert replay["status"] == "duplicate" and replay["is_complete"] is True


# --- CLI ---------------------------------------------------------------------------------

def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_cli_lists_and_revokes_keys(app, api, db_session):
    _, old = registered_key(api, "wenping_fw1", DEVICE)
    _, new = registered_key(api, "wenping_fw1", DEVICE)
    listed = run(app, "list-keys", "--username", "wenping_fw1")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].startswith(new) and "active" in lines[0]
    assert lines[1].startswith(old) and "replaced" in lines[1]
    revoked = run(app, "revoke-key", new)
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in revoked.output
    assert db_session.get(DeviceKey, new).revoked_reason == "revoked"
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "device_key.revoked", AuditEvent.object_id == new)).actor_id is None


def test_cli_names_unknown_users_and_keys(app, db_session):
    unknown_user = run(app, "list-keys", "--username", "nobody")
    assert unknown_user.exit_code != 0 and "nobody" in unknown_user.output
    unknown_key = run(app, "revoke-key", "no-such-key")
    assert unknown_key.exit_code != 0 and "no-such-key" in unknown_key.output
    none_yet = run(app, "list-keys", "--username", "wenping_fw3")
    assert none_yet.exit_code == 0 and "no device keys" in none_yet.output


def test_outstanding_challenges_are_bounded_per_user(api, db_session):
    from sqlalchemy import func

    from backend.devices.models import DeviceKeyChallenge
    from backend.devices.service import MAX_OUTSTANDING_CHALLENGES

    nonces = [challenge(api, "wenping_fw1", DEVICE) for _ in range(MAX_OUTSTANDING_CHALLENGES + 3)]
    held = db_session.scalar(select(func.count()).select_from(DeviceKeyChallenge).where(
        DeviceKeyChallenge.user_id == api.user_id("wenping_fw1")))
    assert held == MAX_OUTSTANDING_CHALLENGES
    assert db_session.get(DeviceKeyChallenge, nonces[-1]) is not None
