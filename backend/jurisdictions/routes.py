from backend.auth import rules as roles
from backend.auth.guard import current_caller, require_roles, signed_in
from backend.blueprint import Blueprint
from backend.errors import BODY_PROBLEMS, ProblemError, problems
from backend.jurisdictions import service
from backend.jurisdictions.rules import is_within
from backend.jurisdictions.schemas import (
    JurisdictionSchema,
    SettingsSchema,
    SettingsUpdateSchema,
)

blp = Blueprint("jurisdictions", __name__, url_prefix="/api/jurisdictions",
                description="The county → township → village tree and its settings")


def _in_scope(code: str):
    """Places below the caller, and the caller's own ancestors (whose settings apply)."""
    caller = current_caller()
    if not (caller.covers(code) or is_within(caller.jurisdiction_code, code)):
        raise ProblemError("jurisdiction-not-found", "No such jurisdiction in your area.")
    return caller


@blp.route("", methods=["GET"])
@blp.response(200, JurisdictionSchema(many=True))
@problems(401)
def list_jurisdictions():
    """Your jurisdiction and everything below it."""
    caller = current_caller()
    return service.list_within(caller.jurisdiction_code)


@blp.route("/<string:code>/settings", methods=["GET"])
@blp.response(200, SettingsSchema)
@problems(401, 404)
def get_settings(code):
    """The settings in force here: defaults, overridden by the county, township, village."""
    _in_scope(code)
    service.require(code)
    return {"code": code, "settings": service.effective_settings(code)}


@blp.route("/<string:code>/settings", methods=["PATCH"])
@signed_in
@blp.arguments(SettingsUpdateSchema)
@blp.response(200, SettingsSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404)
def update_settings(body, code):
    """Change settings of a place in your jurisdiction (administrators).

    Values may be stricter than the regulations, never looser (422 `setting-out-of-bounds`
    names the rule); integrity-flag thresholds only at county level (403 `county-level-only`).
    """
    caller = current_caller()
    require_roles(caller, roles.ADMIN)
    if not caller.covers(code):
        raise ProblemError("jurisdiction-not-found", "No such jurisdiction in your area.")
    return {"code": code, "settings": service.update_settings(code, body["settings"], caller)}
