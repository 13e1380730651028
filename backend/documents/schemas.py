"""What each document may hold, and nothing more.

One schema per kind. Unknown keys are refused (marshmallow's default RAISE, said out loud),
so a resident ID, a phone number or a minor cannot ride along in an extra field; the pure
guard in ``rules.identity_numbers_in`` then checks every string that is allowed.
Dates are ``date`` objects or ISO strings; ``decided_at`` is an aware instant; amounts are
yuan with at most two decimals (Decimal, int or a decimal string).
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)

from backend.documents import rules


def _printable(value: str) -> None:
    if value != value.strip():
        raise ValidationError("Leading or trailing spaces.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in value):
        raise ValidationError("Control or invisible characters cannot be printed.")


def Text(max_length: int) -> fields.String:  # noqa: N802 - a field factory reads as a type
    return fields.String(required=True, validate=[validate.Length(min=1, max=max_length),
                                                  _printable])


def Lines(max_length: int, max_items: int) -> fields.List:  # noqa: N802
    return fields.List(Text(max_length), required=True,
                       validate=validate.Length(min=1, max=max_items))


def _yuan(value: Decimal) -> None:
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:
        raise ValidationError("Yuan with at most two decimals (fen).")


def Yuan(*, minimum: Decimal, maximum: Decimal) -> fields.Decimal:  # noqa: N802
    return fields.Decimal(required=True, validate=[
        validate.Range(min=minimum, max=maximum), _yuan])


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class MissingDocumentsNoticeSchema(_Strict):
    """一次性告知书 (57号): every missing document listed at once."""

    case_no = Text(64)
    applicant_name = Text(50)
    township = Text(100)
    items = Lines(200, 40)
    issued_on = fields.Date(required=True)
    office = Text(100)


class NoticeMemberSchema(_Strict):
    name = Text(50)
    relation = Text(20)
    is_minor = fields.Boolean(load_default=False, metadata={
        "description": "a caller may say so; a minor is then refused, never printed (43号)"})

    @validates("is_minor")
    def _no_minor(self, value: bool, **_: Any) -> None:
        if value:
            raise ValidationError("Minors are never listed in a public notice (民发〔2021〕43号).")


class PublicNoticeSchema(_Strict):
    """公示 (004, 001): the applicant's name, household members (no minors) and the proposed
    amount; nothing unrelated to the allowance."""

    village = Text(100)
    township = Text(100)
    applicant_name = Text(50)
    # May be empty: a household whose only adults' birth dates are unknown shows none.
    members = fields.List(fields.Nested(NoticeMemberSchema), required=True,
                          validate=validate.Length(max=30))
    category = fields.String(required=True, validate=validate.OneOf(rules.CATEGORIES))
    monthly_amount_yuan = Yuan(minimum=Decimal(0), maximum=Decimal(1_000_000))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    objection_contact = Text(200)

    @validates_schema
    def _period(self, data: dict, **_: Any) -> None:
        if data["ends_on"] <= data["starts_on"]:
            raise ValidationError("The notice must end after it starts.", "ends_on")


class ApprovalPublicNoticeSchema(PublicNoticeSchema):
    """审批公示 (004): the decision, posted in the village with the same limited content;
    where 002 drops the review-stage notice, the only notice before payment."""


class StandingRecipientSchema(_Strict):
    applicant_name = Text(50)
    # Adult members' names only (43号: minors never listed).
    members = fields.List(Text(50), required=True, validate=validate.Length(max=30))
    category = fields.String(required=True, validate=validate.OneOf(rules.CATEGORIES))
    monthly_amount_yuan = Yuan(minimum=Decimal(0), maximum=Decimal(1_000_000))


class StandingNoticeSchema(_Strict):
    """长期公示 (004): the current recipients of one village, printed each month."""

    village = Text(100)
    township = Text(100)
    month = fields.Date(required=True, metadata={"description": "the month's first day"})
    recipients = fields.List(fields.Nested(StandingRecipientSchema), required=True,
                             validate=validate.Length(max=2000))
    objection_contact = Text(200)
    issued_on = fields.Date(required=True)


class WrittenReasonsSchema(_Strict):
    """不予批准告知书 / 停发告知书 (004): written reasons and the route to re-examination (002)."""

    case_no = Text(64)
    applicant_name = Text(50)
    reasons = Lines(500, 20)
    decided_on = fields.Date(required=True)
    # Who re-examines (复查) on the applicant's request: the county civil-affairs bureau.
    reexamination_office = Text(100)
    office = Text(100)


class ApprovalNoticeSchema(_Strict):
    case_no = Text(64)
    applicant_name = Text(50)
    category = fields.String(required=True, validate=validate.OneOf(rules.CATEGORIES))
    monthly_amount_yuan = Yuan(minimum=Decimal(0), maximum=Decimal(1_000_000))
    members_count = fields.Integer(required=True, strict=True,
                                   validate=validate.Range(min=1, max=50))
    payment_starts_on = fields.Date(required=True)
    office = Text(100)
    decided_on = fields.Date(load_default=None, metadata={"description": "dates the notice"})


class EmergencyRecordSchema(_Strict):
    """急难型临时救助 (002): recipient, reason and amount recorded, at most 5,000 yuan (001)
    from the township reserve, signatures completed within 5 working days (002)."""

    case_no = Text(64)
    recipient_name = Text(50)
    reason = Text(500)
    amount_yuan = Yuan(minimum=Decimal("0.01"), maximum=rules.EMERGENCY_CAP_YUAN)
    decided_at = fields.AwareDateTime(load_default=None, metadata={
        "description": "the instant, shown as Beijing time; or give decided_on"})
    decided_on = fields.Date(load_default=None)
    signatures_due_on = fields.Date(required=True)
    office = Text(100)

    @validates_schema
    def _signatures_after_decision(self, data: dict, **_: Any) -> None:
        decided_at, decided_on = data.get("decided_at"), data.get("decided_on")
        if decided_at is None and decided_on is None:
            raise ValidationError("Give decided_at (or decided_on).", "decided_at")
        if decided_at is not None:
            decided_on = decided_at.astimezone(rules.CHINA).date()
        if data["signatures_due_on"] < decided_on:
            raise ValidationError("Signatures cannot be due before the aid was decided.",
                                  "signatures_due_on")


SCHEMAS: dict[str, type[Schema]] = {
    "missing_documents_notice": MissingDocumentsNoticeSchema,
    "public_notice": PublicNoticeSchema,
    "refusal_letter": WrittenReasonsSchema,
    "stop_notice": WrittenReasonsSchema,
    "approval_notice": ApprovalNoticeSchema,
    "emergency_record": EmergencyRecordSchema,
    "approval_public_notice": ApprovalPublicNoticeSchema,
    "standing_notice": StandingNoticeSchema,
}
