from marshmallow import Schema, fields, validate

from backend.cases.schemas import CaseSchema
from backend.errors import ProblemSchema
from backend.forms.schemas import FormDefinitionSchema
from backend.households.schemas import HouseholdSchema

RECORD_STATUSES = ("accepted", "duplicate", "rejected")


class PullQuerySchema(Schema):
    cursor = fields.String(load_default=None, validate=validate.Length(max=600))


class ReviewTaskCommentSchema(Schema):
    field = fields.String(allow_none=True, metadata={
        "description": "the commented field, e.g. `members[0].id_number`; null: the whole visit"})
    text = fields.String(required=True)
    created_at = fields.String(required=True)


class ReviewTaskSchema(Schema):
    """A visit a reviewer sent back to its team (registered by reviews)."""

    submission_id = fields.String(required=True)
    case_id = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(
        ["has_issues", "revisit_requested"]), metadata={
        "description": "has_issues: fix and send a new revision (base_revision = revision); "
                       "revisit_requested: visit the household again as a new visit"})
    revision = fields.Integer(required=True, metadata={"description": "the reviewed revision"})
    comments = fields.List(fields.Nested(ReviewTaskCommentSchema), required=True)


class PullSchema(Schema):
    """What changed since the cursor; empty lists are left out (a no-change pull is tiny)."""

    cursor = fields.String(required=True, metadata={"description": "send it on the next pull"})
    has_more = fields.Boolean(required=True, metadata={"description": "pull again at once"})
    cases = fields.List(fields.Nested(CaseSchema))
    households = fields.List(fields.Nested(HouseholdSchema))
    forms = fields.List(fields.Nested(FormDefinitionSchema))
    settings = fields.Dict(keys=fields.String(), values=fields.Dict(),
                           metadata={"description": "effective settings by village code"})
    case_ids = fields.List(fields.String(), metadata={
        "description": "every assigned case id, sent when the set changed: delete local cases "
                       "not in it"})
    review_tasks = fields.List(fields.Nested(ReviewTaskSchema), metadata={
        "description": "every open review task of the caller's cases, sent when the list "
                       "changed (an empty list too): replace the tasks held on the device"})


class PushSchema(Schema):
    device_id = fields.String(load_default=None, validate=validate.Length(max=64))
    sent_at = fields.AwareDateTime(load_default=None)
    # Records are checked one by one in the service, so one bad record cannot sink the batch:
    # any JSON value is a record here, and a malformed one is answered `rejected`.
    records = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1, max=2000),
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
