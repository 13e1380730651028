import base64
import binascii
import hashlib
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backend.cases.rules import STATUSES
from backend.cases.schemas import CaseSchema
from backend.workflow.panel_rules import ATTENDANCE, SIGNATURE_KINDS
from backend.workflow.rules import CATEGORIES, REVIEW_METHODS, REVIEW_TIERS

MAX_SIGNATURE_BASE64 = 40_000  # a signature pad PNG is a few kilobytes
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="must be a lowercase hex SHA-256")
MONTH = validate.Regexp(r"^20\d\d-(0[1-9]|1[0-2])$", error="must be YYYY-MM")
TASK_NAMES = ("refusal_letter_sent", "emergency_signatures_completed", "special_case_filed",
              "temporary_aid_paid")
DOCUMENT_KINDS = ("missing_documents_notice", "public_notice", "refusal_letter", "stop_notice",
                  "approval_notice", "emergency_record", "approval_public_notice")


def yuan(minimum: int, maximum: int, positive: bool = False):
    """A money range check (a plain function: apispec would print a Decimal range as text)."""
    def check(value: Decimal) -> None:
        if value < minimum or value > maximum or (positive and value <= 0):
            raise ValidationError(f"must be {'above' if positive else 'at least'} {minimum} "
                                  f"and at most {maximum} yuan")
    return check


Reasons = fields.List(fields.String(validate=validate.Length(min=1, max=500)),
                      validate=validate.Length(max=20), load_default=list)


class ProposalSchema(Schema):
    per_capita_income_yuan = fields.Decimal(
        validate=yuan(0, 1_000_000), metadata={
            "description": "household monthly per-capita income (dibao-type kinds); the "
                           "amount is (standard − this) × members, rounded per the setting"})
    amount_yuan = fields.Decimal(validate=yuan(0, 1_000_000), metadata={
        "description": "temporary aid (expenditure): the proposed one-off amount"})


class SignatureSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(SIGNATURE_KINDS), metadata={
        "description": "scan: a photo of the signed paper (uploaded via /api/photos, given by "
                       "its sha256); on_screen: signed on the desk's signature pad (the PNG "
                       "itself, kept with the record; its sha256 is computed here)"})
    sha256 = fields.String(load_default=None, validate=SHA256)
    image_png_base64 = fields.String(load_default=None,
                                     validate=validate.Length(max=MAX_SIGNATURE_BASE64))

    @validates_schema
    def _evidence(self, data, **_):
        if data["kind"] == "scan" and not data.get("sha256"):
            raise ValidationError("a scan is named by its photo's sha256", "sha256")
        if data["kind"] == "on_screen":
            image = data.get("image_png_base64")
            if not image:
                raise ValidationError("an on-screen signature sends its image",
                                      "image_png_base64")
            try:
                png = base64.b64decode(image, validate=True)
            except (binascii.Error, ValueError) as bad:
                raise ValidationError("not base64", "image_png_base64") from bad
            if not png.startswith(b"\x89PNG\r\n\x1a\n"):
                raise ValidationError("not a PNG image", "image_png_base64")
            digest = hashlib.sha256(png).hexdigest()
            if data.get("sha256") not in (None, digest):
                raise ValidationError("does not match the image", "sha256")
            data["sha256"] = digest


class AttendanceSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(ATTENDANCE))
    reason = fields.String(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "why the member was absent or replaced"})
    substitute_name = fields.String(load_default=None, validate=validate.Length(max=50))
    signature = fields.Nested(SignatureSchema, load_default=None, metadata={
        "description": "whoever sat signs (present or substitute)"})


class PanelRecordSchema(Schema):
    held_on = fields.Date(required=True, metadata={
        "description": "after intake and the draw, not in the future; a special case's "
                       "within 5 working days of intake (001)"})
    attendance = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=36)),
        values=fields.Nested(AttendanceSchema), load_default=dict,
        validate=validate.Length(max=60), metadata={
            "description": "one entry per drawn member (by pool member id); the counts "
                           "(members, cadres, group leader, discipline officer) are derived "
                           "from it, never typed (004)"})
    opinion = fields.String(validate=validate.Length(max=2000), load_default=None)


