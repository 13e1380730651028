from flask import current_app
from flask_jwt_extended import get_jwt

from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.devices import service
from backend.devices.schemas import (
    ChallengeCreateSchema,
    ChallengeSchema,
    DeviceKeyCreateSchema,
    DeviceKeyListSchema,
    DeviceKeyQuerySchema,
    DeviceKeySchema,
)
from backend.errors import BODY_PROBLEMS, problems

blp = Blueprint("devices", __name__, url_prefix="/api/devices",
                description="Attestation keys held by devices (谁调查谁签字)")


@blp.route("/keys/challenge", methods=["POST"])
@signed_in
@blp.arguments(ChallengeCreateSchema)
@blp.response(201, ChallengeSchema)
@problems(*BODY_PROBLEMS, 401, 429)
def challenge(body):
    """A single-use nonce, valid a few minutes, that a new key signs to be registered."""
    caller = current_caller()
    issued = service.issue_challenge(caller.user_id, body["device_id"])
    return {"nonce": issued.nonce, "device_id": issued.device_id,
            "expires_at": issued.expires_at,
            "pin_max_attempts": current_app.config["PIN_MAX_ATTEMPTS"]}


@blp.route("/keys", methods=["POST"])
@signed_in
@blp.arguments(DeviceKeyCreateSchema)
@blp.response(201, DeviceKeySchema)
@blp.alt_response(200, schema=DeviceKeySchema, description="This key was already registered")
@problems(*BODY_PROBLEMS, 401, 409)
def register_key(body):
    """Register this device's attestation key, proving possession by signing a challenge.

    Replaces (revokes) your previous key on this device.
    """
    caller = current_caller()
    key, is_new = service.register(caller.user_id, get_jwt().get("sid"), body["device_id"],
                                   body["public_key_jwk"], body["nonce"], body["signature"],
                                   body["end_session"])
    return key, 201 if is_new else 200


@blp.route("/keys", methods=["GET"])
@signed_in
@blp.arguments(DeviceKeyQuerySchema, location="query")
@blp.response(200, DeviceKeyListSchema)
@problems(401, 403, 404, 422)
def list_keys(query):
    """Your device keys, newest first; an admin may name a user of their jurisdiction."""
    caller = current_caller()
    return {"items": service.list_keys(caller, query["user_id"])}


@blp.route("/keys/<key_id>/revoke", methods=["POST"])
@signed_in
@blp.response(200, DeviceKeySchema)
@problems(401, 403, 404)
def revoke_key(key_id):
    """Revoke a key: it completes no visit received from now on."""
    caller = current_caller()
    return service.revoke(caller, key_id)
