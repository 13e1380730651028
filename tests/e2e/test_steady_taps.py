"""Issue 25: a survey that never loses a tap, on a slow phone (Chromium at 4x CPU throttle).

Every radio, checkbox and select of the household survey is tapped, at human speed (the
next tap waits until the screen says it is ready) and as fast as the page allows (the next
tap waits only for Playwright's own actionability checks), while GPS fixes arrive (the
geolocation override moves) and a photo is added. Then:

- the draft saved in IndexedDB holds exactly what was tapped last on every field;
- no element the finger was on was replaced under it (a MutationObserver watches the last
  touched element), and a tapped radio keeps the focus through the redraw it causes.

The same discipline is checked on the recipient's check-in screen and on the review desk's
send-back (comment) dialog.
"""

from __future__ import annotations

import base64

import pytest
import test_checkin as checkin
import test_review_flow as review_flow
import test_visit_offline as visit

from tests.e2e.test_outbox_attention import cases_on_phone
from tests.e2e.waits import wait_until
from tests.visit_factory import submission

pytestmark = pytest.mark.e2e

field_phone = visit.field_phone  # the fixture: fw1 signed in, fw2 added, cases pulled
reviewer = review_flow.reviewer  # the fixture: a reviewer at a desk, signed in
PHOTO = visit.PHOTOS / "visit_gps.jpg"

# The last touched element, and every time it was taken out of the page while the screen
# stayed the same (`lost`); a focused form control that lost the focus to <body> (`blurred`).
WATCH = """() => {
  if (window.__steady) return;
  const steady = window.__steady = { touched: null, lost: [], blurred: [] };
  const name = (el) => el.dataset?.path || el.id || el.name || el.tagName;
  const touch = (event) => { if (event.target instanceof Element) steady.touched = event.target; };
  document.addEventListener('pointerdown', touch, true);
  document.addEventListener('change', touch, true);
  const main = () => document.getElementById('main');
  let view = main()?.dataset.view;
  let section = document.getElementById('section-title')?.dataset.section;
  new MutationObserver(() => {
    const nowView = main()?.dataset.view;
    const nowSection = document.getElementById('section-title')?.dataset.section;
    const sameScreen = nowView === view && nowSection === section;
    const el = steady.touched;
    if (el && !el.isConnected && sameScreen) {
      steady.lost.push(`${name(el)}=${el.value ?? ''}`);
      steady.touched = null;
    }
    view = nowView; section = nowSection;
  }).observe(document.body, { childList: true, subtree: true });
}"""

DRAFT = """async (caseId) => {
  const { allByIndex } = await import('/static/js/store.js');
  return (await allByIndex('drafts', 'case_id', caseId)).find((d) => d.state === 'draft') ?? null;
}"""


def throttle(context, page, rate: int = 4):
    """A slow phone: the renderer runs `rate` times slower (Chrome DevTools Protocol)."""
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    return cdp


class Fingers:
    """Taps at one of two speeds and remembers what the draft must hold afterwards."""

    def __init__(self, page, context, fast: bool):
        self.page, self.context, self.fast = page, context, fast
        self.expected: dict[str, object] = {}
        self.fixes: list[tuple[float, float]] = []
        self.taps = 0

    def settle(self):
        if not self.fast:
            self.page.wait_for_selector("#main[data-view=survey][data-ready=true]",
                                        state="attached")

    def move_gps(self):
        """A new fix arrives every few taps."""
        self.taps += 1
        if self.taps % 7:
            return
        lat = visit.HOME["latitude"] + 0.0001 * (len(self.fixes) + 1)
        lon = visit.HOME["longitude"]
        self.fixes.append((round(lat, 6), lon))
        self.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 9})

    def block(self, path: str):
        return self.page.locator(f"#main [data-field='{path}']")

    def radio(self, path: str, value: bool):
        self.block(path).locator(f"input[type=radio][value={str(value).lower()}]").click()
        self.expected[path] = value
        self.move_gps()
        self.settle()

    def select(self, path: str, index: int):
        select = self.block(path).locator("select")
        select.select_option(index=index)
        self.expected[path] = select.evaluate("(el) => el.options[el.selectedIndex].value")
        self.move_gps()
        self.settle()

    def checkbox(self, path: str, value: str):
        box = self.block(path).locator(f"input[type=checkbox][value='{value}']")
        box.click()
        self.move_gps()
        self.settle()

    def confirm(self, path: str):
        self.block(path).locator("input[type=checkbox]").click()
        self.expected[path] = True
        self.settle()

    def text(self, path: str, value: str, typed: object):
        field = self.block(path).locator("input")
        field.fill(value)
        field.dispatch_event("change")
        self.expected[path] = typed
        self.settle()


