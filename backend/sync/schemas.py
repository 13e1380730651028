from marshmallow import Schema, fields, validate

from backend.errors import ProblemSchema
from backend.sync.registry import SyncRegistry

RECORD_STATUSES = ("accepted", "duplicate", "rejected")


class PullQuerySchema(Schema):
    cursor = fields.String(load_default=None, validate=validate.Length(max=600))


def pull_schema_for(registry: SyncRegistry) -> type[Schema]:
    """The pull's answer: the cursor and `has_more`, then every provider's declared keys.

    Built at app start from the registry, so sync names no concept package; empty lists are
    left out by the providers (a no-change pull is tiny).
    """
    declared: dict[str, fields.Field] = {
        "cursor": fields.String(required=True,
                                metadata={"description": "send it on the next pull"}),
        "has_more": fields.Boolean(required=True, metadata={"description": "pull again at once"}),
    }
    for provider in registry.providers.values():
        declared.update(provider.answer_fields)
    return Schema.from_dict(declared, name="Pull")


class PushSchema(Schema):
    device_id = fields.String(load_default=None, validate=validate.Length(max=64))
    sent_at = fields.AwareDateTime(load_default=None)
    # Records are checked one by one in the service, so one bad record cannot sink the batch:
    # any JSON value is a record here, and a malformed one is answered `rejected`.
    records = fields.List(fields.Raw(allow_none=True), required=True,
                          validate=validate.Length(min=1, max=2000),
                          metadata={"description": "visit_submission and visit_attestation "
                                                   "records (docs/sync-contract.md)"})


class RecordIdField(fields.String):
    """Echo the record's id when it is one; a malformed id (a number, an object) echoes null."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, str) and len(value) <= 64:
            return value
        return None


class FlagSummarySchema(Schema):
    code = fields.String(required=True)
    severity = fields.String(required=True)


class RecordProblemSchema(ProblemSchema):
    """A rejected record's problem; a sync conflict adds both versions to compare."""

    server_version = fields.Dict(metadata={"description": "submission-conflict only"})
    your_version = fields.Dict(metadata={"description": "submission-conflict only"})


class PushRecordResultSchema(Schema):
    id = RecordIdField(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(RECORD_STATUSES))
    revision = fields.Integer()
    is_complete = fields.Boolean()
    attested_by = fields.List(fields.String())
    attestation_problems = fields.List(fields.String())
    missing_photos = fields.List(fields.String(), metadata={
        "description": "photos the visit names that the server does not hold yet: upload them"})
    flags = fields.List(fields.Nested(FlagSummarySchema))
    problem = fields.Nested(RecordProblemSchema, metadata={"description": "when rejected"})


class PushResultSchema(Schema):
    results = fields.List(fields.Nested(PushRecordResultSchema), required=True,
                          metadata={"description": "one per record, in order"})