class ObjectionSchema(Schema):
    raised_by_name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    content = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class EmergencySchema(Schema):
    recipient_name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    amount_yuan = fields.Decimal(required=True,
                                 validate=yuan(0, 1_000_000, positive=True),
                                 metadata={"description": "at most the cap (001: 5,000 yuan); "
                                                          "above it: 422 amount-above-cap"})


class ReviewRecordSchema(Schema):
    method = fields.String(validate=validate.OneOf(REVIEW_METHODS), load_default=None,
                           metadata={"description": "how the household is reviewed (004)"})
    findings = fields.String(validate=validate.Length(min=1, max=2000), load_default=None,
                             metadata={"description": "what the review found"})


class CaseTransitionSchema(Schema):
    to = fields.String(required=True, validate=validate.OneOf(STATUSES), metadata={
        "description": "the target state; allowed moves are in the workflow view's "
                       "`allowed_transitions`. A move not in the table: 409 "
                       "transition-not-allowed naming both states"})
    reasons = Reasons
    proposal = fields.Nested(ProposalSchema, load_default=None, metadata={
        "description": "moving to `reviewing` (preliminary review recorded)"})
    panel = fields.Nested(PanelRecordSchema, load_default=None, metadata={
        "description": "moving from `panel_review` to `reviewing` only (else 409 "
                       "panel-outside-step): the drawn panel's attendance and signatures"})
    objection = fields.Nested(ObjectionSchema, load_default=None, metadata={
        "description": "moving from `public_notice` back to `investigating`"})
    emergency = fields.Nested(EmergencySchema, load_default=None, metadata={
        "description": "emergency aid approved from `accepted` (002)"})
    bank_account = fields.String(validate=validate.Regexp(r"^[0-9A-Za-z]{6,34}$"),
                                 load_default=None)
    review = fields.Nested(ReviewRecordSchema, load_default=None, metadata={
        "description": "a periodic review: the method when it starts, the findings when "
                       "they are recorded"})
    review_tier = fields.String(validate=validate.OneOf(REVIEW_TIERS), load_default=None,
                                metadata={"description": "approval or a periodic review's "
                                                         "outcome: yearly or half_yearly"})


class ScansSchema(Schema):
    scan_sha256s = fields.List(fields.String(validate=SHA256), load_default=list,
                               validate=validate.Length(max=20), metadata={
                                   "description": "photos of the signed paper (uploaded via "
                                                  "/api/photos)"})


class ApplicationSchema(Schema):
    pledge = fields.Nested(ScansSchema, load_default=None,
                           metadata={"description": "honesty pledge signed (002, 001)"})
    authorization = fields.Nested(ScansSchema, load_default=None, metadata={
        "description": "economic-check authorization signed (002)"})
    missing_documents = fields.List(fields.String(validate=validate.Length(min=1, max=200)),
                                    validate=validate.Length(max=50), load_default=None,
                                    metadata={"description": "every missing document, listed "
                                                             "at once (一次性告知, 57号)"})


class EconomicCheckSchema(Schema):
    requested_at = fields.AwareDateTime(required=True)
    returned_at = fields.AwareDateTime(load_default=None)
    result = fields.String(validate=validate.OneOf(
        ["eligible", "obviously_ineligible", "needs_review"]), load_default=None)


class PersonSchema(Schema):
    user_id = fields.String()
    display_name = fields.String(allow_none=True)


class DutyTakenSchema(Schema):
    duty = fields.String()
    path = fields.String()
    at = fields.String()
    roles = fields.List(fields.String())
    person = fields.Nested(PersonSchema, allow_none=True)


