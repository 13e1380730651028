"""Webhook subscriptions through the API, and deliveries to a real receiver on 127.0.0.1
verified with the independent `standardwebhooks` package.

Events are handed to the webhooks as the outbox relay hands them (``delivery.fan_out`` with
an event shaped like ``backend.outbox.OutboxEvent``); the sending is the worker's task run
here (``delivery.deliver_due``). Time moves with ``backend.clock.freeze``.
"""

from __future__ import annotations

import json
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend import clock
from backend.webhooks import delivery, rules, service
from tests.webhook_receiver import Receiver, verify

COUNTY_ADMIN = "county_admin"
TOWN_ADMIN = "longtoushan_admin"
TOWN = "530621101"
VILLAGE = "530621101201"
ID_NUMBER = "530621196203090317"


@dataclass(frozen=True)
class Event:
    """An event as the outbox relay hands it on (backend.outbox.OutboxEvent's fields)."""

    type: str
    aggregate_id: str
    sequence: int
    payload: dict[str, Any] = field(default_factory=dict)
    jurisdiction_code: str = VILLAGE
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    version: int = 1
    aggregate_type: str = "case"
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def webhook_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_HTTP_LOOPBACK", True)
    monkeypatch.setitem(app.config, "WEBHOOK_READ_TIMEOUT", 0.5)
    monkeypatch.setitem(app.config, "WEBHOOK_TOTAL_TIMEOUT", 1.5)
    yield app.config


@pytest.fixture
def frozen():
    def move(to):
        clock.freeze(to)
    yield move
    clock.freeze(None)


def subscribe(api, url, username=COUNTY_ADMIN, types=("case.decided", "case.state_changed"),
              purpose="reporting", **extra):
    return api.post(username, "/api/webhooks/subscriptions", json={
        "url": url, "event_types": list(types), "purpose": purpose, **extra})


def created(api, url, **kwargs):
    response = subscribe(api, url, **kwargs)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- subscriptions -----------------------------------------------------------------------------

def test_an_administrator_subscribes_and_sees_the_secret_once(api, webhook_settings, receiver):
    body = created(api, receiver.url, description="医保局联办")
    assert body["secret"].startswith("whsec_") and body["jurisdiction_code"] == "530621"
    assert body["event_types"] == ["case.decided", "case.state_changed"]
    listed = api.get(COUNTY_ADMIN, "/api/webhooks/subscriptions").get_json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]
    one = api.get(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{body['id']}")
    assert one.headers["ETag"] == '"1"'
    # Never again: not in the list, not in one, not in the audit trail.
    assert "secret" not in listed[0] and "secret" not in one.get_json()
    from backend.audit import service as audit

    rows = audit.events_for("webhook_subscription", body["id"])
    assert [row.action for row in rows] == ["webhook.subscription_created"]
    assert body["secret"] not in json.dumps(rows[0].after)


def test_a_township_administrator_subscribes_for_the_township_only(api, webhook_settings,
                                                                   receiver):
    mine = created(api, receiver.url, username=TOWN_ADMIN)
    assert mine["jurisdiction_code"] == TOWN
    other = subscribe(api, receiver.url, username=TOWN_ADMIN, jurisdiction_code="530621100")
    assert other.status_code == 422 and other.get_json()["type"] == "outside-jurisdiction"
    # The county administrator sees it; the other township's does not.
    assert api.get(COUNTY_ADMIN, "/api/webhooks/subscriptions").get_json()["items"]
    assert api.get("wenping_admin", "/api/webhooks/subscriptions").get_json()["items"] == []
    assert api.get("wenping_admin", f"/api/webhooks/subscriptions/{mine['id']}"
                   ).status_code == 404


def test_only_administrators_manage_webhooks(api, webhook_settings, receiver):
    assert subscribe(api, receiver.url, username="longtoushan_approver").status_code == 403
    assert api.get("county_supervisor", "/api/webhooks/subscriptions").status_code == 403


@pytest.mark.parametrize("url,field_error", [
    ("https://10.0.0.5/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[::1]/hook", "loopback"),
    ("https://localhost/hook", "internal"),
])
def test_inward_addresses_are_refused_naming_the_url(api, webhook_settings, url, field_error):
    response = subscribe(api, url)
    body = response.get_json()
    assert response.status_code == 422 and body["type"] == "webhook-url-not-allowed", body
    assert field_error in body["errors"]["url"][0]
    assert response.headers["Content-Type"] == "application/problem+json"


def test_a_name_that_resolves_inward_is_refused(api, webhook_settings, monkeypatch):
    monkeypatch.setattr(service, "resolve", lambda host, port, **kw: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.10.4", port))])
    response = subscribe(api, "https://hooks.example.org/in")
    assert response.status_code == 422
    assert "private" in response.get_json()["errors"]["url"][0]


def test_a_public_name_is_accepted(api, webhook_settings, monkeypatch):
    monkeypatch.setattr(service, "resolve", lambda host, port, **kw: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))])
    assert subscribe(api, "https://hooks.example.org/in").status_code == 201


