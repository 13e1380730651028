"""What visits tell the world after the commit: each stored visit revision as an outbox
event (visit.accepted), bridged from the in-transaction ``events.VisitAccepted`` the push
raises, so the push itself calls nothing more."""

from __future__ import annotations

from backend import events, outbox


def on_visits_accepted(accepted: list[events.VisitAccepted]) -> None:
    for event in accepted:
        outbox.record("visit.accepted", "case", event.case_id, event.jurisdiction_code, {
            "visit_id": event.submission_id, "revision": event.revision,
            "case_id": event.case_id, "household_id": event.household_id,
            "author_id": event.author_id, "received_at": event.received_at,
            "flags": [{"code": code, "severity": severity} for code, severity in event.flags]})