class WorkflowSchema(Schema):
    case_id = fields.String()
    case_no = fields.String(allow_none=True, metadata={"description": "the number people read"})
    village_code = fields.String(metadata={
        "description": "the case's village (its standing notice: /api/villages/<code>/"
                       "standing-notice)"})
    kind_key = fields.String(metadata={"description": "kind, or temporary.emergency / "
                                                      "temporary.expenditure"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    version = fields.Integer(metadata={"description": "the case's version (its ETag)"})
    allowed_transitions = fields.List(fields.String(), metadata={
        "description": "targets your roles may try from here (guards may still refuse)"})
    duties = fields.Dict(keys=fields.String(), values=fields.Nested(PersonSchema,
                                                                    allow_none=True),
                         metadata={"description": "who did intake, preliminary_review and "
                                                  "approval (001: never the same person)"})
    duty_history = fields.List(fields.Nested(DutyTakenSchema), metadata={
        "description": "every duty taken on the case (intake, preliminary_review, approval, "
                       "supervision): who, when, through which path (001/003)"})
    application = fields.Dict(metadata={
        "description": "has_honesty_pledge, is_economic_check_authorized, pledge and "
                       "authorization {by, at, scan_sha256s}, missing_documents"})
    economic_check = fields.Dict(metadata={"description": "requested_at, returned_at, result"})
    panel = fields.Dict(metadata={"description": "is_required_after_objection, record"})
    proposal = fields.Dict(metadata={
        "description": "category, per_capita_income_yuan, standard_yuan, members_count, "
                       "monthly_amount_yuan (strings of yuan)"})
    notice = fields.Dict(metadata={"description": "round, starts_on, ends_on, is_over"})
    objections = fields.List(fields.Dict())
    spot_check = fields.Dict(metadata={
        "description": "is_subject, is_drawn, is_sampled, reason, outcome, checked_at"})
    decision = fields.Dict(metadata={
        "description": "decided_at, reasons, refusal_letter_due_on, payment_starts_on, "
                       "payment_due_on, stopped_on"})
    emergency = fields.Dict(metadata={
        "description": "recipient_name, reason, amount_yuan, signatures_due_on"})
    tasks = fields.List(fields.Dict(), metadata={
        "description": "tracked tasks after the decision: task, due_on, completed_at"})
    periodic_review = fields.Dict(allow_none=True, metadata={
        "description": "a review case: subject_case_id, source, method, findings, outcome, "
                       "amounts, visit_income_yuan (per-capita income its complete home visit "
                       "computed), income_on_record_yuan (the allowance's); a current "
                       "recipient's case: tier, last_reviewed_on, due_on, "
                       "open_review_case_id; otherwise null"})
    case = fields.Nested(CaseSchema)


class CaseTimelineEntrySchema(Schema):
    at = fields.DateTime()
    action = fields.String(metadata={"description": "case.created, case.transition, "
                                                    "case.application_recorded, ..."})
    actor_id = fields.String(allow_none=True)
    actor_name = fields.String(allow_none=True)
    device_id = fields.String(allow_none=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    before = fields.Dict()
    after = fields.Dict()
    team_names = fields.List(fields.String(), metadata={
        "description": "case.team_assigned: the assigned investigators' names"})


class TimelineSchema(Schema):
    case_id = fields.String()
    items = fields.List(fields.Nested(CaseTimelineEntrySchema))


class DueQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(["overdue", "due_soon", "later"]),
                          load_default=None)


class DueItemSchema(Schema):
    case_id = fields.String()
    case_no = fields.String(allow_none=True, metadata={"description": "the number people read"})
    applicant_name = fields.String(allow_none=True, metadata={
        "description": "the household head's name"})
    task = fields.String(metadata={"description": "start_investigation, emergency_decision, "
                                                  "preliminary_review, post_notice, decision, "
                                                  "refusal_letter_sent, "
                                                  "emergency_signatures_completed, "
                                                  "special_case_filed, temporary_aid_paid, "
                                                  "spot_check, spot_check_draw, "
                                                  "open_periodic_review"})
    kind = fields.String()
    temporary_subtype = fields.String(allow_none=True)
    status = fields.String()
    jurisdiction_code = fields.String()
    due_on = fields.Date(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    state = fields.String(metadata={
        "description": "overdue / due_soon (≤ 3 working days; an instant: 3 days) / later"})
    intake_month = fields.String(allow_none=True, metadata={
        "description": "YYYY-MM (Beijing) the case was taken in: the county draw that covers it"})
    township_name = fields.String(allow_none=True)


class DueSchema(Schema):
    items = fields.List(fields.Nested(DueItemSchema))


class ReviewDueItemSchema(Schema):
    case_id = fields.String(metadata={"description": "the current recipient's case"})
    applicant_name = fields.String(allow_none=True)
    kind = fields.String()
    jurisdiction_code = fields.String()
    tier = fields.String(allow_none=True, metadata={
        "description": "yearly / half_yearly; null: not judged (reviewed half-yearly)"})
    last_reviewed_on = fields.Date(metadata={"description": "last review, or the approval"})
    due_on = fields.Date()
    is_triggered_by_checkins = fields.Boolean()
    state = fields.String(metadata={"description": "overdue / due_soon / later"})


class ReviewDueSchema(Schema):
    items = fields.List(fields.Nested(ReviewDueItemSchema))


class SpecialCaseQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100), load_default=None,
                          metadata={"description": "default: this half-year's (China date)"})
    half = fields.Integer(validate=validate.OneOf([1, 2]), load_default=None, metadata={
        "description": "1: January–June, 2: July–December; default: the current one"})


class SpecialCaseTownshipSchema(Schema):
    township_code = fields.String()
    township_name = fields.String()
    expected = fields.Integer(metadata={"description": "special cases due a re-review"})
    reviewed = fields.Integer(metadata={"description": "of those, re-reviewed in the period"})
    rate = fields.Float(allow_none=True, metadata={"description": "null: none expected"})
    new_in_period = fields.Integer(metadata={
        "description": "approved during the period: due from the next one"})


class SpecialCaseMissingSchema(Schema):
    case_id = fields.String()
    jurisdiction_code = fields.String()
    township_code = fields.String()
    applicant_name = fields.String(allow_none=True)
    last_reviewed_on = fields.Date(allow_none=True, metadata={
        "description": "the last re-review before the period; null: none since approval"})
    open_review_case_id = fields.String(allow_none=True, metadata={
        "description": "a periodic review under way, if any"})


class SpecialCaseReportSchema(Schema):
    year = fields.Integer()
    half = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date()
    required_rate = fields.Float(metadata={"description": "001: 1.0 (100%)"})
    is_met = fields.Boolean()
    expected = fields.Integer()
    reviewed = fields.Integer()
    rate = fields.Float(allow_none=True)
    new_in_period = fields.Integer()
    townships = fields.List(fields.Nested(SpecialCaseTownshipSchema))
    missing = fields.List(fields.Nested(SpecialCaseMissingSchema))


class ReviewOpenSchema(Schema):
    case_ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)),
                           required=True, validate=validate.Length(min=1, max=1000),
                           metadata={"description": "current recipients' cases from the due "
                                                    "list; those not due are left alone"})


