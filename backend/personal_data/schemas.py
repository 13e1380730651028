from marshmallow import Schema, fields, validate

from backend.privacy.catalogue import REVEAL_PURPOSES

PURPOSE_FIELD_DOC = ("why the full number is needed, one of: " + ", ".join(REVEAL_PURPOSES))


class RevealCreateSchema(Schema):
    household_id = fields.String(required=True, validate=validate.Length(max=36))
    member_id = fields.String(required=True, validate=validate.Length(max=36))
    field = fields.String(required=True, validate=validate.OneOf(["id_number", "phone"]))
    # Checked by the service (reveal-purpose-required), so a missing purpose is its own slug.
    purpose = fields.String(load_default=None, validate=validate.Length(max=40),
                            metadata={"description": PURPOSE_FIELD_DOC})


class RevealSchema(Schema):
    household_id = fields.String(required=True)
    member_id = fields.String(required=True)
    field = fields.String(required=True)
    value = fields.String(required=True, allow_none=True)
    purpose = fields.String(required=True)
    revealed_at = fields.DateTime(required=True)


class ReadQuerySchema(Schema):
    """A supervisor's filter of the reads report (parsed with unknown=RAISE: a misspelt
    filter is a 422, never ignored, so the report never answers a question not asked)."""

    user_id = fields.String(load_default=None, validate=validate.Length(max=36))
    household_id = fields.String(load_default=None, validate=validate.Length(max=36))
    kind = fields.String(load_default=None,
                         validate=validate.OneOf(["reveal", "full_export"]))


class ReadSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    user_id = fields.String(required=True)
    user_name = fields.String(required=True)
    household_id = fields.String(allow_none=True)
    head_name = fields.String(allow_none=True)
    member_id = fields.String(allow_none=True)
    field = fields.String(allow_none=True)
    purpose = fields.String(required=True)
    authorisation_id = fields.String(allow_none=True)
    read_at = fields.DateTime(required=True)


class ExportAuthorisationCreateSchema(Schema):
    exporter_id = fields.String(required=True, validate=validate.Length(max=36))
    purpose = fields.String(load_default=None, validate=validate.Length(max=40),
                            metadata={"description": PURPOSE_FIELD_DOC})


class ExportAuthorisationSchema(Schema):
    id = fields.String(required=True)
    exporter_id = fields.String(required=True)
    approver_id = fields.String(required=True)
    exporter_name = fields.String(required=True)
    approver_name = fields.String(required=True)
    purpose = fields.String(required=True)
    authorised_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    used_at = fields.DateTime(allow_none=True)


class ExporterSchema(Schema):
    id = fields.String(required=True)
    display_name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)


class OwnMemberSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    relation = fields.String(required=True)
    id_number = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    sex = fields.String(allow_none=True)
    birth_on = fields.Date(allow_none=True)
    age = fields.Integer(allow_none=True)


class OwnDecisionSchema(Schema):
    case_id = fields.String(required=True)
    case_no = fields.String(allow_none=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    decided_at = fields.DateTime(required=True)
    reasons = fields.List(fields.String(), required=True)
    monthly_amount_yuan = fields.Decimal(allow_none=True, as_string=True)
    stopped_at = fields.DateTime(allow_none=True)


class OwnCheckInSchema(Schema):
    id = fields.String(required=True)
    captured_at = fields.DateTime(required=True)
    outcome = fields.String(required=True)
    is_proxy = fields.Boolean(required=True)
    window_key = fields.String(allow_none=True)


class IdNumberViewSchema(Schema):
    viewed_at = fields.DateTime(required=True)
    staff_name = fields.String(required=True)
    member_name = fields.String(allow_none=True)
    purpose = fields.String(required=True)


class CorrectionCreateSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "the device's UUID (retry-safe)"})
    household_id = fields.String(required=True, validate=validate.Length(max=36))
    subject = fields.String(required=True, validate=validate.OneOf(
        ["member", "address", "decision", "checkin", "other"]))
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class CorrectionSchema(Schema):
    id = fields.String(required=True)
    household_id = fields.String(required=True)
    subject = fields.String(required=True)
    requested_text = fields.String(required=True)
    state = fields.String(required=True)
    outcome_note = fields.String(allow_none=True)
    requested_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)
    head_name = fields.String(allow_none=True)


class CorrectionDecisionSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["corrected", "refused"]))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ConsentSchema(Schema):
    text_version = fields.String(required=True)
    choice = fields.String(allow_none=True,
                           metadata={"description": "given / declined / revoked / null"})
    decided_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class ConsentCreateSchema(Schema):
    choice = fields.String(required=True, validate=validate.OneOf(["given", "declined"]))
    text_version = fields.String(required=True, validate=validate.Length(max=20))


class OwnViewSchema(Schema):
    household_id = fields.String(required=True)
    recipient_id = fields.String(required=True)
    address = fields.String(required=True)
    members = fields.List(fields.Nested(OwnMemberSchema), required=True)
    decisions = fields.List(fields.Nested(OwnDecisionSchema), required=True)
    checkins = fields.List(fields.Nested(OwnCheckInSchema), required=True)
    id_number_views = fields.List(fields.Nested(IdNumberViewSchema), required=True)
    corrections = fields.List(fields.Nested(CorrectionSchema), required=True)
    biometric_consent = fields.Nested(ConsentSchema, required=True)


class CatalogueEntrySchema(Schema):
    key = fields.String(required=True)
    mark = fields.String(required=True)
    source = fields.String(required=True)
