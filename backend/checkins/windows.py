"""Check-in windows: judging closed ones missed, the periodic-review trigger after
repeated misses (read and handled by the case workflow), and the day's reminders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from backend import clock, events
from backend.audit import service as audit
from backend.bulk import chunks, insert_ignoring_conflicts
from backend.checkins import follow_ups, published, recipients, rules
from backend.checkins.models import CheckInWindowResult, Recipient, ReviewTrigger
from backend.dbtypes import new_id
from backend.extensions import db
from backend.jurisdictions import service as jurisdictions


def judge_closed_windows(now: datetime | None = None) -> int:
    """Mark missed every window that closed (with its tolerance) without a check-in, open a
    home-visit follow-up, and raise the periodic-review trigger after repeated misses."""
    now = now or clock.now()
    missed = 0
    for recipient in db.session.scalars(select(Recipient).where(
            Recipient.activated_at.is_not(None))):
        settings = jurisdictions.effective_settings(recipient.jurisdiction_code)
        windows = rules.windows_between(recipient.category, recipient.enrolled_at, now,
                                        recipients.window_settings(settings))
        if not windows:
            continue
        results = dict(db.session.execute(select(
            CheckInWindowResult.window_key, CheckInWindowResult.outcome).where(
            CheckInWindowResult.recipient_id == recipient.id)).all())
        for window in windows:
            if window.key in results:
                continue
            inserted = insert_ignoring_conflicts(CheckInWindowResult, [{
                "recipient_id": recipient.id, "window_key": window.key,
                "outcome": rules.MISSED, "checkin_id": None, "judged_at": now}], "window_key")
            if not inserted:
                continue
            missed += 1
            results[window.key] = rules.MISSED
            published.window_missed(recipient, window.key)
            follow_ups.open_follow_up(recipient, "missed", window.key, None, [])
            audit.record("checkin.window_missed", "checkin_recipient", recipient.id,
                         after={"window": window.key},
                         jurisdiction_code=recipient.jurisdiction_code)
            outcomes = [results.get(w.key, rules.MISSED) for w in windows
                        if w.opens_on <= window.opens_on]
            threshold = settings["checkin_misses_for_review"]
            if rules.needs_periodic_review(outcomes, threshold):
                _raise_review_trigger(recipient, window.key,
                                      rules.consecutive_misses(outcomes), now)
    db.session.flush()
    return missed


def _raise_review_trigger(recipient: Recipient, window_key: str, misses: int,
                          now: datetime) -> None:
    trigger_id = new_id()
    inserted = insert_ignoring_conflicts(ReviewTrigger, [{
        "id": trigger_id, "recipient_id": recipient.id, "household_id": recipient.household_id,
        "window_key": window_key, "consecutive_misses": misses, "raised_at": now}], "id")
    if not inserted:
        return
    audit.record("case.periodic_review_triggered", "household", recipient.household_id, after={
        "recipient": recipient.id, "window": window_key, "consecutive_misses": misses,
        "source": "checkin"}, jurisdiction_code=recipient.jurisdiction_code)
    events.raise_(events.PeriodicReviewDue(recipient.household_id, recipient.id, window_key,
                                           misses))


def periodic_review_triggers(household_ids: Iterable[str]) -> dict[str, list[dict]]:
    """Open periodic-review triggers per household, for the case workflow to read."""
    found: dict[str, list[dict]] = {}
    for chunk in chunks(household_ids):
        for trigger in db.session.scalars(select(ReviewTrigger).where(
                ReviewTrigger.household_id.in_(chunk), ReviewTrigger.handled_at.is_(None))
                .order_by(ReviewTrigger.raised_at)):
            found.setdefault(trigger.household_id, []).append({
                "id": trigger.id, "recipient_id": trigger.recipient_id,
                "household_id": trigger.household_id, "window_key": trigger.window_key,
                "consecutive_misses": trigger.consecutive_misses,
                "raised_at": trigger.raised_at})
    return found


def mark_review_triggers_handled(household_id: str, review_case_id: str,
                                 jurisdiction_code: str) -> list[str]:
    """The case workflow opened (or already had) a periodic review for the household: its
    open triggers are handled. Returns their ids; audited on the household."""
    now = clock.now()
    handled = list(db.session.scalars(select(ReviewTrigger).where(
        ReviewTrigger.household_id == household_id, ReviewTrigger.handled_at.is_(None))))
    for trigger in handled:
        trigger.handled_at = now
    if handled:
        db.session.flush()
        audit.record("case.periodic_review_trigger_handled", "household", household_id,
                     after={"triggers": [t.id for t in handled], "review_case": review_case_id,
                            "source": "checkin"}, jurisdiction_code=jurisdiction_code)
    return [t.id for t in handled]


@dataclass(frozen=True)
class Reminder:
    recipient_id: str
    user_id: str
    phone: str
    window_key: str
    closes_on: date


def due_reminders(now: datetime | None = None) -> list[Reminder]:
    """Recipients to remind today (rules.is_reminder_day) who have not checked in yet."""
    now = now or clock.now()
    due = []
    for recipient in db.session.scalars(select(Recipient).where(
            Recipient.activated_at.is_not(None))):
        settings = jurisdictions.effective_settings(recipient.jurisdiction_code)
        window = rules.next_window(recipient.category, now, recipients.window_settings(settings))
        if not rules.is_reminder_day(window, rules.china_date(now)):
            continue
        done = db.session.scalar(select(CheckInWindowResult.outcome).where(
            CheckInWindowResult.recipient_id == recipient.id,
            CheckInWindowResult.window_key == window.key))
        if done is None:
            due.append(Reminder(recipient.id, recipient.user_id, recipient.phone, window.key,
                                window.closes_on))
    return due
