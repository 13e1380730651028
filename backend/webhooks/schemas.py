from marshmallow import Schema, fields, validate

from backend.webhooks.catalogue import EVENT_TYPES
from backend.webhooks.rules import MAX_URL_LENGTH, PURPOSES

EVENT_TYPE_SLUGS = sorted(EVENT_TYPES)
PURPOSE_SLUGS = sorted(PURPOSES)

_URL = fields.String(required=True, validate=validate.Length(min=1, max=MAX_URL_LENGTH),
                     metadata={"description": "https only (a private, loopback, link-local "
                                              "or metadata address is refused, also after "
                                              "DNS resolution)", "example":
                               "https://hooks.example.gov.cn/doorstep"})


def _event_types(required: bool):
    return fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPE_SLUGS)), required=required,
        validate=validate.Length(min=1, max=len(EVENT_TYPE_SLUGS)),
        metadata={"description": "Event types to receive; each has a versioned JSON schema "
                                 "(Webhook…V1 in this document's schemas)"})


_PURPOSE_HELP = ("What the receiver does with the data, which sets what is masked: "
                 "joint_handling (一件事联办: names and full ID numbers, each disclosure "
                 "audited), reporting (names, ID numbers masked), dashboard (no names, "
                 "numbers masked)")


class SubscriptionSchema(Schema):
    id = fields.String()
    jurisdiction_code = fields.String()
    url = fields.String()
    event_types = fields.List(fields.String())
    purpose = fields.String()
    description = fields.String(allow_none=True)
    is_enabled = fields.Boolean()
    consecutive_failures = fields.Integer()
    disabled_at = fields.DateTime(allow_none=True)
    previous_secret_until = fields.DateTime(
        allow_none=True, metadata={"description": "While a rotation's overlap lasts, both "
                                                  "secrets sign (two signatures)"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()
    waiting = fields.Integer(metadata={"description": "Deliveries waiting to be sent"})


class SubscriptionWithSecretSchema(SubscriptionSchema):
    secret = fields.String(metadata={"description": "The signing secret (whsec_…). Shown "
                                                    "in this answer only: store it now."})


class SubscriptionListSchema(Schema):
    items = fields.List(fields.Nested(SubscriptionSchema))


class SubscriptionCreateSchema(Schema):
    url = _URL
    event_types = _event_types(True)
    purpose = fields.String(required=True, validate=validate.OneOf(PURPOSE_SLUGS),
                            metadata={"description": _PURPOSE_HELP})
    jurisdiction_code = fields.String(
        validate=validate.Regexp(r"^\d{6}(\d{3})?$"), load_default=None,
        metadata={"description": "A county (6 digits) or township (9) within yours; "
                                 "default: yours"})
    description = fields.String(validate=validate.Length(max=200), load_default=None)


class SubscriptionUpdateSchema(Schema):
    url = fields.String(validate=validate.Length(min=1, max=MAX_URL_LENGTH))
    event_types = _event_types(False)
    purpose = fields.String(validate=validate.OneOf(PURPOSE_SLUGS))
    description = fields.String(validate=validate.Length(max=200), allow_none=True)
    is_enabled = fields.Boolean()


class RotateSchema(Schema):
    overlap_hours = fields.Integer(
        load_default=24, validate=validate.Range(min=0, max=168),
        metadata={"description": "How long the old secret also signs (0: stop at once)"})


class AttemptSchema(Schema):
    attempt = fields.Integer()
    attempted_at = fields.DateTime()
    outcome = fields.String(metadata={"description": "delivered, http_error, redirect, "
                                                     "timeout, too_slow, address_refused, "
                                                     "url_refused, connection_error"})
    status_code = fields.Integer(allow_none=True)
    duration_ms = fields.Integer()
    error = fields.String(allow_none=True)


class DeliverySchema(Schema):
    id = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    aggregate_id = fields.String()
    sequence = fields.Integer()
    status = fields.String(metadata={"description": "pending, delivered or dead"})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_outcome = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    log = fields.List(fields.Nested(AttemptSchema))


class DeliveryListSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))


class DeliveryQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    before_sequence = fields.Integer(load_default=None, validate=validate.Range(min=0))


class NoticeSchema(Schema):
    id = fields.String()
    subscription_id = fields.String()
    kind = fields.String()
    detail = fields.Dict()
    created_at = fields.DateTime()


class NoticeListSchema(Schema):
    items = fields.List(fields.Nested(NoticeSchema))


class EventTypeSchema(Schema):
    type = fields.String()
    version = fields.Integer()
    description = fields.String()
    schema = fields.String(metadata={"description": "Its schema's name in this document"})


class EventTypeListSchema(Schema):
    items = fields.List(fields.Nested(EventTypeSchema))
    purposes = fields.List(fields.String())
