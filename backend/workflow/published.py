"""What the case workflow tells the world after the commit: decisions (case.decided), as
outbox events written in the deciding transaction (backend/outbox).

An in-transaction handler of ``events.CaseStatusChanged`` (cases.set_status raises it), so
no use case of the workflow has to remember to call it: every move that is a decision
(decisions.decision_for) records one event with the facts a reader needs, unmasked (the
outbox's readers mask them for their purpose).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend import clock, events, outbox
from backend.cases import service as cases
from backend.extensions import db
from backend.households import service as households
from backend.workflow.decisions import decision_for
from backend.workflow.models import CaseWorkflow, PeriodicReview


def _head(household_id: str) -> dict[str, Any]:
    found = households.facts([household_id]).get(household_id)
    head = found.head if found else None
    return {"name": head.name if head else None, "id_number": head.id_number if head else None}


def on_case_status_changed(event: events.CaseStatusChanged) -> None:
    decision = decision_for(event.kind, event.to_status)
    if decision is None:
        return
    if decision == "adjust":
        _record_adjustment(event)
        return
    wf = db.session.get(CaseWorkflow, event.case_id)
    review_case_id = None
    if decision == "stop":
        review_case_id = db.session.scalar(
            select(PeriodicReview.case_id).where(PeriodicReview.subject_case_id == event.case_id,
                                                 PeriodicReview.outcome == "stopped")
            .order_by(PeriodicReview.completed_at.desc()).limit(1))
        decided_at = wf.stopped_at if wf else None
        decided_by = wf.stopped_by_id if wf else None
    else:
        decided_at = wf.decided_at if wf else None
        decided_by = wf.decided_by_id if wf else None
    outbox.record("case.decided", "case", event.case_id, event.jurisdiction_code, {
        "case_id": event.case_id, "household_id": event.household_id, "kind": event.kind,
        "decision": decision, "decided_at": decided_at or clock.now(),
        "decided_by_id": decided_by,
        "category": wf.category if wf else None,
        "monthly_amount_yuan": None if decision != "approve" or wf is None
        else wf.monthly_amount_yuan,
        "previous_amount_yuan": wf.monthly_amount_yuan if wf and decision == "stop" else None,
        "payment_starts_on": wf.payment_starts_on if wf and decision == "approve" else None,
        "stopped_on": wf.stopped_on if wf and decision == "stop" else None,
        "members_count": wf.members_count if wf else None,
        "reasons": list(wf.reasons or []) if wf else [],
        "review_case_id": review_case_id, "head": _head(event.household_id)})


def _record_adjustment(event: events.CaseStatusChanged) -> None:
    review = db.session.get(PeriodicReview, event.case_id)
    if review is None:
        return
    subject = db.session.get(CaseWorkflow, review.subject_case_id)
    reviewed = cases.summaries(case_ids=[review.subject_case_id])
    decided = db.session.get(CaseWorkflow, event.case_id)
    outbox.record("case.decided", "case", review.subject_case_id, review.jurisdiction_code, {
        "case_id": review.subject_case_id, "household_id": event.household_id,
        "kind": reviewed[0].kind if reviewed else event.kind,
        "decision": "adjust", "decided_at": review.completed_at or clock.now(),
        "decided_by_id": decided.decided_by_id if decided else None,
        "category": subject.category if subject else None,
        "monthly_amount_yuan": review.new_amount_yuan,
        "previous_amount_yuan": review.previous_amount_yuan,
        "payment_starts_on": None, "stopped_on": None,
        "members_count": subject.members_count if subject else None,
        "reasons": list(decided.reasons or []) if decided else [],
        "review_case_id": event.case_id, "head": _head(event.household_id)})
