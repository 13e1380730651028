from marshmallow import RAISE

from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.errors import BODY_PROBLEMS, problems
from backend.personal_data import service
from backend.personal_data.schemas import (
    CatalogueEntrySchema,
    ConsentCreateSchema,
    ConsentSchema,
    CorrectionCreateSchema,
    CorrectionDecisionSchema,
    CorrectionSchema,
    ExportAuthorisationCreateSchema,
    ExportAuthorisationSchema,
    ExporterSchema,
    OwnViewSchema,
    ReadQuerySchema,
    ReadSchema,
    RevealCreateSchema,
    RevealSchema,
)
from backend.privacy import catalogue

blp = Blueprint("personal_data", __name__, url_prefix="/api/personal-data",
                description="Personal data: the sensitivity catalogue, reveals with a purpose, "
                            "authorised full exports, and a recipient's own view (PIPL)")


@blp.route("/catalogue", methods=["GET"])
@signed_in
@blp.response(200, CatalogueEntrySchema(many=True))
@problems(401)
def list_catalogue():
    """Every personal field with its sensitivity mark and where the mark comes from."""
    return [{"key": key, "mark": entry.mark, "source": entry.source}
            for key, entry in sorted(catalogue.FIELDS.items())]


@blp.route("/reveals", methods=["POST"])
@signed_in
@blp.arguments(RevealCreateSchema)
@blp.response(200, RevealSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404)
def reveal(body):
    """显示完整号码: one member's full ID or phone number, for a purpose from the list;
    audited as a read (who, whose, which field, purpose, when)."""
    return service.reveal(current_caller(), body["household_id"], body["member_id"],
                          body["field"], body["purpose"])


@blp.route("/reads", methods=["GET"])
@signed_in
@blp.arguments(ReadQuerySchema, location="query", unknown=RAISE)
@blp.response(200, ReadSchema(many=True))
@problems(401, 403, 422)
def list_reads(query):
    """Reveals and full exports of the caller's jurisdiction, newest first, filterable by
    person and household (county supervisors)."""
    return service.report(current_caller(), query)


@blp.route("/export-authorisations", methods=["POST"])
@signed_in
@blp.arguments(ExportAuthorisationCreateSchema)
@blp.response(201, ExportAuthorisationSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404)
def authorise_export(body):
    """An approver lets one person make one full (unmasked) export within a day, for a
    purpose; the export names it inside the file."""
    return service.authorise_export(current_caller(), body["exporter_id"], body["purpose"])


@blp.route("/export-authorisations", methods=["GET"])
@signed_in
@blp.response(200, ExportAuthorisationSchema(many=True))
@problems(401)
def list_export_authorisations():
    """Authorisations given to you (to spend on one full export) or given by you."""
    return service.export_authorisations(current_caller())


@blp.route("/exporters", methods=["GET"])
@signed_in
@blp.response(200, ExporterSchema(many=True))
@problems(401, 403)
def list_exporters():
    """Staff of your area an approver may authorise a full export for."""
    return service.exporters(current_caller())


@blp.route("/own/<string:household_id>", methods=["GET"])
@signed_in
@blp.response(200, OwnViewSchema)
@problems(401, 403, 404)
def own_view(household_id):
    """A recipient's own household: members, decisions with reasons, check-ins, which staff
    saw a full ID number and when, correction requests (PIPL Art. 44-46). Another
    household is 404."""
    return service.own_view(current_caller(), household_id)


@blp.route("/corrections", methods=["POST"])
@signed_in
@blp.arguments(CorrectionCreateSchema)
@blp.response(201, CorrectionSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409)
def request_correction(body):
    """A recipient asks to correct what is held; it becomes a task on the assistant's desk.
    Retrying with the same `id` is safe."""
    return service.request_correction(current_caller(), {**body, "id": str(body["id"])})


@blp.route("/corrections", methods=["GET"])
@signed_in
@blp.response(200, CorrectionSchema(many=True))
@problems(401, 403)
def correction_desk():
    """Open correction requests of the caller's jurisdiction (village assistants)."""
    return service.correction_desk(current_caller())


@blp.route("/corrections/<string:request_id>/decision", methods=["POST"])
@signed_in
@blp.arguments(CorrectionDecisionSchema)
@blp.response(200, CorrectionSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409)
def decide_correction(body, request_id):
    """Corrected or refused, with a note the recipient reads."""
    return service.decide_correction(current_caller(), request_id, body)


@blp.route("/biometric-consent", methods=["GET"])
@signed_in
@blp.response(200, ConsentSchema)
@problems(401, 403)
def get_consent():
    """The recipient's choice about face matching and the current text's version."""
    return service.consent(current_caller())


@blp.route("/biometric-consent", methods=["POST"])
@signed_in
@blp.arguments(ConsentCreateSchema)
@blp.response(200, ConsentSchema)
@problems(*BODY_PROBLEMS, 401, 403, 409)
def decide_consent(body):
    """Give or decline separate consent to face matching (PIPL Art. 29). Declining is never
    flagged: check in with the village assistant or at a home visit instead."""
    return service.decide_consent(current_caller(), body)


@blp.route("/biometric-consent", methods=["DELETE"])
@signed_in
@blp.response(200, ConsentSchema)
@problems(401, 403)
def revoke_consent():
    """Revoke consent: face matching stops and its stored results are deleted."""
    return service.revoke_consent(current_caller())
