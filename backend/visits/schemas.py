from marshmallow import Schema, fields, validate

UUID_TEXT = validate.Regexp(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                            error="must be a lowercase UUID")
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="must be 64 lowercase hex characters")


class StampSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["start", "end", "photo"]))
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(load_default=None, validate=validate.Range(0, 100000))
    captured_at = fields.AwareDateTime(required=True)
    user_id = fields.String(load_default=None, validate=UUID_TEXT)
    device_id = fields.String(load_default=None, validate=validate.Length(max=64))


class PhotoRefSchema(Schema):
    sha256 = fields.String(required=True, validate=SHA256)
    field = fields.String(load_default=None, validate=validate.Length(max=100))
    captured_at = fields.AwareDateTime(load_default=None)
    lat = fields.Float(load_default=None, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(load_default=None, validate=validate.Range(0, 100000))


class AttestationSchema(Schema):
    user_id = fields.String(required=True, validate=UUID_TEXT)
    key_id = fields.String(required=True, validate=UUID_TEXT)
    signature = fields.String(required=True, validate=validate.Length(min=80, max=100))
    signature_image_sha256 = fields.String(load_default=None, validate=SHA256)
    signed_at = fields.AwareDateTime(load_default=None)


class VisitSubmissionRecordSchema(Schema):
    type = fields.String(required=True, validate=validate.Equal("visit_submission"))
    id = fields.String(required=True, validate=UUID_TEXT)
    case_id = fields.String(required=True, validate=UUID_TEXT)
    form_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    form_version = fields.Integer(required=True, strict=True, validate=validate.Range(1, 10000))
    base_revision = fields.Integer(load_default=None, strict=True)
    started_at = fields.AwareDateTime(load_default=None)
    ended_at = fields.AwareDateTime(load_default=None)
    captured_at = fields.AwareDateTime(load_default=None)
    data = fields.Dict(required=True)
    stamps = fields.List(fields.Nested(StampSchema), load_default=list,
                         validate=validate.Length(max=50))
    photos = fields.List(fields.Nested(PhotoRefSchema), load_default=list,
                         validate=validate.Length(max=100))
    attestations = fields.List(fields.Nested(AttestationSchema), load_default=list,
                               validate=validate.Length(max=10))


class VisitAttestationRecordSchema(AttestationSchema):
    type = fields.String(required=True, validate=validate.Equal("visit_attestation"))
    id = fields.String(required=True, validate=UUID_TEXT)
    submission_id = fields.String(required=True, validate=UUID_TEXT)
    digest = fields.String(load_default=None, validate=SHA256)


RECORD_SCHEMAS = {
    "visit_submission": VisitSubmissionRecordSchema(),
    "visit_attestation": VisitAttestationRecordSchema(),
}


class FlagSchema(Schema):
    revision = fields.Integer(required=True)
    code = fields.String(required=True)
    severity = fields.String(required=True)
    detail_zh = fields.String(required=True)
    detail_en = fields.String(required=True)
    data = fields.Dict(required=True)


class RevisionSchema(Schema):
    revision = fields.Integer(required=True)
    digest = fields.String(required=True)
    author_id = fields.String(required=True)
    device_id = fields.String(allow_none=True)
    captured_at = fields.DateTime(allow_none=True, metadata={"description": "device clock"})
    received_at = fields.DateTime(required=True, metadata={"description": "server clock"})
    content = fields.Dict(required=True, metadata={"description": "the attested content"})
    computed = fields.Dict(required=True, metadata={"description": "values the form computed"})


class AttestationViewSchema(Schema):
    user_id = fields.String(required=True)
    key_id = fields.String(allow_none=True)
    device_id = fields.String(allow_none=True)
    digest = fields.String(required=True)
    is_signature_valid = fields.Boolean(required=True)
    signed_at = fields.DateTime(allow_none=True, metadata={"description": "device clock"})
    received_at = fields.DateTime(required=True)


class VisitDetailSchema(Schema):
    """A visit with every revision, integrity flag and attestation."""

    id = fields.String(required=True)
    status = fields.String(required=True)
    revision = fields.Integer(required=True, metadata={"description": "the current revision"})
    is_complete = fields.Boolean(required=True)
    attested_by = fields.List(fields.String(), required=True)
    missing_photos = fields.List(fields.String(), required=True)
    case_id = fields.String(required=True)
    form_id = fields.String(required=True)
    form_version = fields.Integer(required=True)
    received_at = fields.DateTime(required=True)
    revisions = fields.List(fields.Nested(RevisionSchema), required=True)
    flags = fields.List(fields.Nested(FlagSchema), required=True)
    attestations = fields.List(fields.Nested(AttestationViewSchema), required=True)
