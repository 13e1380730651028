"""Webhooks at the desk, in real Chromium (issue 18):

- the county administrator subscribes a real receiver (http.server on 127.0.0.1) on the
  webhooks desk and copies the secret shown once;
- an approver refuses a case on the casework desk; the outbox relay hands the decision on
  (after the request, as the e2e server runs its jobs at once), the worker's delivery task
  sends it, and the receiver gets one signed POST that the independent `standardwebhooks`
  package verifies; the desk's delivery log shows it delivered;
- the receiver goes down; two more cases are refused; the deliveries fail and are retried
  with backoff (the worker's task is run by hand and the server's clock moved on, rather
  than waiting); the receiver comes back on the same port and every event arrives, none
  lost, none twice, each case's events in order; the administrator sends one again.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from backend import clock
from backend.demo import resident_id
from backend.webhooks import delivery
from tests.conftest import Api
from tests.e2e.accessibility import axe_violations
from tests.webhook_receiver import Receiver, verify

pytestmark = pytest.mark.e2e

VILLAGE = "530621101201"
TOWN = "longtoushan"
HEAD_IDS = iter(resident_id("530621", date(1960, 1, 1) + timedelta(days=n), 51 + n)
                for n in range(100))


@pytest.fixture(scope="module")
def api(live_server):
    live_server.app.config["WEBHOOK_ALLOW_HTTP_LOOPBACK"] = True
    live_server.app.config["WEBHOOK_READ_TIMEOUT"] = 1
    return Api(live_server.app.test_client())


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def frozen_clock():
    yield clock.freeze
    clock.freeze(None)


def new_case(api, names):
    head_id = next(HEAD_IDS)
    household = api.post(f"{TOWN}_intake", "/api/households", json={
        "jurisdiction_code": VILLAGE, "address": "龙井村5组2号", "home_lat": 27.0967,
        "home_lon": 103.4070, "is_relative_of_staff": False,
        "members": [{"name": names[0], "relation": "head", "id_number": head_id},
                    {"name": names[1], "relation": "spouse", "id_number": None}]})
    assert household.status_code == 201, household.get_json()
    case = api.post(f"{TOWN}_intake", "/api/cases", json={
        "household_id": household.get_json()["id"], "kind": "dibao", "temporary_subtype": None,
        "channel": "window", "is_economic_check_authorized": False, "has_honesty_pledge": False})
    assert case.status_code == 201, case.get_json()
    return case.get_json()["id"], head_id


def refuse_on_the_desk(page, case_id):
    # By way of the to-do list: the case screen then shown is this case's, not the one
    # before (which was ready too); its step counter starts afresh.
    page.goto("/#/work")
    page.wait_for_selector("#main[data-view=work][data-ready=true]")
    page.goto(f"/#/work-case/{case_id}")
    page.wait_for_selector("#main[data-view=work-case][data-ready=true]")
    page.evaluate("() => { delete document.querySelector('#main').dataset.steps; }")
    before = 0
    page.click("#wf-open-to-refused")
    page.fill("#wf-f-to-refused-reasons", "家庭人均收入高于当地低保标准")
    page.click("#wf-do-to-refused")
    page.wait_for_function(
        f"() => Number(document.querySelector('#main').dataset.steps || 0) > {before}")
    assert page.get_attribute("#wf-status", "data-status") == "refused"


def run_worker(live_server):
    """The worker's delivery task, run once here (what `flask worker` runs when queued)."""
    with live_server.app.app_context():
        return delivery.deliver_due()


def open_webhooks(page):
    page.click("a.desk-tab[href='#/webhooks']")
    page.wait_for_selector("#main[data-view=webhooks][data-ready=true]")


def show_log(page, subscription_id):
    drawn = int(page.get_attribute("#main", "data-drawn") or 0)
    page.click(f"#wh-show-log-{subscription_id}")
    page.wait_for_function(
        f"() => Number(document.querySelector('#main').dataset.drawn || 0) > {drawn}")
    page.wait_for_selector("#wh-log")


