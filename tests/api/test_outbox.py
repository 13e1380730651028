"""The transactional outbox (issue 18): events go in with the change's transaction and
only with it, the relay hands them over after the commit in order per aggregate, once per
subscriber, retrying a failure without holding up other aggregates; the case workflow's
moves, decisions, visits and check-ins produce their events; the catalogue is in OpenAPI."""

from __future__ import annotations

from datetime import datetime

import pytest
from huey import MemoryHuey
from sqlalchemy import select, update

from backend import clock, jobs, outbox
from backend.checkins import windows as checkins
from backend.extensions import db
from backend.households.models import Household
from backend.outbox import relay
from backend.outbox.models import OutboxEntry, OutboxReceipt
from backend.outbox.service import waiting
from tests.api.test_checkins import activated
from tests.api.test_periodic_review import START, approved, open_review, reviewed
from tests.api.test_workflow import move, ok

CHINA = clock.SHANGHAI


@pytest.fixture
def seen():
    """A subscriber that keeps what it is handed (and fails while told to)."""
    handed: list[outbox.OutboxEvent] = []
    failing: set[str] = set()

    def handler(event):
        if event.id in failing:
            raise RuntimeError("the receiver is down")
        handed.append(event)

    outbox.subscribe("test-seen", handler, types=["checkin.missed"])
    handed_and_failing = (handed, failing)
    yield handed_and_failing
    outbox.unsubscribe("test-seen")


@pytest.fixture(autouse=True)
def _clock():
    """The workflow's helpers move the clock on (notices, spot checks): start each test at
    the same instant and leave it unfrozen."""
    clock.freeze(START)
    yield
    clock.freeze(None)


def missed(aggregate: str, window: str) -> str:
    return outbox.record("checkin.missed", "checkin_recipient", aggregate, "530621100001", {
        "recipient_id": aggregate, "household_id": "h-" + aggregate, "window_key": window})


def rows(**where):
    query = select(OutboxEntry).order_by(OutboxEntry.sequence)
    for column, value in where.items():
        query = query.where(getattr(OutboxEntry, column) == value)
    return list(db.session.scalars(query))


def mine(events, aggregates):
    return [(e.aggregate_id, e.payload["window_key"]) for e in events
            if e.aggregate_id in aggregates]


def test_a_rollback_writes_no_outbox_row(app, db_session):
    missed("r-rolled-back", "2026-12")
    assert len(waiting()) == 1
    db.session.rollback()
    db.session.commit()
    assert rows(aggregate_id="r-rolled-back") == []
    # A rolled-back SAVEPOINT takes its own events only.
    missed("r-kept", "2026-12")
    with pytest.raises(RuntimeError), db.session.begin_nested():
        missed("r-savepoint", "2026-12")
        raise RuntimeError
    with db.session.begin_nested():  # a released one hands them to the transaction
        missed("r-released", "2026-12")
    db.session.commit()
    assert [r.aggregate_id for r in rows(type="checkin.missed")
            if r.aggregate_id.startswith("r-")] == ["r-kept", "r-released"]


def test_a_guard_that_fails_leaves_no_event(api, db_session):
    case = approved(api, db_session)
    before = len(rows(aggregate_id=case["id"]))
    review_id = ok(open_review(api, case["id"]), 201)["case_id"]
    reviewed(api, review_id)
    assert move(api, review_id, "stopped", "wenping_approver").status_code == 422
    assert len(rows(aggregate_id=case["id"])) == before


def test_sequences_follow_the_commits_and_payloads_are_checked(app, db_session):
    first = missed("r-seq", "2026-11")
    db.session.commit()
    second = missed("r-seq", "2026-12")
    db.session.commit()
    stored = {r.id: r for r in rows(aggregate_id="r-seq")}
    assert stored[second].sequence == stored[first].sequence + 1
    assert stored[first].version == 1 and stored[first].relayed_at is None
    with pytest.raises(ValueError, match="unknown outbox event type"):
        outbox.record("case.vanished", "case", "c", "530621", {})
    with pytest.raises(ValueError, match="window_key"):
        outbox.record("checkin.missed", "checkin_recipient", "r", "530621",
                      {"recipient_id": "r", "household_id": "h"})


def test_the_relay_hands_events_over_in_order_per_aggregate(app, db_session, seen):
    handed, _ = seen
    for window in ("2026-09", "2026-10"):
        missed("r-a", window)
        missed("r-b", window)
        db.session.commit()
    missed("r-a", "2026-11")
    db.session.commit()
    relay.run_pass()
    assert mine(handed, {"r-a"}) == [("r-a", "2026-09"), ("r-a", "2026-10"), ("r-a", "2026-11")]
    assert mine(handed, {"r-b"}) == [("r-b", "2026-09"), ("r-b", "2026-10")]
    sequences = [e.sequence for e in handed]
    assert sequences == sorted(sequences)
    assert all(r.relayed_at is not None for r in rows(aggregate_id="r-a"))


