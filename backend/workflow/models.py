from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.encryption.columns import SealedString
from backend.extensions import db

MONEY = Numeric(12, 2)


class CaseWorkflow(db.Model):
    """What the workflow records about one case beside its status: the application's
    pledge and authorization, the economic check, the proposal, the notice, the decision
    and the tasks that follow it. The case's ``version`` guards every change."""

    __tablename__ = "case_workflow"

    case_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("assistance_case.id"), primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    # application (002, 001): who recorded the pledge and the authorization, when, scans
    pledge_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    pledge_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pledge_scan_sha256s: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    authorization_by_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("user_account.id"))
    authorization_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    authorization_scan_sha256s: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    missing_documents: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    missing_documents_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # economic check (核对, 002/001)
    economic_check_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    economic_check_returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    economic_check_result: Mapped[str | None] = mapped_column(String(24))
    # panel (004/001/57号)
    needs_panel: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    panel_record: Mapped[dict | None] = mapped_column(JSON)
    panel_seed: Mapped[str | None] = mapped_column(String(64))
    panel_member_ids: Mapped[list | None] = mapped_column(JSON)
    # the pool as the draw saw it ([{id, name, role}]) and its digest (panel_rules.pool_digest):
    # replacing the pool later never makes a stored draw unverifiable
    panel_pool: Mapped[list | None] = mapped_column(JSON)
    panel_pool_sha256: Mapped[str | None] = mapped_column(String(64))
    panel_drawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    panel_drawn_by_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("user_account.id"))
    # preliminary review (初审) and its proposal
    preliminary_review_by_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("user_account.id"))
    preliminary_review_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    category: Mapped[str | None] = mapped_column(String(24))
    per_capita_income_yuan: Mapped[Decimal | None] = mapped_column(MONEY)
    standard_yuan: Mapped[Decimal | None] = mapped_column(MONEY)
    members_count: Mapped[int | None] = mapped_column(Integer)
    monthly_amount_yuan: Mapped[Decimal | None] = mapped_column(MONEY)
    # public notice
    notice_round: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    notice_starts_on: Mapped[date | None] = mapped_column(Date)
    notice_ends_on: Mapped[date | None] = mapped_column(Date)
    # decision
    decided_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reasons: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    refusal_letter_due_on: Mapped[date | None] = mapped_column(Date)
    refusal_letter_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    payment_starts_on: Mapped[date | None] = mapped_column(Date, index=True)
    payment_due_on: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    bank_account: Mapped[str | None] = mapped_column(  # sealed at rest (ADR 0020)
        SealedString("case_workflow.bank_account"))
    stopped_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stopped_on: Mapped[date | None] = mapped_column(Date)
    # emergency aid (002)
    emergency_recipient: Mapped[str | None] = mapped_column(String(50))
    emergency_reason: Mapped[str | None] = mapped_column(String(500))
    emergency_amount_yuan: Mapped[Decimal | None] = mapped_column(MONEY)
    signatures_due_on: Mapped[date | None] = mapped_column(Date)
    signatures_completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # special case filing (001)
    filing_due_on: Mapped[date | None] = mapped_column(Date)
    filed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # periodic review tier of a current recipient (yearly / half_yearly; national frame),
    # set at approval and at each periodic review; None: not judged yet
    review_tier: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class CaseObjection(db.Model):
    """An objection to a public notice: who raised it, what, who recorded it and when."""

    __tablename__ = "case_objection"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("assistance_case.id"), nullable=False, index=True)
    notice_round: Mapped[int] = mapped_column(Integer, nullable=False)
    raised_by_name: Mapped[str] = mapped_column(String(50), nullable=False)
    content: Mapped[str] = mapped_column(String(1000), nullable=False)
    recorded_by_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class AllowanceStandard(db.Model):
    """The local monthly standard (按标施保, 003) of a place, from a date on."""

    __tablename__ = "allowance_standard"
    __table_args__ = (UniqueConstraint("jurisdiction_code", "effective_on"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("jurisdiction.code"), nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    effective_on: Mapped[date] = mapped_column(Date, nullable=False)
    monthly_yuan: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    created_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class SpotCheckDraw(db.Model):
    """One seeded county draw over the new cases not drawn before (001/004)."""

    __tablename__ = "spot_check_draw"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    county_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("jurisdiction.code"), nullable=False, index=True)
    month: Mapped[str] = mapped_column(String(7), nullable=False)
    seed: Mapped[str] = mapped_column(String(64), nullable=False)
    ratios: Mapped[dict] = mapped_column(JSON, nullable=False)
    population_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    population_count: Mapped[int] = mapped_column(Integer, nullable=False)
    sampled_count: Mapped[int] = mapped_column(Integer, nullable=False)
    drawn_by_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False)
    drawn_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class SpotCheck(db.Model):
    """A case in a draw: sampled or not, and the county's check when it is."""

    __tablename__ = "spot_check"

    case_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("assistance_case.id"), primary_key=True)
    draw_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("spot_check_draw.id"), nullable=False, index=True)
    is_sampled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(String(500))
    checked_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PanelPoolMember(db.Model):
    """A member of a village's deliberation pool (004: at least 30 per village)."""

    __tablename__ = "panel_pool_member"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    village_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("jurisdiction.code"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    role: Mapped[str] = mapped_column(String(24), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class PeriodicReview(db.Model):
    """A periodic review (动态管理, 004) of a current recipient's case: the review is a case of
    its own (``case_id``, kind periodic_review) about ``subject_case_id``. While it is open,
    ``open_subject_case_id`` holds the subject too: its unique index keeps one open review
    per recipient case, whoever opens it (check-in trigger, schedule or desk) and however
    concurrently."""

    __tablename__ = "periodic_review"

    case_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("assistance_case.id"), primary_key=True)
    subject_case_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("assistance_case.id"), nullable=False, index=True)
    open_subject_case_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # checkin/schedule/desk
    trigger_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    method: Mapped[str | None] = mapped_column(String(24))  # home_visit/system_comparison/phone
    findings: Mapped[str | None] = mapped_column(String(2000))
    outcome: Mapped[str | None] = mapped_column(String(16))  # continued/adjusted/stopped
    previous_amount_yuan: Mapped[Decimal | None] = mapped_column(MONEY)
    new_amount_yuan: Mapped[Decimal | None] = mapped_column(MONEY)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_on: Mapped[date | None] = mapped_column(Date)  # China date, for the tiers
