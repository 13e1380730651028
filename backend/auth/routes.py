from flask.views import MethodView
from flask_jwt_extended import get_jwt, get_jwt_identity, jwt_required
from flask_smorest import Blueprint

from backend.audit.actor import bind_actor
from backend.auth import service as auth
from backend.auth import throttle
from backend.auth.guard import current_caller, signed_in
from backend.auth.schemas import (
    LoginResultSchema,
    LoginSchema,
    MeSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    TokenSchema,
)
from backend.errors import BODY_PROBLEMS, problems

blp = Blueprint("auth", __name__, url_prefix="/api", description="Sign-in and tokens")


def me_payload(user) -> dict:
    place = auth.place_of(user.jurisdiction_code)
    assert place is not None  # a user's jurisdiction is checked when the user is made
    return {
        "id": user.id, "username": user.username, "display_name": user.display_name,
        "roles": sorted(user.roles),
        "jurisdiction": {"code": place.code, "name": place.name, "level": place.level},
    }


@blp.route("/auth/login", methods=["POST"])
@blp.doc(security=[])
@throttle.limiter.limit(throttle.per_client_limit, deduct_when=throttle.sign_in_failed,
                        on_breach=throttle.on_breach, scope="login-client")
@throttle.limiter.limit(throttle.per_account_limit, key_func=throttle.account_key,
                        deduct_when=throttle.sign_in_failed, on_breach=throttle.on_breach,
                        exempt_when=throttle.signs_in_from_known_device, scope="login-account")
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
    """Trade a refresh token (in the Authorization header) for a new pair of tokens.

    The refresh token sent is used up: store the new one. Sending a used one again
    ends the whole sign-in (someone else holds a copy).
    """
    bind_actor(get_jwt_identity())
    claims = get_jwt()
    return auth.refresh(get_jwt_identity(), claims.get("sid"), claims.get("rti"))


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


@blp.route("/me/password", methods=["POST"])
@signed_in
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@problems(*BODY_PROBLEMS, 401, 403, 429)
def change_password(body):
    """Change your own password (needs the current one); every sign-in of yours ends."""
    caller = current_caller()
    auth.change_password(caller.user_id, body["current_password"], body["new_password"])


@blp.route("/users/<user_id>/password", methods=["POST"])
@signed_in
@blp.arguments(PasswordResetSchema)
@blp.response(204)
@problems(*BODY_PROBLEMS, 401, 403, 404)
def reset_password(body, user_id):
    """An administrator sets a new password for a user of their jurisdiction."""
    auth.reset_password(current_caller(), user_id, body["new_password"])