def test_a_subscriber_sees_an_event_once_even_if_the_relay_runs_twice(app, db_session, seen):
    handed, _ = seen
    event_id = missed("r-once", "2026-12")
    db.session.commit()
    relay.run_pass()
    relay.run_pass()
    # A relay that crashed after handing over and before stamping runs again over it.
    db.session.execute(update(OutboxEntry).where(OutboxEntry.id == event_id)
                       .values(relayed_at=None))
    db.session.commit()
    relay.run_pass()
    assert [e.id for e in handed if e.aggregate_id == "r-once"] == [event_id]
    # One receipt for this subscriber (others, such as the webhooks, keep their own).
    assert list(db.session.scalars(select(OutboxReceipt.subscriber).where(
        OutboxReceipt.event_id == event_id))).count("test-seen") == 1


def test_a_failing_subscriber_is_retried_and_blocks_only_its_aggregate(app, db_session,
                                                                         seen):
    handed, failing = seen
    stuck = missed("r-stuck", "2026-10")
    missed("r-other", "2026-10")
    db.session.commit()
    missed("r-stuck", "2026-11")
    missed("r-other", "2026-11")
    db.session.commit()
    failing.add(stuck)
    first = relay.run_pass()
    assert first.failed == 1
    # The other recipient's events went on; the stuck one's later event waits behind it.
    assert mine(handed, {"r-stuck", "r-other"}) == [("r-other", "2026-10"),
                                                    ("r-other", "2026-11")]
    assert all(r.relayed_at is None for r in rows(aggregate_id="r-stuck"))
    failing.clear()  # the receiver is back
    relay.run_pass()
    assert mine(handed, {"r-stuck"}) == [("r-stuck", "2026-10"), ("r-stuck", "2026-11")]
    assert all(r.relayed_at is not None for r in rows(aggregate_id="r-stuck"))


def test_a_failed_handler_takes_its_effects_back(app, db_session):
    def half_then_fail(event):
        missed("r-effect-" + event.aggregate_id, "2026-12")  # an effect in the same unit
        db.session.flush()
        raise RuntimeError("failed after its effect")

    outbox.subscribe("test-half", half_then_fail, types=["checkin.missed"])
    try:
        missed("r-half", "2026-12")
        db.session.commit()
        relay.run_pass()
    finally:
        outbox.unsubscribe("test-half")
    assert rows(aggregate_id="r-effect-r-half") == []
    assert db.session.scalar(select(OutboxReceipt.event_id).where(
        OutboxReceipt.subscriber == "test-half")) is None


@pytest.fixture
def real_queue(app):
    """The app's kernel on a queue that is not immediate, as in production."""
    huey = MemoryHuey("doorstep-outbox-test", immediate=False, utc=True)
    kernel = app.extensions[jobs.EXTENSION]
    app.extensions[jobs.EXTENSION] = jobs.Kernel(
        huey, {task: jobs.bind(huey, task) for task in jobs.declared()})
    yield huey
    app.extensions[jobs.EXTENSION] = kernel


def test_a_commit_with_events_queues_one_relay_run_that_relays_them(app, db_session, seen,
                                                                     real_queue):
    handed, _ = seen
    missed("r-queued", "2026-10")
    db.session.commit()
    assert len(real_queue) == 1  # queued after the commit, not run
    missed("r-queued", "2026-11")
    db.session.commit()
    assert len(real_queue) == 1  # a burst of commits is one run
    db.session.commit()  # a commit without events queues nothing
    assert len(real_queue) == 1
    assert handed == []
    task = real_queue.dequeue()
    real_queue.execute(task)
    assert mine(handed, {"r-queued"}) == [("r-queued", "2026-10"), ("r-queued", "2026-11")]
    missed("r-queued", "2026-12")
    db.session.commit()
    assert len(real_queue) == 1  # the run took the flag: the next commit queues again


def test_the_sweep_runs_every_minute(app):
    with app.app_context():
        periodic = {task.name: task for task in jobs.declared() if task.is_periodic}
    assert periodic["outbox_sweep"].schedule(datetime(2026, 12, 6, 3, 17))
    assert periodic["outbox_sweep"].schedule(datetime(2026, 12, 6, 3, 18))