def test_http_is_refused_in_production(api, app, monkeypatch, receiver):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_HTTP_LOOPBACK", False)
    for url in (receiver.url, "http://hooks.example.org/in"):
        response = subscribe(api, url)
        assert response.status_code == 422, url
        assert response.get_json()["errors"]["url"] == ["only https URLs receive deliveries"]


def test_unknown_event_types_and_over_long_urls_name_their_field(api, webhook_settings,
                                                                 receiver):
    unknown = subscribe(api, receiver.url, types=("case.decided", "case.exploded"))
    assert unknown.status_code == 422 and "event_types" in unknown.get_json()["errors"]
    long_url = "https://hooks.example.org/" + "a" * 2100
    too_long = subscribe(api, long_url)
    assert too_long.status_code == 422 and "url" in too_long.get_json()["errors"]
    purpose = subscribe(api, receiver.url, purpose="curiosity")
    assert purpose.status_code == 422 and "purpose" in purpose.get_json()["errors"]


def test_the_event_types_have_versioned_schemas_in_the_openapi_document(api, client):
    listed = api.get(COUNTY_ADMIN, "/api/webhooks/event-types").get_json()
    types = {item["type"]: item for item in listed["items"]}
    assert {"case.state_changed", "case.decided", "visit.accepted", "visit.reviewed",
            "checkin.missed", "followup.opened", "periodic_review.due", "complaint.opened",
            "complaint.answered"} == set(types)
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    decided = schemas[types["case.decided"]["schema"]]
    assert types["case.decided"]["schema"] == "WebhookCaseDecidedV1"
    assert decided["properties"]["version"]["enum"] == [1]
    # The data is the outbox's payload schema, published beside it.
    payload = decided["properties"]["data"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    assert payload == "CaseDecidedV1" and "head" in schemas[payload]["properties"]


# --- deliveries --------------------------------------------------------------------------------

def test_an_event_reaches_the_receiver_signed_and_logged(api, webhook_settings, receiver):
    sub = created(api, receiver.url)
    event = Event("case.decided", "case-1", 10, {"case_id": "case-1", "decision": "approve",
                                                 "amount_yuan": "1350.00"})
    assert delivery.fan_out(event) == 1
    assert delivery.fan_out(event) == 0  # the relay handing it on twice delivers it once
    report = delivery.deliver_due()
    assert (report.attempted, report.delivered) == (1, 1)
    assert len(receiver.received) == 1
    item = receiver.received[0]
    assert item["headers"]["webhook-id"] == event.id
    sent = verify(sub["secret"], item)
    assert sent["type"] == "case.decided" and sent["data"]["decision"] == "approve"
    assert sent["aggregate"] == {"type": "case", "id": "case-1", "sequence": 10}
    # The desk's delivery log.
    log = api.get(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}/deliveries"
                  ).get_json()["items"]
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 1
    assert log[0]["log"][0]["status_code"] == 204 and log[0]["log"][0]["outcome"] == "delivered"
    assert log[0]["log"][0]["duration_ms"] >= 0


def test_events_outside_the_jurisdiction_or_of_other_types_are_not_sent(api, webhook_settings,
                                                                       receiver):
    created(api, receiver.url, username=TOWN_ADMIN)
    assert delivery.fan_out(Event("case.decided", "c", 1, jurisdiction_code="530621100201")) == 0
    assert delivery.fan_out(Event("visit.accepted", "c", 2)) == 0
    assert delivery.fan_out(Event("case.decided", "c", 3)) == 1


