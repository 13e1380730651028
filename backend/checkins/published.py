"""What check-ins tell the world after the commit, as outbox events: a missed window
(checkin.missed), a follow-up opened (followup.opened), and a periodic review made due by
repeated misses (periodic_review.due, bridged from the in-transaction event the workflow
handles). Aggregates: the recipient, so one recipient's events keep their order."""

from __future__ import annotations

from backend import events, outbox
from backend.checkins.models import FollowUp, Recipient
from backend.extensions import db


def window_missed(recipient: Recipient, window_key: str) -> None:
    outbox.record("checkin.missed", "checkin_recipient", recipient.id,
                  recipient.jurisdiction_code, {
                      "recipient_id": recipient.id, "household_id": recipient.household_id,
                      "window_key": window_key})


def follow_up_opened(row: FollowUp, household_id: str) -> None:
    outbox.record("followup.opened", "checkin_recipient", row.recipient_id,
                  row.jurisdiction_code, {
                      "follow_up_id": row.id, "recipient_id": row.recipient_id,
                      "household_id": household_id, "reason": row.reason,
                      "action": row.action, "window_key": row.window_key,
                      "checkin_id": row.checkin_id})


def on_periodic_review_due(event: events.PeriodicReviewDue) -> None:
    recipient = db.session.get(Recipient, event.recipient_id)
    if recipient is None:
        return
    outbox.record("periodic_review.due", "household", event.household_id,
                  recipient.jurisdiction_code, {
                      "household_id": event.household_id, "recipient_id": event.recipient_id,
                      "window_key": event.window_key,
                      "consecutive_misses": event.consecutive_misses})