def every_select(fingers: Fingers, path: str, final: int):
    count = fingers.block(path).locator("option").count()
    for index in list(range(1, count)) + [final]:
        fingers.select(path, index)


def tap_household(fingers: Fingers):
    fingers.radio("address_confirmed", False)
    fingers.text("actual_address", "砚池社区3组12号", "砚池社区3组12号")
    fingers.radio("address_confirmed", True)
    fingers.radio("address_confirmed", False)
    fingers.radio("address_confirmed", True)
    fingers.expected.pop("actual_address")  # hidden again: the draft may keep it
    every_select(fingers, "housing_type", 2)
    fingers.text("housing_area", "45", 45)
    for value in (True, False, True):
        fingers.radio("has_running_water", value)
    every_select(fingers, "heating", 3)
    choices = fingers.block("appliances").locator("input[type=checkbox]").evaluate_all(
        "(els) => els.map((el) => el.value)")
    for value in choices + choices[:2]:
        fingers.checkbox("appliances", value)
    fingers.expected["appliances"] = choices[2:]
    # A GPS fix for the home, taken while the fixes move, and a photo of the house.
    fingers.move_gps()
    fingers.page.click("#main [data-field=visit_location] button")
    fingers.page.set_input_files("#main [data-field=house_photo] input[type=file]", str(PHOTO))
    fingers.radio("has_running_water", False)
    fingers.page.wait_for_selector("#main [data-field=visit_location] .hint")
    fingers.page.wait_for_selector("#main [data-field=house_photo] .thumbs img")


def tap_members(fingers: Fingers):
    page = fingers.page
    count = page.locator("#main [data-repeat=members] .repeat").count()
    for index in range(count):
        prefix = f"members.{index}"
        if fingers.block(f"{prefix}.confirmed_on_site").count():
            fingers.confirm(f"{prefix}.confirmed_on_site")
        for name, final in (("relation", 1), ("sex", 1), ("health", 1), ("education", 2),
                            ("marital_status", 1), ("work_status", 1)):
            every_select(fingers, f"{prefix}.{name}", final)
        for value in (True, False, True, False):
            fingers.radio(f"{prefix}.can_work", value)
        for name, value in (("name", f"成员{index}"), ("age", "40")):
            if not fingers.block(f"{prefix}.{name}").locator("input").input_value():
                fingers.text(f"{prefix}.{name}", value, int(value) if value.isdigit() else value)
        if not fingers.block(f"{prefix}.id_number").locator("input").input_value():
            fingers.text(f"{prefix}.id_number", visit.resident_id(), visit.resident_id())


def tap_property(fingers: Fingers):
    fingers.text("deposits", "100", 100)
    fingers.text("vehicle_count", "0", 0)
    for value in (True, False, True, False):
        fingers.radio("owns_other_housing", value)
    for value in (False, True, False, True):
        fingers.radio("owns_business", value)


def saved(page, case_id: str) -> dict:
    return page.evaluate(DRAFT, case_id)


def differences(draft: dict, expected: dict) -> dict:
    def at(path):
        node = draft["data"]
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else (node or {}).get(part)
        return node
    return {path: (at(path), want) for path, want in expected.items() if at(path) != want}


@pytest.mark.parametrize("speed", ["human", "fast"])
def test_every_tap_of_the_survey_is_saved_on_a_slow_phone(field_phone, context, speed):
    page = field_phone
    case_id = visit.dibao_case_id(page)
    page.evaluate("""async (caseId) => {   // a fresh survey for each speed
        const { allByIndex, del } = await import('/static/js/store.js');
        for (const d of await allByIndex('drafts', 'case_id', caseId)) await del('drafts', d.id);
    }""", case_id)
    throttle(context, page)
    page.goto(f"/#/survey/{case_id}")
    page.wait_for_selector("#main[data-view=survey][data-ready=true]")
    page.evaluate(WATCH)
    fingers = Fingers(page, context, fast=speed == "fast")

    tap_household(fingers)
    # A tapped radio keeps the focus through the redraw it causes.
    page.wait_for_selector("#main[data-view=survey][data-ready=true]", state="attached")
    focused = page.evaluate("() => document.activeElement?.name")
    visit.next_section(page)
    tap_members(fingers)
    visit.next_section(page)
    tap_property(fingers)

    page.wait_for_selector("#main[data-view=survey][data-ready=true]", state="attached")
    try:
        wait_until(page, """async ([caseId, expected]) => {
            const { allByIndex } = await import('/static/js/store.js');
            const draft = (await allByIndex('drafts', 'case_id', caseId))
                .find((d) => d.state === 'draft');
            const at = (path) => path.split('.').reduce((node, part) => node?.[part], draft.data);
            return Object.entries(expected).every(([path, want]) =>
                JSON.stringify(at(path)) === JSON.stringify(want));
        }""", arg=[case_id, fingers.expected], timeout_s=20)
    except AssertionError:
        pass  # the assertion below says what differs
    draft = saved(page, case_id)
    assert differences(draft, fingers.expected) == {}
    # The photo and the home's fix: what was taken, once.
    assert len(draft["photos"]) == 1
    assert draft["data"]["house_photo"] == draft["photos"][0]["sha256"]
    location = draft["data"]["visit_location"]
    assert (round(location["lat"], 6), location["lon"]) in [
        (round(visit.HOME["latitude"], 6), visit.HOME["longitude"]), *fingers.fixes]
    assert [s["kind"] for s in draft["stamps"]] == ["start"]
    watched = page.evaluate("() => window.__steady")
    assert watched["lost"] == [], "elements replaced under the finger"
    assert focused == "has_running_water"
    assert page.js_errors == []