def test_the_body_is_masked_by_the_purpose_and_a_full_id_is_audited(api, webhook_settings,
                                                                    receiver):
    from backend.audit import service as audit

    reporting = created(api, receiver.url, purpose="reporting")
    joint = created(api, receiver.url, purpose="joint_handling")
    payload = {"case_id": "c9", "decision": "approve", "applicant_name": "罗德明",
               "id_number": ID_NUMBER}
    delivery.fan_out(Event("case.decided", "c9", 5, payload))
    delivery.deliver_due()
    by_signature = {}
    for item in receiver.received:
        for sub in (reporting, joint):
            try:
                by_signature[sub["purpose"]] = verify(sub["secret"], item)
            except Exception:  # noqa: BLE001, S112 - signed with the other's secret
                continue
    assert by_signature["reporting"]["data"]["id_number"] == "5306**********0317"
    assert by_signature["joint_handling"]["data"]["id_number"] == ID_NUMBER
    log = api.get(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{joint['id']}/deliveries"
                  ).get_json()["items"]
    rows = audit.events_for("webhook_delivery", log[0]["id"])
    assert [row.action for row in rows] == ["webhook.full_id_disclosed"]
    assert ID_NUMBER not in json.dumps(rows[0].after)
    other = api.get(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{reporting['id']}/deliveries"
                    ).get_json()["items"]
    assert audit.events_for("webhook_delivery", other[0]["id"]) == []


def test_a_failing_receiver_is_retried_with_backoff_and_later_events_of_the_case_wait(
        api, webhook_settings, receiver, frozen):
    sub = created(api, receiver.url)
    start = datetime.now(UTC)
    frozen(start)
    first = Event("case.state_changed", "case-A", 1, {"case_id": "case-A", "to_state": "a"})
    second = Event("case.decided", "case-A", 2, {"case_id": "case-A", "decision": "refuse"})
    other_case = Event("case.decided", "case-B", 3, {"case_id": "case-B", "decision": "approve"})
    for event in (first, second, other_case):
        delivery.fan_out(event)
    receiver.mode = "fail"
    report = delivery.deliver_due()
    # One attempt per case: case-A's second event waits behind its first.
    assert (report.attempted, report.failed) == (2, 2)
    assert [json.loads(b)["id"] for b in receiver.bodies()] in (
        [first.id, other_case.id], [other_case.id, first.id])
    assert delivery.deliver_due().attempted == 0  # nothing due before the backoff
    receiver.mode = "ok"
    frozen(start + timedelta(minutes=1))
    assert delivery.deliver_due().delivered == 3
    ids = [json.loads(b)["id"] for b in receiver.bodies()[2:]]
    assert ids.index(first.id) < ids.index(second.id)
    log = api.get(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}/deliveries"
                  ).get_json()["items"]
    first_log = next(item for item in log if item["event_id"] == first.id)
    assert [(a["attempt"], a["outcome"], a["status_code"]) for a in first_log["log"]] == [
        (1, "http_error", 500), (2, "delivered", 204)]


def test_a_case_chain_stops_at_its_first_failure_and_resumes_in_order(
        api, webhook_settings, receiver, frozen):
    created(api, receiver.url)
    start = datetime.now(UTC)
    frozen(start)
    events = [Event("case.state_changed", "case-C", n, {"case_id": "case-C", "n": n})
              for n in range(1, 5)]
    for event in events:
        delivery.fan_out(event)
    receiver.mode = "ok-then-fail:1"  # the first arrives, the second fails
    report = delivery.deliver_due()
    assert (report.attempted, report.delivered, report.failed) == (2, 1, 1)
    assert len(receiver.received) == 2  # the third and fourth were not tried
    receiver.mode = "ok"
    frozen(start + timedelta(minutes=2))
    assert delivery.deliver_due().delivered == 3
    arrived = [json.loads(item["body"])["id"] for item in receiver.received]
    assert arrived == [events[0].id, events[1].id, events[1].id, events[2].id, events[3].id]


