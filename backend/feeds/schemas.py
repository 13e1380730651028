from marshmallow import Schema, fields, validate

from backend.feeds.rules import FEEDS, PURPOSES


class FeedTokenSchema(Schema):
    id = fields.String()
    feed = fields.String()
    jurisdiction_code = fields.String()
    purpose = fields.String()
    label = fields.String()
    created_by_id = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    revoked_by_id = fields.String(allow_none=True)


class FeedTokenIssuedSchema(FeedTokenSchema):
    token = fields.String(metadata={
        "description": "the token, shown this once: send it as Authorization: Bearer <token>"})


class FeedTokenCreateSchema(Schema):
    feed = fields.String(required=True, validate=validate.OneOf(sorted(FEEDS)))
    jurisdiction_code = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$", error="a county, township or village code"))
    purpose = fields.String(required=True, validate=validate.OneOf(sorted(PURPOSES)),
                            metadata={"description": "sets what is masked: only "
                                      + ", ".join(sorted(p for p, v in PURPOSES.items()
                                                         if v.full_id))
                                      + " read full resident IDs"})
    label = fields.String(required=True, validate=validate.Length(min=1, max=100),
                          metadata={"description": "whose system reads with it"})


class FeedQuerySchema(Schema):
    cursor = fields.String(load_default=None, metadata={
        "description": "the next_cursor of the last page; leave out to start at the beginning"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class FamilyHeadSchema(Schema):
    name = fields.String(allow_none=True)
    id_number = fields.String(allow_none=True, metadata={
        "description": "full only for a purpose that must match the person; else masked"})


class DecisionItemSchema(Schema):
    event_id = fields.String()
    sequence = fields.Integer()
    jurisdiction_code = fields.String()
    decision = fields.String(validate=validate.OneOf(["approve", "refuse", "stop", "adjust"]))
    decided_at = fields.String(metadata={"format": "date-time"})
    case_id = fields.String()
    household_id = fields.String()
    kind = fields.String()
    category = fields.String(allow_none=True)
    monthly_amount_yuan = fields.String(allow_none=True)
    previous_amount_yuan = fields.String(allow_none=True)
    payment_starts_on = fields.String(allow_none=True, metadata={"format": "date"})
    stopped_on = fields.String(allow_none=True, metadata={"format": "date"})
    members_count = fields.Integer(allow_none=True)
    reasons = fields.List(fields.String())
    review_case_id = fields.String(allow_none=True)
    head = fields.Nested(FamilyHeadSchema)


class DecisionPageSchema(Schema):
    items = fields.List(fields.Nested(DecisionItemSchema))
    next_cursor = fields.String(metadata={
        "description": "opaque and signed; send it back as ?cursor= for the next page"})
    has_more = fields.Boolean()
