"""The catalogue of outbox event types: each type's current schema version and its payload
schema (marshmallow), which the OpenAPI document publishes under components/schemas.

A payload holds the full facts, unmasked (resident ID numbers included): whoever sends an
event out of the system masks it for its reader's purpose. A change that drops or renames a
field is a new version (``CaseDecidedV2``), kept beside the old one while readers move.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, fields, validate


class _Payload(Schema):
    class Meta:
        ordered = True


class CaseStateChangedV1(_Payload):
    """A case moved from one status to another (from_status is null when it was opened)."""

    case_id = fields.String(required=True)
    household_id = fields.String(required=True)
    kind = fields.String(required=True)
    temporary_subtype = fields.String(allow_none=True, load_default=None)
    from_status = fields.String(allow_none=True, required=True)
    to_status = fields.String(required=True)


class FamilyHeadV1(_Payload):
    name = fields.String(allow_none=True, required=True)
    id_number = fields.String(allow_none=True, required=True,
                              metadata={"description": "full resident ID; masked by readers"})


DECISIONS = ("approve", "refuse", "stop", "adjust")


class CaseDecidedV1(_Payload):
    """A decision on an allowance case (001/003/004): approve, refuse, stop, or adjust the
    amount after a periodic review. ``case_id`` is the allowance case (for ``adjust`` and a
    review's ``stop``, the reviewed case; ``review_case_id`` names the review)."""

    case_id = fields.String(required=True)
    household_id = fields.String(required=True)
    kind = fields.String(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    decided_at = fields.DateTime(required=True)
    decided_by_id = fields.String(allow_none=True, required=True)
    category = fields.String(allow_none=True, load_default=None)
    monthly_amount_yuan = fields.Decimal(as_string=True, allow_none=True, load_default=None)
    previous_amount_yuan = fields.Decimal(as_string=True, allow_none=True, load_default=None)
    payment_starts_on = fields.Date(allow_none=True, load_default=None)
    stopped_on = fields.Date(allow_none=True, load_default=None)
    members_count = fields.Integer(allow_none=True, load_default=None)
    reasons = fields.List(fields.String(), required=True)
    review_case_id = fields.String(allow_none=True, load_default=None)
    head = fields.Nested(FamilyHeadV1, required=True)


class VisitFlagV1(_Payload):
    code = fields.String(required=True)
    severity = fields.String(required=True)


class VisitAcceptedV1(_Payload):
    """A home-visit revision was stored (a surveyor's phone pushed it)."""

    visit_id = fields.String(required=True)
    revision = fields.Integer(required=True)
    case_id = fields.String(required=True)
    household_id = fields.String(required=True)
    author_id = fields.String(allow_none=True, required=True)
    received_at = fields.DateTime(allow_none=True, required=True)
    flags = fields.List(fields.Nested(VisitFlagV1), required=True)


class VisitReviewedV1(_Payload):
    """A supervisor moved a visit's review: approved, rejected, has issues, re-visit."""

    visit_id = fields.String(required=True)
    revision = fields.Integer(required=True)
    case_id = fields.String(required=True)
    household_id = fields.String(required=True)
    from_state = fields.String(required=True)
    to_state = fields.String(required=True)
    reviewed_by_id = fields.String(allow_none=True, required=True)


class CheckinMissedV1(_Payload):
    """A recipient's check-in window closed without a check-in (003)."""

    recipient_id = fields.String(required=True)
    household_id = fields.String(required=True)
    window_key = fields.String(required=True)


class FollowupOpenedV1(_Payload):
    """A follow-up was opened: a home visit after a miss, a call after a flagged check-in."""

    follow_up_id = fields.String(required=True)
    recipient_id = fields.String(required=True)
    household_id = fields.String(required=True)
    reason = fields.String(required=True)
    action = fields.String(required=True)
    window_key = fields.String(allow_none=True, required=True)
    checkin_id = fields.String(allow_none=True, required=True)


class PeriodicReviewDueV1(_Payload):
    """Repeated missed check-ins make a periodic review (动态管理, 004) of the household due."""

    household_id = fields.String(required=True)
    recipient_id = fields.String(required=True)
    window_key = fields.String(required=True)
    consecutive_misses = fields.Integer(required=True)


class ComplaintOpenedV1(_Payload):
    """A complaint or report (举报) came in, from the public form or entered on the desk. The
    reporter is never in it (004: their identity stays with the handler and the county
    supervisor), nor what they wrote: a reader follows up in Doorstep."""

    complaint_id = fields.String(required=True)
    number = fields.String(required=True)
    channel = fields.String(required=True)
    is_anonymous = fields.Boolean(required=True)
    case_id = fields.String(allow_none=True, required=True)
    household_id = fields.String(allow_none=True, required=True)
    received_at = fields.DateTime(required=True)
    reply_due_on = fields.Date(required=True)


class ComplaintAnsweredV1(_Payload):
    """The handler replied to a complaint after verifying it: whether it was substantiated
    and what it opened (a periodic review, a stop). Never the reporter or the reply's text."""

    complaint_id = fields.String(required=True)
    number = fields.String(required=True)
    is_substantiated = fields.Boolean(required=True)
    consequence = fields.String(allow_none=True, required=True)
    consequence_case_id = fields.String(allow_none=True, required=True)
    case_id = fields.String(allow_none=True, required=True)
    household_id = fields.String(allow_none=True, required=True)
    handler_id = fields.String(required=True)
    replied_at = fields.DateTime(required=True)
    reply_channel = fields.String(required=True)


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    schema: type[Schema]
    aggregate_type: str


CATALOGUE: dict[str, EventType] = {item.name: item for item in (
    EventType("case.state_changed", 1, CaseStateChangedV1, "case"),
    EventType("case.decided", 1, CaseDecidedV1, "case"),
    EventType("visit.accepted", 1, VisitAcceptedV1, "case"),
    EventType("visit.reviewed", 1, VisitReviewedV1, "case"),
    EventType("checkin.missed", 1, CheckinMissedV1, "checkin_recipient"),
    EventType("followup.opened", 1, FollowupOpenedV1, "checkin_recipient"),
    EventType("periodic_review.due", 1, PeriodicReviewDueV1, "household"),
    EventType("complaint.opened", 1, ComplaintOpenedV1, "complaint"),
    EventType("complaint.answered", 1, ComplaintAnsweredV1, "complaint"),
)}


def schema_name(event_type: EventType) -> str:
    """The payload's name under the OpenAPI components (CaseDecidedV1)."""
    return event_type.schema.__name__


class OutboxEventSchema(Schema):
    """The envelope every reader of events gets: the payload's schema is named by
    ``type`` and ``version`` (components/schemas, e.g. CaseDecidedV1)."""

    class Meta:
        ordered = True

    id = fields.String(required=True, metadata={"description": "the event id (UUID)"})
    sequence = fields.Integer(required=True, metadata={"description": "the global order"})
    type = fields.String(required=True, validate=validate.OneOf(sorted(CATALOGUE)))
    version = fields.Integer(required=True)
    aggregate_type = fields.String(required=True)
    aggregate_id = fields.String(required=True)
    jurisdiction_code = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    payload = fields.Dict(required=True)