def test_after_24_hours_of_failures_a_delivery_is_dead_lettered_then_redelivered(
        api, webhook_settings, receiver, frozen):
    sub = created(api, receiver.url)
    start = datetime.now(UTC)
    frozen(start)
    receiver.mode = "fail"
    delivery.fan_out(Event("case.decided", "case-D", 7, {"case_id": "case-D"}))
    path = f"/api/webhooks/subscriptions/{sub['id']}/deliveries"
    now, attempts = start, 0
    while True:
        report = delivery.deliver_due()
        attempts += report.attempted
        if report.dead:
            break
        # The worker's next round that finds it due: at its scheduled retry.
        now = datetime.fromisoformat(api.get(COUNTY_ADMIN, path).get_json()["items"][0][
            "next_attempt_at"])
        frozen(now)
    assert now - start >= timedelta(hours=24) and attempts >= 8
    log = api.get(COUNTY_ADMIN, path).get_json()["items"]
    assert log[0]["status"] == "dead" and log[0]["attempts"] == attempts
    # The administrator sends it again once the receiver is fixed.
    receiver.mode = "ok"
    again = api.post(COUNTY_ADMIN, f"/api/webhooks/deliveries/{log[0]['id']}/redeliver")
    assert again.status_code == 200 and again.get_json()["status"] == "pending"
    assert delivery.deliver_due().delivered == 1
    verify(sub["secret"], receiver.received[-1])
    assert api.post("wenping_admin", f"/api/webhooks/deliveries/{log[0]['id']}/redeliver"
                    ).status_code == 404


def test_a_run_of_failures_disables_the_subscription_with_a_notice(api, app, webhook_settings,
                                                                   receiver, frozen, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER_FAILURES", 3)
    sub = created(api, receiver.url)
    receiver.mode = "fail"
    for number in range(3):
        delivery.fan_out(Event("case.decided", f"case-{number}", number + 1))
    report = delivery.deliver_due()
    assert (report.failed, report.disabled) == (3, 1)
    one = api.get(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}")
    assert one.get_json()["is_enabled"] is False and one.get_json()["waiting"] == 3
    notices = api.get(COUNTY_ADMIN, "/api/webhooks/notices").get_json()["items"]
    assert notices[0]["kind"] == "subscription_disabled"
    assert notices[0]["subscription_id"] == sub["id"]
    # Disabled: nothing more is tried, even when due.
    frozen(datetime.now(UTC) + timedelta(hours=1))
    assert delivery.deliver_due().attempted == 0
    # Enabled again (If-Match): what waited goes out.
    receiver.mode = "ok"
    enabled = api.patch(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}",
                        headers={"If-Match": one.headers["ETag"]}, json={"is_enabled": True})
    assert enabled.status_code == 200, enabled.get_json()
    assert delivery.deliver_due().delivered == 3


def test_rotation_signs_with_both_secrets_during_the_overlap(api, webhook_settings, receiver,
                                                             frozen):
    sub = created(api, receiver.url)
    etag = api.get(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}").headers["ETag"]
    stale = api.post(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}/secret",
                     headers={"If-Match": '"99"'}, json={"overlap_hours": 2})
    assert stale.status_code == 412
    rotated = api.post(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}/secret",
                       headers={"If-Match": etag}, json={"overlap_hours": 2})
    assert rotated.status_code == 200, rotated.get_json()
    new_secret = rotated.get_json()["secret"]
    assert new_secret != sub["secret"]
    delivery.fan_out(Event("case.decided", "case-R", 1))
    delivery.deliver_due()
    verify(sub["secret"], receiver.received[-1])
    verify(new_secret, receiver.received[-1])
    # After the overlap the old secret no longer verifies.
    frozen(datetime.now(UTC) + timedelta(hours=3))
    delivery.fan_out(Event("case.decided", "case-R", 2))
    delivery.deliver_due()
    verify(new_secret, receiver.received[-1])
    with pytest.raises(Exception, match="signature"):
        verify(sub["secret"], receiver.received[-1])
    from backend.audit import service as audit

    actions = [row.action for row in audit.events_for("webhook_subscription", sub["id"])]
    assert actions == ["webhook.subscription_created", "webhook.secret_rotated"]


@pytest.mark.parametrize("mode,outcome", [("hang", "timeout"), ("redirect", "redirect"),
                                          ("fail", "http_error")])
def test_bad_receivers_fail_safely_and_are_retried(api, webhook_settings, receiver, mode,
                                                   outcome):
    sub = created(api, receiver.url)
    receiver.mode = mode
    delivery.fan_out(Event("case.decided", "case-X", 1))
    report = delivery.deliver_due()
    assert (report.attempted, report.failed, report.dead) == (1, 1, 0)
    log = api.get(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}/deliveries"
                  ).get_json()["items"]
    assert log[0]["status"] == "pending" and log[0]["log"][0]["outcome"] == outcome
    assert log[0]["next_attempt_at"] is not None


