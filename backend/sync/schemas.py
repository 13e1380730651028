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


_PLAIN_LISTS = ("attested_by", "attestation_problems", "missing_photos")
_PLAIN_KEYS = frozenset({"id", "status", "revision", "is_complete", "flags", *_PLAIN_LISTS})
_FLAG_KEYS = frozenset({"code", "severity"})
_RECORD_RESULT = PushRecordResultSchema()


def push_results_dumped(results: list[dict]) -> list[dict]:
    """What ``PushResultSchema`` dumps the results to. A result already in its dumped form
    (only declared keys, each of the type its field writes, no problem; marshmallow writes a
    Boolean as it is given) is passed as it is; the others go through the schema. Walking
    marshmallow's fields for a thousand accepted or duplicate visits was a tenth of a replay
    (issue 23); tests/unit/test_push_results.py checks that both give the same document."""
    return [result if _dumped_already(result) else _RECORD_RESULT.dump(result)
            for result in results]


def _dumped_already(result: dict) -> bool:
    if not result.keys() <= _PLAIN_KEYS:
        return False
    record_id = result.get("id")
    if type(record_id) is not str or len(record_id) > 64 or type(result.get("status")) is not str:
        return False
    if "revision" in result and type(result["revision"]) is not int:
        return False
    for key in _PLAIN_LISTS:
        if key in result and not (type(result[key]) is list
                                  and all(type(item) is str for item in result[key])):
            return False
    return "flags" not in result or (type(result["flags"]) is list and all(
        type(flag) is dict and flag.keys() == _FLAG_KEYS and type(flag["code"]) is str
        and type(flag["severity"]) is str for flag in result["flags"]))