class ReviewOpenedSchema(Schema):
    opened = fields.List(fields.String(), metadata={"description": "review case ids"})


class DrawCreateSchema(Schema):
    month = fields.String(required=True, validate=MONTH, metadata={
        "description": "the month whose new cases (not drawn before) are drawn"})


class DrawQuerySchema(Schema):
    redraw = fields.Boolean(load_default=False, metadata={
        "description": "redraw from the stored seed and compare (an auditor's check)"})


class DrawSchema(Schema):
    id = fields.String()
    county_code = fields.String()
    month = fields.String()
    seed = fields.String()
    ratios = fields.Dict()
    population_sha256 = fields.String()
    population_count = fields.Integer()
    sampled_count = fields.Integer()
    drawn_by_id = fields.String()
    drawn_at = fields.DateTime()
    sampled = fields.List(fields.Dict(), metadata={"description": "case_id, reason "
                                                                  "(ratio / relative_of_staff), "
                                                                  "outcome"})
    redraw = fields.Dict(metadata={"description": "population_matches, sample_matches"})


class PendingChecksSchema(Schema):
    items = fields.List(fields.Dict(), metadata={"description": "case_id, reason, month"})


class SpotCheckRecordSchema(Schema):
    outcome = fields.String(required=True,
                            validate=validate.OneOf(["confirmed", "problems_found"]))
    note = fields.String(validate=validate.Length(max=500), load_default=None)


