"""What visit reviews tell the world after the commit: a supervisor's move of a review as
an outbox event (visit.reviewed), on the visit's case as its aggregate."""

from __future__ import annotations

from backend import outbox
from backend.reviews.models import VisitReview


def visit_reviewed(review: VisitReview, from_state: str, reviewed_by_id: str | None) -> None:
    outbox.record("visit.reviewed", "case", review.case_id, review.jurisdiction_code, {
        "visit_id": review.submission_id, "revision": review.revision,
        "case_id": review.case_id, "household_id": review.household_id,
        "from_state": from_state, "to_state": review.state,
        "reviewed_by_id": reviewed_by_id})
