from marshmallow import Schema, fields, validate

from backend.reviews.rules import STATES


class CommentCreateSchema(Schema):
    field = fields.String(load_default=None, allow_none=True,
                          validate=validate.Length(max=100), metadata={
                              "description": "a field of the visit's form, e.g. `housing_area` "
                                             "or `members[0].id_number`; null: the whole visit"})
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class TransitionSchema(Schema):
    to = fields.String(required=True, validate=validate.OneOf(
        ["has_issues", "approved", "rejected", "revisit_requested"]), metadata={
        "description": "has_issues sends the visit back to its team (needs a comment); "
                       "revisit_requested asks the team for a new visit of the case"})
    comments = fields.List(fields.Nested(CommentCreateSchema), load_default=list,
                           validate=validate.Length(max=50))


class CommentSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    field = fields.String(allow_none=True)
    text = fields.String(required=True)
    author_id = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class ReviewRowSchema(Schema):
    submission_id = fields.String(required=True)
    case_id = fields.String(required=True)
    household_id = fields.String(required=True)
    jurisdiction_code = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    revision = fields.Integer(required=True, metadata={"description": "the latest revision"})
    risk = fields.Integer(required=True, metadata={
        "description": "alerts x 10000 + warnings x 100 + infos (visits/flags.py severities)"})
    flag_codes = fields.List(fields.String(), required=True)
    team = fields.List(fields.String(), required=True)
    received_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    age_days = fields.Integer(required=True)
    version = fields.Integer(required=True)


class ReviewSchema(ReviewRowSchema):
    allowed = fields.List(fields.String(), required=True, metadata={
        "description": "states the caller may move this review to"})
    comments = fields.List(fields.Nested(CommentSchema), required=True)


class QueueQuerySchema(Schema):
    village = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6,12}$"),
                            metadata={"description": "a jurisdiction code (and everything below)"})
    member = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9a-f-]{36}$"),
                           metadata={"description": "a user id on the visit's team"})
    flag = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z0-9-]{1,48}$"),
                         metadata={"description": "an integrity flag code (visits/flags.py)"})
    state = fields.String(load_default=None, validate=validate.OneOf(STATES))
    min_age_days = fields.Integer(load_default=None, validate=validate.Range(0, 3650))
    max_age_days = fields.Integer(load_default=None, validate=validate.Range(0, 3650))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200),
                           metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class QueuePageSchema(Schema):
    items = fields.List(fields.Nested(ReviewRowSchema), required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata={"description": "visits per state under the same filters"})
    next_cursor = fields.String(allow_none=True, required=True,
                                metadata={"description": "null on the last page"})


class DiffQuerySchema(Schema):
    from_revision = fields.Integer(data_key="from", load_default=None,
                                   validate=validate.Range(1, 100000))
    to_revision = fields.Integer(data_key="to", load_default=None,
                                 validate=validate.Range(1, 100000))


class FieldChangeSchema(Schema):
    field = fields.String(required=True)
    change = fields.String(required=True, validate=validate.OneOf(
        ["added", "removed", "changed"]))
    before = fields.Raw(allow_none=True, metadata={"description": "masked for your role"})
    after = fields.Raw(allow_none=True, metadata={"description": "masked for your role"})


class DiffSchema(Schema):
    submission_id = fields.String(required=True)
    from_revision = fields.Integer(required=True)
    to_revision = fields.Integer(required=True)
    changes = fields.List(fields.Nested(FieldChangeSchema), required=True)


# --- the pull's `review_tasks` slice (registered in reviews.registration) ---

class ReviewTaskCommentSchema(Schema):
    field = fields.String(allow_none=True, metadata={
        "description": "the commented field, e.g. `members[0].id_number`; null: the whole visit"})
    text = fields.String(required=True)
    created_at = fields.String(required=True)


class ReviewTaskSchema(Schema):
    """A visit a reviewer sent back to its team."""

    submission_id = fields.String(required=True)
    case_id = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(
        ["has_issues", "revisit_requested"]), metadata={
        "description": "has_issues: fix and send a new revision (base_revision = revision); "
                       "revisit_requested: visit the household again as a new visit"})
    revision = fields.Integer(required=True, metadata={"description": "the reviewed revision"})
    comments = fields.List(fields.Nested(ReviewTaskCommentSchema), required=True)