def test_a_check_in_on_a_slow_phone_is_queued_once_with_the_fix_it_was_taken_at(
        live_server, context, page):
    app = live_server.app
    app.config["IDENTITY_VERIFIER"] = "none"
    code, _recipient_id = checkin.enrol(app, index=1, phone="13912345679")
    context.grant_permissions(["geolocation"])
    context.set_geolocation(checkin.HOME)
    page.goto(f"/checkin?code={code}")
    page.wait_for_selector("#activate-form")
    page.fill("#pin-new", checkin.PIN)
    page.fill("#pin-again", checkin.PIN)
    page.click("#activate-submit")
    page.wait_for_selector("#checkin-home")
    page.wait_for_selector("#main[data-ready=true]", state="attached")
    throttle(context, page)
    context.set_offline(True)
    page.click("#checkin-start")
    page.wait_for_selector("#checkin-flow")
    for n in range(6):  # the fix moves while the recipient listens and aims the camera
        context.set_geolocation({"latitude": checkin.HOME["latitude"] + 0.0001 * n,
                                 "longitude": checkin.HOME["longitude"], "accuracy": 9})
        page.click("#checkin-speak")
    # The photo chosen twice in a row (a double tap): one check-in, not two.
    page.evaluate("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const input = document.getElementById('checkin-photo');
        const chosen = new DataTransfer();
        chosen.items.add(new File([bytes], 'selfie.jpg',
                                  { type: 'image/jpeg', lastModified: Date.now() }));
        input.files = chosen.files;
        input.dispatchEvent(new Event('change', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
    }""", base64.b64encode(PHOTO.read_bytes()).decode())
    page.wait_for_selector("#checkin-saved")
    page.wait_for_selector("#main[data-ready=true]", state="attached")
    queued = page.evaluate("""async () => {
        const { all } = await import('/static/js/store.js');
        return (await all('outbox')).filter((e) => e.record?.type === 'checkin')
            .map((e) => e.record);
    }""")
    assert len(queued) == 1, queued
    assert queued[0]["location"]["lon"] == checkin.HOME["longitude"]
    stored = page.evaluate("async () => (await (await import('/static/js/store.js')).all('photos'))"
                           ".map((p) => p.sha256)")
    assert queued[0]["photo"]["sha256"] in stored  # the photo, kept on the phone
    # Back home: the "sent when online" line goes as soon as nothing waits any more.
    page.click("#checkin-back")
    page.wait_for_selector("#checkin-queued")
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#checkin-queued", state="detached")
    page.wait_for_selector("#main[data-ready=true]", state="attached")
    assert page.js_errors == []


# The most toasts on screen at once since the watch began.
TOAST_WATCH = """() => {
  window.__toasts = 0;
  const host = document.getElementById('toasts');
  new MutationObserver(() => {
    window.__toasts = Math.max(window.__toasts, host.querySelectorAll('.toast').length);
  }).observe(host, { childList: true });
}"""


def test_field_screens_settle_say_so_and_read_right(field_phone, context):
    """Issue 21's field-app defects of the same family: every phone screen sets data-ready;
    section buttons are at least 44 px tall; location buttons say "take again" after a fix;
    photo toasts do not stack; no "null" under the signing card; "sent when online" goes
    once nothing waits."""
    page = field_phone
    case_id = visit.dibao_case_id(page)
    for path, view in (("settings", "settings"), ("outbox", "outbox"), ("cases", "cases"),
                       (f"case/{case_id}", "case"), ("add-investigator", "add-investigator")):
        page.goto(f"/#/{path}")
        page.wait_for_selector(f"#main[data-view='{view}'][data-ready=true]")

    page.goto(f"/#/survey/{case_id}")
    page.wait_for_selector("#main[data-view=survey][data-ready=true]")
    heights = page.locator("nav.steps button").evaluate_all(
        "(els) => els.map((el) => el.getBoundingClientRect().height)")
    assert min(heights) >= 44, heights
    page.click("#main [data-field=visit_location] button")
    page.wait_for_selector("#main [data-field=visit_location] .hint")
    assert page.inner_text("#main [data-field=visit_location] button") == "重新定位"

    # The review step (the draft says so), where the stamps, photos and signatures are.
    page.evaluate("""async (caseId) => {
        const store = await import('/static/js/store.js');
        const draft = (await store.allByIndex('drafts', 'case_id', caseId))
            .find((d) => d.state === 'draft');
        await store.put('drafts', { ...draft, step_name: '__review' });
    }""", case_id)
    page.reload()
    page.wait_for_selector("#main[data-view=survey][data-ready=true] #attest")
    page.wait_for_selector("#gps-start:not(:empty)")
    assert page.inner_text("#gps-start-take") == "重新定位"
    assert "null" not in page.inner_text("#attest")
    page.evaluate(TOAST_WATCH)
    page.set_input_files("#visit-photo", [str(visit.PHOTOS / "visit_gps.jpg"),
                                          str(visit.PHOTOS / "other_scene.jpg"),
                                          str(visit.PHOTOS / "visit_plain.png")])
    page.wait_for_function("() => document.querySelectorAll('#photo-thumbs img').length === 3")
    assert page.evaluate("() => window.__toasts") == 1  # one photo toast, replaced in place

    # "Queued, sent when online" goes as soon as nothing waits any more.
    page.goto("/#/outbox")
    page.wait_for_selector("#main[data-view=outbox][data-ready=true]")
    record = submission(cases_on_phone(page)[1])
    page.evaluate("""async (record) => {
        const { toast } = await import('/static/js/dom.js');
        const { t } = await import('/static/js/i18n.js');
        const outbox = await import('/static/js/outbox.js');
        toast(t('survey.queued'), 'info', { key: outbox.QUEUED_TOAST });
        await outbox.enqueue(record);
    }""", record)
    page.wait_for_selector(f"#outbox-list li[data-id='{record['id']}'][data-status=accepted]")
    page.wait_for_selector("#outbox-count[hidden]", state="attached")
    assert page.locator("#toasts .toast").count() == 0
    assert page.js_errors == []


def test_the_send_back_dialog_keeps_every_choice_on_a_slow_desk(reviewer, live_server):
    """The review desk's comment dialog at 4x throttle: every field of the visit chosen in
    turn as fast as the page allows, the reason typed key by key: what the server keeps is
    exactly the last choice and the words typed."""
    from backend.demo import seed_reviewed_visits
    from backend.extensions import db

    with live_server.app.app_context():
        seed_reviewed_visits(live_server.app.extensions["doorstep.sync"])
        db.session.commit()
        db.session.remove()
    desk = reviewer
    submission_id = desk.evaluate("""async () => {
        const { api } = await import('/static/js/api.js');
        return (await api.get('/api/reviews?state=received&limit=1')).items[0].submission_id;
    }""")
    desk.goto(f"/#/review/{submission_id}")
    desk.wait_for_selector("#main[data-view=review][data-ready=true]")
    throttle(desk.context, desk)
    desk.click("#act-has_issues")
    desk.wait_for_selector("#issue-dialog[open]")
    choices = desk.locator("#issue-field option").evaluate_all(
        "(els) => els.map((el) => el.value)")
    words = "请核实住房面积"
    for index, value in enumerate(choices[1:]):
        desk.select_option("#issue-field", value)
        desk.locator("#issue-text").press_sequentially(words[index % len(words)])
    final = choices[len(choices) // 2]
    desk.select_option("#issue-field", final)
    desk.fill("#issue-text", "")
    desk.locator("#issue-text").press_sequentially(words)
    desk.click("#issue-send")
    desk.wait_for_selector("#review-state[data-state=has_issues]")
    desk.wait_for_selector("#main[data-view=review][data-ready=true]")
    comments = desk.evaluate("""async (id) => {
        const { api } = await import('/static/js/api.js');
        return (await api.get(`/api/reviews/${id}/evidence`)).comments;
    }""", submission_id)
    assert [(c["field"], c["text"]) for c in comments] == [(final, words)]
