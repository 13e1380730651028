from flask.views import MethodView
from flask_jwt_extended import get_jwt, get_jwt_identity, jwt_required
from flask_smorest import Blueprint

from backend.auth import service as auth
from backend.auth.guard import current_caller
from backend.auth.schemas import (
    LoginResultSchema,
    LoginSchema,
    MeSchema,
    TokenSchema,
)
from backend.jurisdictions import service as jurisdictions
from backend.web.hooks import bind_actor

blp = Blueprint("auth", __name__, url_prefix="/api", description="Sign-in and tokens")


def me_payload(user) -> dict:
    place = jurisdictions.get(user.jurisdiction_code)
    return {
        "id": user.id, "username": user.username, "display_name": user.display_name,
        "roles": sorted(user.roles),
        "jurisdiction": {"code": place.code, "name": place.name, "level": place.level},
    }


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, LoginResultSchema)
def login(body):
    """Sign in with username and password; returns an access and a refresh token."""
    user, tokens = auth.login(body["username"], body["password"], body.get("device_id"))
    bind_actor(user.id)
    return {**tokens, "user": me_payload(user)}


@blp.route("/auth/refresh", methods=["POST"])
@jwt_required(refresh=True)
@blp.response(200, TokenSchema)
def refresh():
    """Trade a refresh token (in the Authorization header) for a new access token."""
    bind_actor(get_jwt_identity())
    return auth.refresh(get_jwt_identity(), get_jwt().get("sid"))


@blp.route("/auth/logout", methods=["POST"])
@jwt_required(verify_type=False)
@blp.response(204)
def logout():
    """Revoke this sign-in: its access and refresh tokens stop working at once."""
    bind_actor(get_jwt_identity())
    auth.logout(get_jwt_identity(), get_jwt().get("sid"))


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """The signed-in user, roles and jurisdiction."""
        current_caller()
        from flask import g

        return me_payload(g.doorstep_user)

