from flask import request

from backend import versions
from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.errors import BODY_PROBLEMS, ETAG_HEADER, IF_MATCH_PARAMETER, problems
from backend.retention import service
from backend.retention.schemas import (
    LegalHoldCreateSchema,
    LegalHoldLiftSchema,
    LegalHoldQuerySchema,
    LegalHoldSchema,
    PurgeReportSchema,
    RetentionSettingChangeSchema,
    RetentionSettingSchema,
)

blp = Blueprint("retention", __name__, url_prefix="/api/retention",
                description="How long each kind of personal data is kept, the nightly purge's "
                            "dry run, and legal holds per case (county level)")


@blp.route("/settings", methods=["GET"])
@signed_in
@blp.response(200, RetentionSettingSchema(many=True))
@problems(401, 403)
def list_settings():
    """Every kind of data with its retention, default, floor and their source."""
    return service.list_settings(current_caller())


@blp.route("/settings/<string:kind>", methods=["PUT"])
@signed_in
@blp.arguments(RetentionSettingChangeSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, RetentionSettingSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 412, 428)
def change_setting(body, kind):
    """Set one kind's retention in days (county administrators). `If-Match` carries the
    setting's version ("0" while the default applies); under the kind's floor: 422."""
    setting = service.set_days(current_caller(), kind, body["days"],
                               request.headers.get("If-Match"))
    return setting, 200, versions.etag(setting.version)


@blp.route("/purge-preview", methods=["GET"])
@signed_in
@blp.response(200, PurgeReportSchema)
@problems(401, 403)
def purge_preview():
    """The dry run: what tonight's purge would remove, kind by kind (counts and case ids,
    never content)."""
    return service.report_for(current_caller())


@blp.route("/holds", methods=["GET"])
@signed_in
@blp.arguments(LegalHoldQuerySchema, location="query")
@blp.response(200, LegalHoldSchema(many=True))
@problems(401, 403, 422)
def list_holds(query):
    """Legal holds in the caller's area (standing ones, or all with include_lifted)."""
    return service.holds(current_caller(), query["include_lifted"])


@blp.route("/holds", methods=["POST"])
@signed_in
@blp.arguments(LegalHoldCreateSchema)
@blp.response(201, LegalHoldSchema, description="The case is now held")
@blp.alt_response(200, schema=LegalHoldSchema, success=True,
                  description="The case was held already: its standing hold")
@problems(*BODY_PROBLEMS, 401, 403, 404)
def set_hold(body):
    """Hold a case: nothing of it is purged until the hold is lifted (audited, with a
    reason)."""
    hold, created = service.set_hold(current_caller(), body["case_id"], body["reason"])
    return hold, 201 if created else 200


@blp.route("/holds/<string:hold_id>/lift", methods=["POST"])
@signed_in
@blp.arguments(LegalHoldLiftSchema)
@blp.response(200, LegalHoldSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409)
def lift_hold(body, hold_id):
    """Lift a hold (audited, with a reason); the next purge reaches the case again."""
    return service.lift_hold(current_caller(), hold_id, body["reason"])