def test_one_hanging_receiver_does_not_hold_up_the_others(api, webhook_settings, frozen):
    hanging, fast = Receiver().start(), Receiver().start()
    try:
        hanging.mode = "hang"
        created(api, hanging.url)
        created(api, fast.url)
        delivery.fan_out(Event("case.decided", "case-H", 1))
        report = delivery.deliver_due()
        assert (report.delivered, report.failed) == (1, 1)
        assert len(fast.received) == 1
    finally:
        hanging.stop()
        fast.stop()


def test_the_subscription_change_is_audited_and_checked(api, webhook_settings, receiver):
    sub = created(api, receiver.url)
    no_match = api.patch(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}",
                         json={"event_types": ["visit.accepted"]})
    assert no_match.status_code == 428
    etag = api.get(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}").headers["ETag"]
    refused = api.patch(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}",
                        headers={"If-Match": etag}, json={"url": "https://10.9.9.9/x"})
    assert refused.status_code == 422 and "url" in refused.get_json()["errors"]
    changed = api.patch(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}",
                        headers={"If-Match": etag}, json={"event_types": ["visit.accepted"]})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    from backend.audit import service as audit

    rows = audit.events_for("webhook_subscription", sub["id"])
    assert rows[-1].action == "webhook.subscription_changed"
    assert rows[-1].after == {"event_types": ["visit.accepted"]}


def test_rules_policy_matches_the_setting(app, webhook_settings):
    with app.test_request_context():
        assert service.url_policy() == rules.UrlPolicy(allow_http_loopback=True)


# --- from a decision to the receiver, through the outbox and the job kernel ------------------

def refuse_a_case(api, db_session):
    from tests.api.test_workflow import create_case, move

    case = create_case(api, db_session, township=TOWN, intake="longtoushan_intake")
    response = move(api, case["id"], "refused", "longtoushan_approver",
                    reasons=["家庭人均收入高于当地低保标准"])
    assert response.status_code == 200, response.get_json()
    return case


@pytest.mark.parametrize("purpose", ["reporting", "joint_handling"])
def test_a_decision_reaches_the_receiver_through_the_outbox_and_the_worker(
        api, db_session, webhook_settings, receiver, purpose):
    from backend.audit import service as audit
    from backend.webhooks import tasks

    sub = created(api, receiver.url, types=("case.decided",), purpose=purpose)
    case = refuse_a_case(api, db_session)  # the relay runs after the request (immediate)
    assert tasks.send_due() == 1  # the worker's delivery task
    assert len(receiver.received) == 1
    sent = verify(sub["secret"], receiver.received[0])
    assert sent["type"] == "case.decided" and sent["version"] == 1
    assert sent["data"]["case_id"] == case["id"] and sent["data"]["decision"] == "refuse"
    assert sent["aggregate"] == {"type": "case", "id": case["id"],
                                 "sequence": sent["aggregate"]["sequence"]}
    head_id = sent["data"]["head"]["id_number"]
    log = api.get(COUNTY_ADMIN, f"/api/webhooks/subscriptions/{sub['id']}/deliveries"
                  ).get_json()["items"]
    disclosed = [row.action for row in audit.events_for("webhook_delivery", log[0]["id"])]
    if purpose == "joint_handling":
        assert "*" not in head_id and len(head_id) == 18
        assert disclosed == ["webhook.full_id_disclosed"]
    else:
        assert "**********" in head_id and disclosed == []
    # The task again: nothing left to send, nothing sent twice.
    assert tasks.send_due() == 0 and len(receiver.received) == 1


def _json_schema(node):
    """OpenAPI 3.0's `nullable: true` as JSON Schema's "or null", everywhere in ``node``."""
    if isinstance(node, dict):
        out = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
        if node.get("nullable") and "type" in out:
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    return node


def test_the_body_matches_its_published_schema(api, db_session, client, webhook_settings,
                                               receiver):
    import jsonschema

    sub = created(api, receiver.url, types=("case.decided",), purpose="dashboard")
    refuse_a_case(api, db_session)
    delivery.deliver_due()
    sent = verify(sub["secret"], receiver.received[0])
    spec = client.get("/api/openapi.json").get_json()
    schema = _json_schema({**spec["components"]["schemas"]["WebhookCaseDecidedV1"],
                           "components": spec["components"]})
    jsonschema.validate(sent, schema)
    assert sent["data"]["head"]["name"] is None  # dashboard: nobody's name
    broken = {**sent, "data": {**sent["data"], "decision": 7}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
