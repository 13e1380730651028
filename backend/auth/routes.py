from flask.views import MethodView
from flask_jwt_extended import get_jwt, get_jwt_identity, jwt_required
from flask_smorest import Blueprint

from backend.auth import service as auth
from backend.auth.guard import current_caller, signed_in
from backend.auth.schemas import (
    DeviceKeyCreateSchema,
    DeviceKeySchema,
    LoginResultSchema,
    LoginSchema,
    MeSchema,
    TokenSchema,
)
from backend.errors import BODY_PROBLEMS, problems
from backend.jurisdictions import service as jurisdictions
from backend.web.hooks import bind_actor

blp = Blueprint("auth", __name__, url_prefix="/api", description="Sign-in, tokens and devices")


def me_payload(user) -> dict:
    place = jurisdictions.get(user.jurisdiction_code)
    return {
        "id": user.id, "username": user.username, "display_name": user.display_name,
        "roles": sorted(user.roles),
        "jurisdiction": {"code": place.code, "name": place.name, "level": place.level},
    }


@blp.route("/auth/login", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(LoginSchema)
@blp.response(200, LoginResultSchema)
@problems(*BODY_PROBLEMS, 401, 403, 423, 429)
def login(body):
    """Sign in with username and password; returns an access and a refresh token."""
    user, tokens = auth.login(body["username"], body["password"], body.get("device_id"))
    bind_actor(user.id)
    return {**tokens, "user": me_payload(user)}


@blp.route("/auth/refresh", methods=["POST"])
@jwt_required(refresh=True)
@blp.response(200, TokenSchema)
@problems(401)
def refresh():
    """Trade a refresh token (in the Authorization header) for a new access token."""
    bind_actor(get_jwt_identity())
    return auth.refresh(get_jwt_identity(), get_jwt().get("sid"))


@blp.route("/auth/logout", methods=["POST"])
@jwt_required(verify_type=False)
@blp.response(204)
@problems(401)
def logout():
    """Revoke this sign-in: its access and refresh tokens stop working at once."""
    bind_actor(get_jwt_identity())
    auth.logout(get_jwt_identity(), get_jwt().get("sid"))


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    @problems(401)
    def get(self):
        """The signed-in user, roles and jurisdiction."""
        current_caller()
        from flask import g

        return me_payload(g.doorstep_user)


@blp.route("/devices/keys", methods=["POST"])
@signed_in
@blp.arguments(DeviceKeyCreateSchema)
@blp.response(201, DeviceKeySchema)
@problems(*BODY_PROBLEMS, 401)
def register_key(body):
    """Register this device's attestation public key for the signed-in user."""
    caller = current_caller()
    return auth.register_device_key(caller.user_id, body["device_id"], body["public_key_jwk"])
