"""The relay's pure rules without the app: order per aggregate, holding back behind a
failure, once per subscriber, and when an event is done; and which case moves are
decisions (001/003/004)."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.outbox.rules import Gate, OutboxEvent, done_events, wants
from backend.workflow.decisions import decision_for

AT = datetime(2026, 12, 6, tzinfo=UTC)


def event(sequence: int, aggregate: str, type_: str = "case.state_changed") -> OutboxEvent:
    return OutboxEvent(id=f"e{sequence}", sequence=sequence, type=type_, version=1,
                       aggregate_type="case", aggregate_id=aggregate,
                       jurisdiction_code="530621", payload={}, occurred_at=AT)


def test_the_gate_hands_events_over_in_global_order():
    events = [event(3, "a"), event(1, "a"), event(2, "b")]
    assert [e.sequence for e in Gate().admit(events)] == [1, 2, 3]


def test_a_failure_holds_back_its_aggregate_only():
    events = [event(1, "a"), event(2, "b"), event(3, "a"), event(4, "b")]
    gate, handed = Gate(), []
    for item in gate.admit(events):
        if item.sequence == 1:
            gate.failed(item)
            continue
        gate.succeeded(item)
        handed.append(item.sequence)
    assert handed == [2, 4]
    assert gate.blocked == {("case", "a")}


def test_handled_events_and_unwanted_types_are_skipped():
    events = [event(1, "a"), event(2, "a", "case.decided"), event(3, "a")]
    gate = Gate(types=frozenset({"case.state_changed"}), handled={"e1"})
    assert [e.sequence for e in gate.admit(events)] == [3]
    assert wants(None, "anything") and not wants(frozenset({"x"}), "y")


def test_an_event_is_done_when_every_subscriber_wanting_it_has_a_receipt():
    events = [event(1, "a"), event(2, "a", "case.decided")]
    subscribers = {"feed": frozenset({"case.decided"}), "hooks": None}
    receipts = {("hooks", "e1"), ("hooks", "e2")}
    assert done_events(events, subscribers, receipts) == ["e1"]
    assert done_events(events, subscribers, receipts | {("feed", "e2")}) == ["e1", "e2"]
    assert done_events(events, {}, set()) == ["e1", "e2"]  # no one listens: done at once


def test_decisions_are_approve_refuse_stop_and_a_reviews_adjustment():
    assert decision_for("dibao", "approved") == "approve"
    assert decision_for("extreme_poverty", "refused") == "refuse"
    assert decision_for("dibao", "stopped") == "stop"
    assert decision_for("periodic_review", "adjusted") == "adjust"
    # A review that stops is told by the reviewed case's own stop; continuing changes nothing.
    assert decision_for("periodic_review", "stopped") is None
    assert decision_for("periodic_review", "continued") is None
    assert decision_for("dibao", "public_notice") is None
