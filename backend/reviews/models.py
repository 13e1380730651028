from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class VisitReview(db.Model):
    """The review state of one home visit (初审), kept beside the visit, owned by reviews.

    A few facts of the visit are copied here when it arrives (its village, team, flags) so
    that the queue is one indexed table scan: ``risk_rank`` is the negated risk score, so
    one ascending index serves the queue's order (riskiest first, then oldest).
    """

    __tablename__ = "visit_review"

    submission_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("visit_submission.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), nullable=False)  # ix_visit_review_case_touched
    household_id: Mapped[str] = mapped_column(String(36), nullable=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)  # the latest revision
    risk: Mapped[int] = mapped_column(Integer, nullable=False)
    risk_rank: Mapped[int] = mapped_column(Integer, nullable=False)
    # ",code,code," and ",user,user,": filters match ",x," (a bounded, denormalized list).
    flag_codes: Mapped[str] = mapped_column(String(1000), nullable=False, default=",")
    team_ids: Mapped[str] = mapped_column(String(400), nullable=False, default=",")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    decided_by_id: Mapped[str | None] = mapped_column(String(36))
    # The latest revision's start and end (device clock): the dashboard's visit duration.
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # How often a reviewer sent the visit back (has issues): the dashboard's has-issues rate.
    sent_back_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                                 server_default="0")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_visit_review_queue", "risk_rank", "received_at", "submission_id"),
        # The place comes last so the queue's counts per state in a place read this index
        # alone (migration rvcount01a); the queue's order is the four columns before it.
        Index("ix_visit_review_state_queue", "state", "risk_rank", "received_at",
              "submission_id", "jurisdiction_code"),
        # A case's reviews, and the dashboard's last change of each case in a place read
        # from this index alone (migration rvcount01a).
        Index("ix_visit_review_case_touched", "case_id", "updated_at", "jurisdiction_code"),
    )


class ReviewComment(db.Model):
    """A reviewer's comment on a visit, optionally on one field (``members[0].id_number``)."""

    __tablename__ = "review_comment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submission_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("visit_submission.id"), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    field: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, nullable=False)
    author_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    __table_args__ = (Index("ix_review_comment_submission", "submission_id", "revision"),)