class SpotCheckSchema(Schema):
    case_id = fields.String()
    is_sampled = fields.Boolean()
    reason = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    checked_by_id = fields.String(allow_none=True)
    checked_at = fields.DateTime(allow_none=True)


class StandardSchema(Schema):
    id = fields.String()
    jurisdiction_code = fields.String()
    year = fields.Integer()
    effective_on = fields.Date()
    monthly_yuan = fields.String(metadata={"description": "yuan, a decimal string"})
    created_at = fields.DateTime()


class StandardCreateSchema(Schema):
    jurisdiction_code = fields.String(required=True, validate=validate.Regexp(r"^\d{6,12}$"))
    effective_on = fields.Date(required=True)
    monthly_yuan = fields.Decimal(required=True,
                                  validate=yuan(0, 100000, positive=True))


class StandardListSchema(Schema):
    items = fields.List(fields.Nested(StandardSchema))


class PaymentQuerySchema(Schema):
    month = fields.String(required=True, validate=MONTH)
    format = fields.String(validate=validate.OneOf(["json", "csv", "xlsx"]), load_default="json")
    lang = fields.String(load_default="zh-CN", validate=validate.OneOf(["zh-CN", "en"]),
                         metadata={"description": "the language of the CSV/XLSX headers and "
                                                  "categories"})


class PaymentLineSchema(Schema):
    seq = fields.Integer()
    payee_name = fields.String(allow_none=True)
    id_number_masked = fields.String(allow_none=True)
    bank_account_masked = fields.String(allow_none=True)
    amount_yuan = fields.String()
    category = fields.String(validate=validate.OneOf([*CATEGORIES, "temporary"]))
    village_code = fields.String()
    village_name = fields.String(allow_none=True)
    case_no = fields.String(allow_none=True, metadata={"description": "the number people read"})
    case_id = fields.String()
    due_on = fields.String(metadata={"description": "monthly: the pay day (001: by the 10th); "
                                                    "temporary: 3 working days after approval"})


class PaymentListSchema(Schema):
    month = fields.String()
    items = fields.List(fields.Nested(PaymentLineSchema))


class DocumentQuerySchema(Schema):
    format = fields.String(validate=validate.OneOf(["pdf", "html"]), load_default="pdf")


class StandingNoticeQuerySchema(DocumentQuerySchema):
    month = fields.String(validate=validate.Regexp(r"^20[0-9]{2}-(0[1-9]|1[0-2])$"),
                          load_default=None,
                          metadata={"description": "YYYY-MM; this month (Beijing) if left out"})


POOL_ROLES = ("villager", "township_cadre", "group_leader", "discipline_officer")


class PoolMemberSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    role = fields.String(required=True, validate=validate.OneOf(POOL_ROLES))


class PoolSchema(Schema):
    village_code = fields.String()
    items = fields.List(fields.Nested(PoolMemberSchema))


class PoolReplaceSchema(Schema):
    members = fields.List(fields.Nested(PoolMemberSchema), required=True,
                          validate=validate.Length(max=500), metadata={
                              "description": "the whole pool (004: at least 30, with at least "
                                             "2 township cadres and the group leaders)"})


class PanelDrawCreateSchema(Schema):
    group_leader_id = fields.String(load_default=None, validate=validate.Length(max=36),
                                    metadata={"description": "the applicant's group leader "
                                                             "in the pool (default: the first)"})
    reason = fields.String(load_default=None, validate=validate.Length(max=500), metadata={
        "description": "required to draw again (audited with the previous draw)"})


class PanelDrawSchema(Schema):
    seed = fields.String(allow_none=True)
    redraw_matches = fields.Boolean(allow_none=True, metadata={
        "description": "the stored seed and pool give the same panel again"})
    members = fields.List(fields.Dict(), metadata={"description": "id, name, role"})
    pool_sha256 = fields.String(allow_none=True, metadata={
        "description": "SHA-256 of the pool as drawn (frozen with the draw)"})
    pool_matches = fields.Boolean(allow_none=True, metadata={
        "description": "the frozen pool still gives its stored digest"})
    drawn_at = fields.String(allow_none=True)
