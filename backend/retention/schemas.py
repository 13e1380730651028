from marshmallow import Schema, fields, validate

from backend.retention.rules import LONGEST_DAYS


class RetentionSettingSchema(Schema):
    kind = fields.String(metadata={"description": "the kind of data (a slug)"})
    days = fields.Integer(metadata={"description": "kept this many days"})
    default_days = fields.Integer()
    minimum_days = fields.Integer(metadata={"description": "a setting may not go under it"})
    counted_from = fields.String(metadata={"description": "the moment the days count from"})
    source = fields.String(metadata={"description": "where the default and floor come from"})
    is_default = fields.Boolean()
    has_purger = fields.Boolean(metadata={
        "description": "false: no package of this deployment holds the kind"})
    version = fields.Integer(metadata={"description": "0 while the default applies"})
    updated_at = fields.DateTime(allow_none=True)


class RetentionSettingChangeSchema(Schema):
    days = fields.Integer(required=True, validate=validate.Range(min=1, max=LONGEST_DAYS * 10))


class KindReportSchema(Schema):
    kind = fields.String()
    days = fields.Integer()
    cutoff = fields.DateTime(metadata={"description": "data counted from before it goes"})
    has_purger = fields.Boolean()
    count = fields.Integer(metadata={"description": "items (for audit: rows) that go"})
    blob_count = fields.Integer(metadata={"description": "files in storage that go"})
    held_count = fields.Integer(metadata={"description": "items kept by a legal hold"})
    case_ids = fields.List(fields.String(), metadata={
        "description": "cases the purge reaches (at most 200 listed)"})
    held_case_ids = fields.List(fields.String())
    note = fields.String(allow_none=True)


class PurgeReportSchema(Schema):
    dry_run = fields.Boolean()
    at = fields.DateTime()
    kinds = fields.List(fields.Nested(KindReportSchema))
    blobs_deleted = fields.Integer()


class LegalHoldSchema(Schema):
    id = fields.String()
    case_id = fields.String()
    household_id = fields.String()
    jurisdiction_code = fields.String()
    reason = fields.String()
    set_by_id = fields.String(allow_none=True)
    set_at = fields.DateTime()
    lifted_by_id = fields.String(allow_none=True)
    lifted_at = fields.DateTime(allow_none=True)
    lift_reason = fields.String(allow_none=True)


class LegalHoldCreateSchema(Schema):
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class LegalHoldLiftSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class LegalHoldQuerySchema(Schema):
    include_lifted = fields.Boolean(load_default=False)
