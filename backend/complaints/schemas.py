from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from backend.complaints import rules

_ID = fields.UUID(required=True, metadata={
    "description": "the client's UUID for this report: sending it again files nothing twice"})


def _text(maximum: int, required: bool = False, **kwargs):
    return fields.String(required=required, validate=validate.Length(
        min=1 if required else 0, max=maximum), **kwargs)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _Filing(_Strict):
    id = _ID
    township_code = fields.String(validate=validate.Regexp(r"^\d{9}$"), metadata={
        "description": "the township that handles the report"})
    about = _text(rules.MAX_ABOUT, allow_none=True, load_default=None, metadata={
        "description": "whom or what the report is about (a name, a village)"})
    content = _text(rules.MAX_CONTENT, required=True, metadata={
        "description": "what the reporter says; kept and shown as plain text"})
    is_anonymous = fields.Boolean(load_default=False)
    reporter_name = _text(rules.MAX_NAME, allow_none=True, load_default=None)
    reporter_contact = _text(rules.MAX_CONTACT, allow_none=True, load_default=None, metadata={
        "description": "phone, e-mail or WeChat id for the reply"})
    reply_channel = fields.String(validate=validate.OneOf(rules.REPLY_CHANNELS),
                                  allow_none=True, load_default=None)


class PublicComplaintSchema(_Filing):
    """The public form's body (no sign-in)."""

    township_code = fields.String(required=True, validate=validate.Regexp(r"^\d{9}$"))


class StaffComplaintSchema(_Filing):
    channel = fields.String(required=True, validate=validate.OneOf(rules.STAFF_CHANNELS))
    case_id = fields.String(validate=validate.Length(max=36), allow_none=True,
                            load_default=None)


class ReceiptSchema(Schema):
    """What the public form's reporter gets: the number to quote, and when the reply is due."""

    id = fields.String()
    number = fields.String()
    received_at = fields.DateTime()
    reply_due_on = fields.Date()


class TownshipSchema(Schema):
    code = fields.String()
    name = fields.String()


class TownshipListSchema(Schema):
    items = fields.List(fields.Nested(TownshipSchema))


class VerificationSchema(Schema):
    id = fields.String()
    method = fields.String()
    note = fields.String()
    visit_id = fields.String(allow_none=True)
    recorded_at = fields.DateTime()
    recorded_by_name = fields.String(allow_none=True)


class ComplaintSchema(Schema):
    """A complaint as staff see it: never the reporter (GET …/reporter, audited)."""

    id = fields.String()
    number = fields.String()
    jurisdiction_code = fields.String()
    jurisdiction_name = fields.String(allow_none=True)
    channel = fields.String()
    about = fields.String(allow_none=True)
    content = fields.String()
    is_anonymous = fields.Boolean()
    reply_channel = fields.String()
    case_id = fields.String(allow_none=True)
    case_no = fields.String(allow_none=True)
    household_id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(rules.STATUSES)})
    handler_id = fields.String(allow_none=True)
    handler_name = fields.String(allow_none=True)
    is_mine = fields.Boolean()
    sees_reporter = fields.Boolean()
    received_at = fields.DateTime()
    assigned_at = fields.DateTime(allow_none=True)
    assign_due_on = fields.Date()
    verify_due_on = fields.Date()
    reply_due_on = fields.Date()
    overdue_steps = fields.List(fields.String())
    verifications = fields.List(fields.Nested(VerificationSchema))
    is_substantiated = fields.Boolean(allow_none=True)
    finding = fields.String(allow_none=True)
    found_at = fields.DateTime(allow_none=True)
    consequence = fields.String(allow_none=True)
    consequence_case_id = fields.String(allow_none=True)
    consequence_case_no = fields.String(allow_none=True)
    reply = fields.String(allow_none=True)
    replied_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    linked_case_visits = fields.List(fields.String(), metadata={
        "description": "one report's view, for its handler: the linked case's complete home "
                       "visits, any of which a home-visit verification may name"})


class SummarySchema(Schema):
    total = fields.Integer()
    open = fields.Integer()
    overdue = fields.Integer()
    answered = fields.Integer()


class ComplaintListSchema(Schema):
    items = fields.List(fields.Nested(ComplaintSchema))
    summary = fields.Nested(SummarySchema)


class ComplaintQuerySchema(_Strict):
    status = fields.String(validate=validate.OneOf(rules.STATUSES), load_default=None)
    is_open = fields.Boolean(load_default=False)
    is_overdue = fields.Boolean(load_default=False)


class ReporterSchema(Schema):
    is_anonymous = fields.Boolean()
    name = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    reply_channel = fields.String()


class CandidateSchema(Schema):
    id = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.String())


class CandidateListSchema(Schema):
    items = fields.List(fields.Nested(CandidateSchema))


class AssignSchema(_Strict):
    handler_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class LinkSchema(_Strict):
    case_id = fields.String(validate=validate.Length(min=1, max=36), load_default=None)
    case_no = fields.String(validate=validate.Length(min=1, max=40), load_default=None,
                            metadata={"description": "or the case's number, as people read it"})

    @validates_schema
    def _one_of_them(self, data, **_kwargs):
        if not data.get("case_id") and not data.get("case_no"):
            raise ValidationError("give case_id or case_no", "case_no")


class VerifySchema(_Strict):
    method = fields.String(required=True, validate=validate.OneOf(rules.VERIFICATION_METHODS))
    note = _text(rules.MAX_NOTE, required=True)
    visit_id = fields.String(validate=validate.Length(max=36), allow_none=True,
                             load_default=None, metadata={
                                 "description": "home_visit: the linked case's visit"})


class FindingSchema(_Strict):
    is_substantiated = fields.Boolean(required=True)
    finding = _text(rules.MAX_NOTE, required=True)
    consequence = fields.String(validate=validate.OneOf(rules.CONSEQUENCES), allow_none=True,
                                load_default=None, metadata={
                                    "description": "substantiated only: open a periodic "
                                                   "review of the linked case, or stop it "
                                                   "(approvers)"})


class AnswerSchema(_Strict):
    reply = _text(rules.MAX_REPLY, required=True)
