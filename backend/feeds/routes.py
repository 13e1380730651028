from flask import request

from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.dbtypes import writes_on_read
from backend.errors import BODY_PROBLEMS, problems
from backend.feeds import service
from backend.feeds.schemas import (
    DecisionPageSchema,
    FeedQuerySchema,
    FeedTokenCreateSchema,
    FeedTokenIssuedSchema,
    FeedTokenSchema,
)

blp = Blueprint("feeds", __name__, url_prefix="/api/feeds",
                description="Feeds for other departments (一件事联办): decisions in order, "
                            "read with service tokens a county administrator issues")


@blp.route("/tokens", methods=["POST"])
@signed_in
@blp.arguments(FeedTokenCreateSchema)
@blp.response(201, FeedTokenIssuedSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404)
def issue_token(body):
    """Issue a service token for one feed and one jurisdiction (county administrators). The
    token is in this answer only; the server keeps its hash."""
    token, text = service.create_token(current_caller(), body)
    return {**{name: getattr(token, name) for name in FeedTokenSchema().fields},
            "token": text}


@blp.route("/tokens", methods=["GET"])
@signed_in
@blp.response(200, FeedTokenSchema(many=True))
@problems(401, 403)
def list_tokens():
    """The feed tokens of the caller's county, revoked ones included (never their secret)."""
    return service.list_tokens(current_caller())


@blp.route("/tokens/<string:token_id>", methods=["DELETE"])
@signed_in
@blp.response(200, FeedTokenSchema)
@problems(401, 403, 404)
def revoke_token(token_id):
    """Revoke a token: it reads nothing from now on (county administrators)."""
    return service.revoke_token(current_caller(), token_id)


@blp.route("/decisions", methods=["GET"])
@writes_on_read  # audited (who read or downloaded what), so it writes
@blp.doc(security=[{"feedToken": []}])
@blp.arguments(FeedQuerySchema, location="query")
@blp.response(200, DecisionPageSchema)
@problems(400, 401, 403, 422)
def decisions(query):
    """Decisions (approve, refuse, stop, adjust) of the token's jurisdiction in the order they
    were committed, after ``cursor``, masked for the token's purpose. Read with a service
    token (Authorization: Bearer dsf_…); every read is audited."""
    token = service.authenticate(request.headers.get("Authorization"), "decisions")
    return service.read(token, query["cursor"], query["limit"])