def test_a_decision_on_the_desk_leaves_its_events_after_the_request(api, db_session):
    handed: list[outbox.OutboxEvent] = []
    outbox.subscribe("test-desk", handed.append, types=["case.state_changed", "case.decided"])
    try:
        case = approved(api, db_session)
    finally:
        outbox.unsubscribe("test-desk")
    of_case = [e for e in handed if e.aggregate_id == case["id"]]
    moves = [(e.payload["from_status"], e.payload["to_status"]) for e in of_case
             if e.type == "case.state_changed"]
    assert moves[-2:] == [("reviewing", "public_notice"), ("public_notice", "approved")]
    decided = of_case[-1]
    assert decided.type == "case.decided" and decided.payload["decision"] == "approve"
    assert decided.jurisdiction_code == case["jurisdiction_code"]
    head = next(m for m in case["household"]["members"] if m["relation"] == "head")
    assert decided.payload["head"]["name"] == head["name"]
    assert len(decided.payload["head"]["id_number"]) == 18  # full: readers mask it
    assert "*" not in decided.payload["head"]["id_number"]
    assert decided.payload["monthly_amount_yuan"] is not None
    assert [e.sequence for e in of_case] == sorted(e.sequence for e in of_case)


def test_a_review_adjusting_or_stopping_is_a_decision_on_the_reviewed_case(api, db_session):
    case = approved(api, db_session)
    review_id = ok(open_review(api, case["id"]), 201)["case_id"]
    reviewed(api, review_id)
    ok(move(api, review_id, "adjusted", "wenping_approver",
            proposal={"per_capita_income_yuan": "500"}))
    review_id = ok(open_review(api, case["id"]), 201)["case_id"]
    reviewed(api, review_id)
    ok(move(api, review_id, "stopped", "wenping_approver", reasons=["家庭收入超过标准"]))
    decided = [r.payload for r in rows(type="case.decided", aggregate_id=case["id"])]
    assert [d["decision"] for d in decided] == ["approve", "adjust", "stop"]
    adjust, stop = decided[1], decided[2]
    assert adjust["previous_amount_yuan"] != adjust["monthly_amount_yuan"]
    assert adjust["kind"] == "dibao" and adjust["review_case_id"]
    assert stop["reasons"] == ["家庭收入超过标准"] and stop["review_case_id"] == review_id
    assert rows(type="case.decided", aggregate_id=review_id) == []


def test_visits_and_missed_check_ins_leave_their_events(api, db_session):
    case = approved(api, db_session)  # its home visit was pushed and approved in review
    accepted = rows(type="visit.accepted", aggregate_id=case["id"])
    assert accepted and accepted[0].payload["case_id"] == case["id"]
    assert {"code", "severity"} >= set().union(*(f.keys() for f in accepted[0].payload["flags"]))
    reviewed_rows = rows(type="visit.reviewed", aggregate_id=case["id"])
    assert reviewed_rows[-1].payload["to_state"] == "approved"
    assert {r.payload["visit_id"] for r in reviewed_rows} <= {
        r.payload["visit_id"] for r in accepted}
    household = db_session.get(Household, case["household_id"])
    recipient = activated(api, household)
    for closes in (datetime(2026, 12, 24, 0, 1, tzinfo=CHINA),
                   datetime(2027, 1, 24, 1, tzinfo=CHINA)):
        assert checkins.judge_closed_windows(closes) == 1
        db.session.commit()
    missed_rows = rows(type="checkin.missed", aggregate_id=recipient.id)
    assert [r.payload["household_id"] for r in missed_rows] == [household.id] * 2
    opened = rows(type="followup.opened", aggregate_id=recipient.id)
    assert [r.payload["action"] for r in opened] == ["home_visit", "home_visit"]
    (due,) = rows(type="periodic_review.due", aggregate_id=household.id)
    assert due.payload["consecutive_misses"] == 2
    assert due.jurisdiction_code == household.jurisdiction_code
    # One recipient's events in the order they happened: each miss before its follow-up.
    assert [r.type for r in rows(aggregate_id=recipient.id)] == [
        "checkin.missed", "followup.opened", "checkin.missed", "followup.opened"]


def test_the_event_catalogue_is_in_the_openapi_document(client):
    document = client.get("/api/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for name in ("CaseStateChangedV1", "CaseDecidedV1", "VisitAcceptedV1", "VisitReviewedV1",
                 "CheckinMissedV1", "FollowupOpenedV1", "PeriodicReviewDueV1", "OutboxEvent"):
        assert name in schemas, name
    assert "decision" in schemas["CaseDecidedV1"]["required"]
    assert schemas["CaseDecidedV1"]["properties"]["decision"]["enum"] == [
        "approve", "refuse", "stop", "adjust"]


def test_flask_worker_is_the_one_worker_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["worker", "--help"])
    assert result.exit_code == 0 and "every package" in result.output
    assert runner.invoke(args=["checkins", "worker"]).exit_code != 0
