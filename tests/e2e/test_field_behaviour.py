"""What the field app promised but no browser test proved (issue 13): the "new version"
prompt never interrupts a survey and updating keeps the draft; the inactivity lock (test
clock); the outbox drains on start, on reconnection and on the button; Background Sync is
registered when a record is queued offline."""

from __future__ import annotations

import pytest

from tests.e2e.test_outbox_attention import cases_on_phone
from tests.e2e.test_visit_offline import PIN_1, dibao_case_id
from tests.e2e.waits import wait_until
from tests.visit_factory import submission

pytestmark = pytest.mark.e2e


@pytest.fixture
def phone(page, sign_in):
    sign_in(page, "wenping_fw1", pin=PIN_1)
    page.wait_for_selector("#case-list .case-row")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)
    return page


def test_update_prompt_waits_for_the_survey_and_keeps_the_draft(phone, live_server):
    page = phone
    case_id = dibao_case_id(page)
    page.goto(f"/#/survey/{case_id}")
    page.wait_for_selector("[data-field=address_confirmed]")
    page.check("[data-field=address_confirmed] input[value=false]")
    page.wait_for_selector("[data-field=actual_address]")

    # A deploy: the server's sw.js changes; the phone checks for an update.
    view = live_server.app.view_functions["web.service_worker"]

    def changed():
        response = view()
        response.set_data(response.get_data() + b"\n// deployed again\n")
        return response

    live_server.app.view_functions["web.service_worker"] = changed
    try:
        page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")
        page.wait_for_selector("#banner:not([hidden]) #apply-update", timeout=30_000)
        # The survey is open: accepting does not swap the code under it.
        page.click("#apply-update")
        page.wait_for_selector("#banner .why:not(:empty)")
        assert page.get_attribute("#section-title", "data-section") == "household"
        assert page.locator("[data-field=address_confirmed] input[value=false]").is_checked()

        # Out of the survey, updating reloads into the new version.
        page.goto("/#/cases")
        page.wait_for_selector("#main[data-view=cases][data-ready=true]")
        with page.expect_event("load", timeout=30_000):
            page.click("#apply-update")
    finally:
        live_server.app.view_functions["web.service_worker"] = view
    page.wait_for_selector("#main[data-view=cases][data-ready=true]")
    page.goto(f"/#/survey/{case_id}")
    page.wait_for_selector("[data-field=actual_address]")
    assert page.locator("[data-field=address_confirmed] input[value=false]").is_checked()


def test_inactivity_lock_with_a_test_clock(page, sign_in):
    page.clock.install()
    sign_in(page, "wenping_fw1", pin=PIN_1)
    page.wait_for_selector("#case-list .case-row")
    page.clock.run_for(4 * 60 * 1000)
    assert page.locator("#lock").count() == 0  # four minutes: not yet
    page.clock.run_for(90 * 1000)
    page.wait_for_selector("#lock #unlock-pin")
    assert page.locator("#lock").count() == 1  # one overlay, however many ticks were due
    page.fill("#unlock-pin", PIN_1)
    page.click("#unlock")
    page.wait_for_selector("#lock", state="detached")


def queue(page, records):
    page.evaluate("""async (records) => {
        const outbox = await import('/static/js/outbox.js');
        for (const record of records) await outbox.enqueue(record);
    }""", records)


ACCEPTED = ("async (id) => (await (await import('/static/js/store.js'))"
            ".get('outbox', id))?.status === 'accepted'")


def drain_round(page):
    """Wait for the outbox's drain round to end (the one running, or a new one)."""
    page.evaluate("async () => { await (await import('/static/js/outbox.js')).drain(); }")


def status_of(page, record_id):
    return page.evaluate("""async (id) => {
        const store = await import('/static/js/store.js');
        return (await store.get('outbox', id))?.status;
    }""", record_id)


def test_outbox_drains_on_start(phone, context):
    page = phone
    record = submission(cases_on_phone(page)[0])
    context.set_offline(True)
    queue(page, [record])
    assert status_of(page, record["id"]) == "waiting"
    page.close()
    context.set_offline(False)
    again = context.new_page()
    again.goto("/#/cases")  # no button, no `online` event: the start drains it
    wait_until(again, ACCEPTED, record["id"])


def test_outbox_drains_on_reconnection(phone, context):
    page = phone
    record = submission(cases_on_phone(page)[0])
    context.set_offline(True)
    queue(page, [record])
    drain_round(page)  # offline: the round leaves it as it was, untried
    assert status_of(page, record["id"]) == "waiting"
    context.set_offline(False)  # the `online` event
    wait_until(page, ACCEPTED, record["id"])


def test_outbox_drains_on_the_button(phone, context):
    page = phone
    record = submission(cases_on_phone(page)[0])
    page.evaluate("""async (record) => {  // queued earlier, backing off for an hour
        const store = await import('/static/js/store.js');
        await store.put('outbox', { id: record.id, status: 'waiting', record, attempts: 1,
          queued_at: new Date().toISOString(),
          next_attempt_at: new Date(Date.now() + 3600e3).toISOString() });
    }""", record)
    page.goto("/#/outbox")
    page.reload()  # a fresh start: its drain skips what is not due
    page.wait_for_selector(f"#outbox-list li[data-id='{record['id']}'][data-status=waiting]")
    drain_round(page)
    assert status_of(page, record["id"]) == "waiting"  # online and started: not due yet
    page.click("#send-now")
    page.wait_for_selector(f"#outbox-list li[data-id='{record['id']}'][data-status=accepted]",
                           timeout=30_000)


def test_background_sync_is_registered_when_queued_offline(phone, context):
    page = phone
    if not page.evaluate("() => 'sync' in ServiceWorkerRegistration.prototype"):
        pytest.skip("this Chromium offers no Background Sync")
    record = submission(cases_on_phone(page)[0])
    context.set_offline(True)
    queue(page, [record])
    tags = page.evaluate(
        "async () => (await navigator.serviceWorker.ready).sync.getTags()")
    assert "outbox" in tags
