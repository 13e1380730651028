from flask import current_app
from flask.views import MethodView
from flask_jwt_extended import get_jwt, get_jwt_identity, jwt_required

from backend.audit.actor import bind_actor
from backend.auth import rules, throttle
from backend.auth import second_factor as factors
from backend.auth import service as auth
from backend.auth.guard import current_caller, current_user, signed_in
from backend.auth.schemas import (
    LoginResultSchema,
    LoginSchema,
    MeSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    RecoveryCodesSchema,
    SecondFactorConfirmSchema,
    SecondFactorStateSchema,
    SignInHistorySchema,
    TokenSchema,
    TotpEnrolmentSchema,
)
from backend.blueprint import Blueprint
from backend.errors import BODY_PROBLEMS, problems

blp = Blueprint("auth", __name__, url_prefix="/api", description="Sign-in and tokens")


def me_payload(user) -> dict:
    place = auth.place_of(user.jurisdiction_code)
    assert place is not None  # a user's jurisdiction is checked when the user is made
    return {
        "id": user.id, "username": user.username, "display_name": user.display_name,
        "roles": sorted(user.roles),
        "jurisdiction": {"code": place.code, "name": place.name, "level": place.level},
        "idle_minutes": (current_app.config["SESSION_IDLE_MINUTES"] or None)
        if rules.has_idle_timeout(user.roles) else None,
        "second_factor_due_at": user.second_factor_due_at,
    }


@blp.route("/auth/login", methods=["POST"])
@blp.doc(security=[])
@throttle.limiter.limit(throttle.per_client_limit, deduct_when=throttle.sign_in_failed,
                        on_breach=throttle.on_breach, scope="login-client")
@throttle.limiter.shared_limit(throttle.per_account_limit, key_func=throttle.account_key,
                               deduct_when=throttle.sign_in_failed, on_breach=throttle.on_breach,
                               exempt_when=throttle.signs_in_from_known_device,
                               scope=throttle.ACCOUNT_SCOPE)
@blp.arguments(LoginSchema)
@blp.response(200, LoginResultSchema)
@problems(*BODY_PROBLEMS, 401, 403, 423, 429)
def login(body):
    """Sign in with username and password; returns an access and a refresh token.

    Approvers, county supervisors, administrators and anyone who enrolled also need a TOTP
    code (or a one-time recovery code): a right password without it answers only
    `second_factor` (no token), and the client sends the password again with the code.
    """
    user, result = auth.login(body["username"], body["password"], body.get("device_id"),
                              body.get("totp_code"), body.get("recovery_code"))
    bind_actor(user.id)
    if "access_token" not in result:
        return result
    return {**result, "user": me_payload(user)}


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
    """Revoke this sign-in: its access and refresh tokens stop working at once (on the
    server's other worker processes within REVOCATION_POLL_SECONDS, 1 s by default)."""
    bind_actor(get_jwt_identity())
    auth.logout(get_jwt_identity(), get_jwt().get("sid"))


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    @problems(401)
    def get(self):
        """The signed-in user, roles and jurisdiction."""
        return me_payload(current_user())


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


@blp.route("/me/sign-ins")
@signed_in
@blp.response(200, SignInHistorySchema)
@problems(401)
def my_sign_ins():
    """Your sign-in before this one, and the failed sign-ins on your account since it."""
    history = auth.sign_in_history(current_caller().user_id, get_jwt().get("sid"))
    previous = ({"at": history.previous_at, "ip": history.previous_ip}
                if history.previous_at else None)
    return {"previous_sign_in": previous, "failures_since": len(history.failures),
            "failures": [{"at": at, "ip": ip} for at, ip in history.failures[:20]]}


@blp.route("/me/second-factor")
class MySecondFactor(MethodView):
    @signed_in
    @blp.response(200, SecondFactorStateSchema)
    @problems(401)
    def get(self):
        """Whether your two-step sign-in is set up (or required, and by when)."""
        return factors.state_of(current_user())

    @signed_in
    @blp.response(201, TotpEnrolmentSchema)
    @problems(401, 409)
    def post(self):
        """Start setting up two-step sign-in: a new secret and its QR code for the app."""
        return factors.begin(current_user(), keep_pending=False)


@blp.route("/me/second-factor/confirm", methods=["POST"])
@signed_in
@throttle.limiter.limit(throttle.per_client_limit, deduct_when=throttle.sign_in_failed,
                        on_breach=throttle.on_breach, scope="login-client")
@blp.arguments(SecondFactorConfirmSchema)
@blp.response(200, RecoveryCodesSchema)
@problems(*BODY_PROBLEMS, 401, 409, 429)
def confirm_second_factor(body):
    """Finish setting up with the app's first code; the recovery codes are shown this once."""
    return {"recovery_codes": factors.confirm_signed_in(current_user(), body["code"])}


@blp.route("/users/<user_id>/second-factor", methods=["DELETE"])
@signed_in
@blp.response(204)
@problems(401, 403, 404)
def reset_second_factor(user_id):
    """Another administrator removes a user's two-step sign-in (a lost phone); audited.
    Their sign-ins end; a role that needs it enrols again at the next sign-in."""
    auth.reset_second_factor(current_caller(), user_id)