def test_a_decision_reaches_a_subscribed_receiver_and_survives_its_outage(
        api, desk, live_server, receiver, frozen_clock):
    admin = desk("county_admin")
    open_webhooks(admin)
    assert admin.locator("#wh-list tbody tr td.muted").count() == 1  # none yet
    assert axe_violations(admin) == []

    # Bad input names the field: a private address.
    admin.fill("#wh-url", "https://10.0.0.8/hook")
    admin.check("#wh-type-case-decided")
    admin.click("#wh-create")
    admin.wait_for_function("() => document.querySelector('#wh-create-error')?.textContent")
    assert "https" in admin.inner_text("#wh-create-error")

    # Subscribe the receiver; the secret is shown once.
    admin.fill("#wh-url", receiver.url)
    admin.select_option("#wh-purpose", "reporting")
    admin.fill("#wh-description", "县医保局")
    admin.click("#wh-create")
    admin.wait_for_selector("#wh-secret")
    secret = admin.input_value("#wh-secret")
    assert secret.startswith("whsec_")
    assert "只显示这一次" in admin.inner_text("#wh-secret-box")
    subscription_id = admin.get_attribute("#wh-list tbody tr[data-id]", "data-id")
    assert admin.locator("#wh-log-empty").count() == 1
    assert axe_violations(admin) == []

    # An approver refuses a case on the casework desk: one signed POST.
    first_case, head_id = new_case(api, ("孙桂兰", "马建国"))
    approver = desk(f"{TOWN}_approver")
    refuse_on_the_desk(approver, first_case)
    report = run_worker(live_server)
    assert report.delivered == 1
    assert len(receiver.received) == 1
    sent = verify(secret, receiver.received[0])
    assert sent["type"] == "case.decided" and sent["data"]["case_id"] == first_case
    assert sent["data"]["decision"] == "refuse"
    assert head_id not in receiver.received[0]["body"].decode()  # reporting: masked
    assert receiver.received[0]["headers"]["webhook-id"] == sent["id"]

    # The delivery log on the desk.
    show_log(admin, subscription_id)
    row = admin.locator(f"#wh-log-table tr[data-event-id='{sent['id']}']")
    assert row.get_attribute("data-status") == "delivered"
    assert "204" in row.inner_text() and "已送达" in row.inner_text()
    assert axe_violations(admin) == []

    # From now on the case's state changes go too: two events per refused case.
    etag = api.get("county_admin", f"/api/webhooks/subscriptions/{subscription_id}"
                   ).headers["ETag"]
    changed = api.patch("county_admin", f"/api/webhooks/subscriptions/{subscription_id}",
                        headers={"If-Match": etag},
                        json={"event_types": ["case.decided", "case.state_changed"]})
    assert changed.status_code == 200, changed.get_json()

    # The receiver goes down; two cases are refused meanwhile.
    port = receiver.port
    receiver.stop()
    cases = [new_case(api, ("周秀英", "黄志强"))[0], new_case(api, ("吴玉兰", "郭文军"))[0]]
    for case_id in cases:
        refuse_on_the_desk(approver, case_id)
    start = datetime.now(UTC)
    frozen_clock(start)
    failed = run_worker(live_server)
    assert failed.attempted == 2 and failed.failed == 2  # one per case: the next waits
    frozen_clock(start + timedelta(minutes=10))
    assert run_worker(live_server).failed == 2  # still down: retried, failed again
    show_log(admin, subscription_id)
    waiting = admin.locator("#wh-log-table tr[data-status=pending]")
    assert waiting.count() == 4
    assert axe_violations(admin) == []

    # Back on the same port: the retries arrive, nothing lost, nothing out of order.
    back = Receiver(port).start()
    try:
        frozen_clock(start + timedelta(hours=1))
        assert run_worker(live_server).delivered == 4
        bodies = [verify(secret, item) for item in back.received]
        assert len(bodies) == 4 and len({body["id"] for body in bodies}) == 4
        for case_id in cases:
            mine = [body for body in bodies if body["aggregate"]["id"] == case_id]
            assert [body["type"] for body in mine] == ["case.state_changed", "case.decided"]
            sequences = [body["aggregate"]["sequence"] for body in mine]
            assert sequences == sorted(sequences)
        show_log(admin, subscription_id)
        assert admin.locator("#wh-log-table tr[data-status=delivered]").count() == 5
        # The log is newest first: the case's first event failed twice, then arrived.
        retried = admin.locator(f"#wh-log-table tr[data-aggregate-id='{cases[0]}']").last
        assert retried.locator("td.num").first.inner_text() == "3"  # attempts
        assert axe_violations(admin) == []

        # The administrator sends the first decision again: the same id, signed afresh.
        first_row = admin.locator(f"#wh-log-table tr[data-event-id='{sent['id']}']")
        drawn = int(admin.get_attribute("#main", "data-drawn") or 0)
        first_row.locator("button").click()
        admin.wait_for_function(
            f"() => Number(document.querySelector('#main').dataset.drawn || 0) > {drawn}")
        assert admin.locator(f"#wh-log-table tr[data-event-id='{sent['id']}']"
                             ).get_attribute("data-status") == "pending"
        assert run_worker(live_server).delivered == 1
        again = verify(secret, back.received[-1])
        assert again["id"] == sent["id"] and again["data"] == sent["data"]
    finally:
        back.stop()

    # The desk in English: the same log, its words from the English dictionary.
    admin.click("#toggle-lang")
    admin.wait_for_function("() => document.querySelector('h1')?.textContent === 'Webhooks'")
    open_webhooks(admin)
    show_log(admin, subscription_id)
    assert "Delivered" in admin.inner_text("#wh-log-table")
    assert axe_violations(admin) == []
    assert json.loads(back.received[0]["body"])["jurisdiction_code"].startswith("530621")
