"""The case workflow at the desk, in real Chromium on a desktop viewport (issue 11):

- one dibao case from application, through the synced visit, review, county spot check,
  public notice and an objection that reopens it, to approval with the computed amount;
- one refusal, with its letter (the PDF downloaded from the screen, its text extracted);
- one emergency aid decided within the day.

Seeded through the API, not the phone (the phone's side has its own e2e tests): the
households and cases, the visit team, the two investigators' device keys and the attested
visit they sync, and the review that approves it. Everything a clerk, reviewer, approver or
county supervisor does is done on the desk screens. The notice's 7 days pass by freezing the
server's clock (backend.clock.freeze), the way the API tests move time.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdf
import pytest

from backend import clock
from backend.demo import resident_id
from tests.conftest import Api
from tests.device_keys import registered_key
from tests.e2e.accessibility import axe_violations, shot
from tests.e2e.conftest import DESK
from tests.visit_factory import attest, submission

pytestmark = pytest.mark.e2e


VILLAGE = "530621101201"  # 龙井村, 龙头山镇: no panel review unless an objection calls one
TOWN = "longtoushan"
HEAD_ID = resident_id("530621", date(1962, 3, 9), 31)
SPOUSE_ID = resident_id("530621", date(1965, 7, 1), 42)
MINOR_ID = resident_id("530621", date(2015, 5, 20), 17)


# --------------------------------------------------------------------------- seeding (API)

@pytest.fixture(scope="module")
def api(live_server):
    return Api(live_server.app.test_client())


def _ok(response, status=(200, 201)):
    assert response.status_code in ((status,) if isinstance(status, int) else status), \
        response.get_json()
    return response.get_json()


def new_case(api, kind="dibao", subtype=None, *, names=("罗德明", "杨春梅", "罗子涵"),
             relative_of_staff=False, applied=True):
    """A household of two adults and a minor in 龙井村, and a case at intake (accepted)."""
    household = _ok(api.post(f"{TOWN}_intake", "/api/households", json={
        "jurisdiction_code": VILLAGE, "address": "龙井村3组18号", "home_lat": 27.0967,
        "home_lon": 103.4070, "is_relative_of_staff": relative_of_staff,
        "relative_of_staff_note": "村委会成员之弟" if relative_of_staff else None,
        "members": [{"name": names[0], "relation": "head", "id_number": HEAD_ID},
                    {"name": names[1], "relation": "spouse", "id_number": SPOUSE_ID},
                    {"name": names[2], "relation": "child", "id_number": MINOR_ID}]}))
    return _ok(api.post(f"{TOWN}_intake", "/api/cases", json={
        "household_id": household["id"], "kind": kind, "temporary_subtype": subtype,
        "channel": "window", "is_economic_check_authorized": False,
        "has_honesty_pledge": False}))


def case_view(api, case_id, username=f"{TOWN}_intake"):
    response = api.get(username, f"/api/cases/{case_id}")
    return _ok(response), response.headers["ETag"]


def sync_attested_visit(api, case_id, devices=("device-wf000001", "device-wf000002")):
    """The two investigators' visit, signed by both on their phones (``devices``) and synced;
    then the reviewer approves it (the visit review of issue 10)."""
    case, etag = case_view(api, case_id)
    _ok(api.put(f"{TOWN}_intake", f"/api/cases/{case_id}/team", headers={"If-Match": etag},
                json={"user_ids": [api.user_id(f"{TOWN}_fw1"), api.user_id(f"{TOWN}_fw2")]}))
    case, _ = case_view(api, case_id, f"{TOWN}_fw1")
    pair1, key1 = registered_key(api, f"{TOWN}_fw1", devices[0])
    pair2, key2 = registered_key(api, f"{TOWN}_fw2", devices[1])
    record = submission(case)
    attest(record, api.user_id(f"{TOWN}_fw1"), key1, pair1)
    attest(record, api.user_id(f"{TOWN}_fw2"), key2, pair2)
    pushed = _ok(api.post(f"{TOWN}_fw1", "/api/sync/push", json={
        "device_id": devices[0], "records": [record]}))
    assert pushed["results"][0]["status"] == "accepted", pushed
    review = api.get(f"{TOWN}_reviewer", f"/api/reviews/{record['id']}")
    _ok(review)
    _ok(api.post(f"{TOWN}_reviewer", f"/api/reviews/{record['id']}/transitions",
                 headers={"If-Match": review.headers["ETag"]}, json={"to": "approved"}))


# --------------------------------------------------------------------------- the desk (UI)

def open_case(page, case_id):
    """Show the case afresh (a hash that does not change would not re-render it)."""
    if page.url.endswith(f"#/work-case/{case_id}"):
        page.reload()
    else:
        page.goto(f"/#/work-case/{case_id}")
    page.wait_for_selector("#main[data-view=work-case][data-ready=true]")


def steps(page) -> int:
    return int(page.get_attribute("#main", "data-steps") or 0)


def act(page, action_id, fill=None, check=()):
    """Open an action's form (if it has one), fill it, send it; wait for the answer."""
    before = steps(page)
    if page.locator(f"#wf-open-{action_id}").count():
        if not page.locator(f"#wf-action-{action_id}[open]").count():
            page.click(f"#wf-open-{action_id}")
        for name, value in (fill or {}).items():
            field = f"#wf-f-{action_id}-{name.replace('.', '-')}"
            if page.locator(f"select{field}").count():
                page.select_option(field, value)
            else:
                page.fill(field, value)
        for name in check:
            page.check(f"#wf-f-{action_id}-{name.replace('.', '-')}")
    page.click(f"#wf-do-{action_id}")
    page.wait_for_function(
        f"() => Number(document.querySelector('#main').dataset.steps || 0) > {before}")


def status(page) -> str:
    """The case's step as the screen shows it (with the problem shown, if any, on failure)."""
    shown = page.get_attribute("#wf-status", "data-status")
    problem = page.locator("#wf-problem")
    return shown if not problem.count() else f"{shown} ({problem.inner_text()})"


def pdf_text_of_download(page, button) -> str:
    with page.expect_download() as download:
        page.click(button)
    body = Path(download.value.path()).read_bytes()
    assert body.startswith(b"%PDF-")
    pages = pypdf.PdfReader(io.BytesIO(body)).pages
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in pages))


@pytest.fixture
def frozen_clock():
    """Move the server's clock; put it back whatever happens."""
    def move(to):
        clock.freeze(to)
    yield move
    clock.freeze(None)


# --------------------------------------------------------------------------- the tests

def test_dibao_from_application_to_approval_with_an_objection(api, desk, frozen_clock):
    # 龙井村 posts the review-stage notice (004, 57号: no panel unless an objection calls
    # one); its township, on 002, drops it (issue 19): the village's own setting, the county's.
    _ok(api.patch("county_admin", f"/api/jurisdictions/{VILLAGE}/settings",
                  json={"settings": {"is_review_stage_notice_held": True}}))
    case = new_case(api, relative_of_staff=True)  # a staff relative: 100% county check (004)
    case_id = case["id"]

    # Intake: the desk's list says what to do next; the application is recorded with the
    # missing documents listed at once, then the investigation starts.
    intake = desk(f"{TOWN}_intake")
    intake.click("#nav-work")
    intake.wait_for_selector("#main[data-view=work][data-ready=true]")
    row = intake.locator(f"tr[data-case-id='{case_id}']")
    assert row.get_attribute("data-task") == "start_investigation"
    assert axe_violations(intake) == []
    row.locator("a").click()
    intake.wait_for_selector("#main[data-view=work-case][data-ready=true]")
    assert status(intake) == "accepted"
    act(intake, "to-investigating")
    assert intake.get_attribute("#wf-problem", "data-type") == "pledge-missing"
    assert "诚信承诺书" in intake.inner_text("#wf-problem")
    act(intake, "application", fill={"missing_documents": "户口簿复印件\n近六个月收入证明"},
        check=("pledge", "authorization"))
    assert intake.locator("#wf-ok").count() == 1
    intake.click("#wf-html-missing_documents_notice")
    intake.wait_for_selector("#wf-doc-preview")
    preview = intake.inner_text("#wf-doc-preview")
    assert "一次性告知书" in preview and "近六个月收入证明" in preview
    assert axe_violations(intake) == []
    act(intake, "to-investigating")
    assert status(intake) == "investigating"
    act(intake, "economic_check", fill={"requested_on": "2026-11-20", "returned_on": "2026-11-25",
                                        "result": "eligible"})
    assert intake.locator("#wf-ok").count() == 1

    # The reviewer cannot review before the visit is synced, attested and approved (004).
    reviewer = desk(f"{TOWN}_reviewer")
    open_case(reviewer, case_id)
    act(reviewer, "to-reviewing", fill={"proposal.per_capita_income_yuan": "200"})
    assert reviewer.get_attribute("#wf-problem", "data-type") == "home-visit-incomplete"
    sync_attested_visit(api, case_id)
    open_case(reviewer, case_id)
    act(reviewer, "to-reviewing", fill={"proposal.per_capita_income_yuan": "200"})
    assert status(reviewer) == "reviewing"
    # (650 standard − 200 per-capita income) × 3 members = 1,350 yuan a month (003)
    assert reviewer.get_attribute("#wf-proposal", "data-amount") == "1350.00"
    act(reviewer, "to-public_notice")
    assert status(reviewer) == "public_notice"

    # The notice shows the adults, never the minor, nor any ID number (004, 43号).
    reviewer.click("#wf-html-public_notice")
    reviewer.wait_for_selector("#wf-doc-preview")
    notice = reviewer.inner_text("#wf-doc-preview")
    assert "罗德明" in notice and "杨春梅" in notice and "1,350.00" in notice
    assert "罗子涵" not in notice and HEAD_ID not in notice
    text = pdf_text_of_download(reviewer, "#wf-pdf-public_notice")
    assert "罗德明" in text and "杨春梅" in text and "罗子涵" not in text
    assert not re.search(r"\d{17}[\dX]", text)
    assert axe_violations(reviewer) == []

    # An objection, recorded at the desk, reopens the investigation (001, 002) and calls a
    # panel, then a new notice (57号).
    open_case(intake, case_id)
    act(intake, "to-investigating", fill={"objection.raised_by_name": "村民李某",
                                          "objection.content": "申请人家中有一辆货车"})
    assert status(intake) == "investigating"
    assert "申请人家中有一辆货车" in intake.inner_text("#wf-facts")
    open_case(reviewer, case_id)
    act(reviewer, "to-reviewing", fill={"proposal.per_capita_income_yuan": "200"})
    assert reviewer.get_attribute("#wf-problem", "data-type") == "panel-required"
    act(reviewer, "to-panel_review")
    assert status(reviewer) == "panel_review"
    today = datetime.now(UTC).astimezone(clock.SHANGHAI).date().isoformat()
    # Issue 19: the panel that rules is the one drawn (004), and its record is each drawn
    # member's attendance with a signature on screen; the counts are derived, not typed.
    act(reviewer, "to-reviewing", fill={"panel.held_on": today,
                                        "proposal.per_capita_income_yuan": "200"})
    assert reviewer.get_attribute("#wf-problem", "data-type") == "panel-not-drawn"
    _ok(api.put(f"{TOWN}_intake", f"/api/villages/{VILLAGE}/panel-pool", json={"members": [
        *({"name": f"村民{i}", "role": "villager"} for i in range(26)),
        {"name": "镇干部甲", "role": "township_cadre"},
        {"name": "镇干部乙", "role": "township_cadre"},
        {"name": "三组组长", "role": "group_leader"},
        {"name": "镇纪委丙", "role": "discipline_officer"}]}))
    act(reviewer, "panel_draw")
    assert reviewer.locator("#wf-action-to-reviewing .wf-signature").count() == 9
    assert axe_violations(reviewer) == []
    reviewer.click("#wf-open-to-reviewing")
    for pad in reviewer.locator("#wf-action-to-reviewing canvas.wf-signature").all():
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        reviewer.mouse.move(box["x"] + 20, box["y"] + 40)
        reviewer.mouse.down()
        reviewer.mouse.move(box["x"] + 120, box["y"] + 50, steps=5)
        reviewer.mouse.move(box["x"] + 200, box["y"] + 30, steps=5)
        reviewer.mouse.up()
    act(reviewer, "to-reviewing", fill={
        "panel.held_on": today, "panel.opinion": "经核实，货车为亲属所有",
        "proposal.per_capita_income_yuan": "200"})
    assert status(reviewer) == "reviewing"
    record = _ok(api.get(f"{TOWN}_reviewer", f"/api/cases/{case_id}/workflow"))["panel"]["record"]
    assert record["members_present"] == 9 and record["is_group_leader_present"] is True
    assert all(a["signature"]["kind"] == "on_screen" and len(a["signature"]["sha256"]) == 64
               for a in record["attendance"].values())
    act(reviewer, "to-public_notice")
    assert status(reviewer) == "public_notice"

    # The approver cannot decide while the notice runs (004, 001: 7 days).
    approver = desk(f"{TOWN}_approver")
    open_case(approver, case_id)
    act(approver, "to-approved")
    assert approver.get_attribute("#wf-problem", "data-type") == "notice-not-over"
    assert "公示期满" in approver.inner_text("#wf-problem")
    assert approver.evaluate("() => document.activeElement.id") == "wf-problem"
    assert axe_violations(approver) == []

    # Eight days on: the county draws its sample; the staff relative is always in it (004),
    # and approval waits for the check (001/004).
    frozen_clock(datetime.now(UTC) + timedelta(days=8))
    supervisor = desk("county_supervisor")
    supervisor.click("#nav-work")
    supervisor.wait_for_selector("#main[data-view=work][data-ready=true]")
    # Issue 21: the task names the month whose draw missed the case (it said 本月), the list
    # has a township column, the default month is that one (it drew an empty month, "0 / 0
    # 件"), and the 32-hex seed stays inside its panel.
    taken_in = datetime.fromisoformat(case["applied_at"]).astimezone(clock.SHANGHAI)
    task = supervisor.locator(f"tr[data-case-id='{case_id}'][data-task=spot_check_draw]")
    assert f"{taken_in.year}年{taken_in.month}月受理" in task.inner_text(), task.inner_text()
    assert "本月" not in task.inner_text()
    assert task.locator(".wf-township").inner_text() == "龙头山镇"
    waiting = [i["intake_month"] for i in _ok(api.get("county_supervisor", "/api/cases/due"))[
        "items"] if i["task"] == "spot_check_draw"]
    assert supervisor.input_value("#wf-draw-month") == min(waiting)
    supervisor.click("#wf-draw")
    supervisor.wait_for_selector("#wf-draw-result.wf-ok")
    assert "0 / 0" not in supervisor.inner_text("#wf-draw-result")
    if min(waiting) != taken_in.strftime("%Y-%m"):  # an older month waited: then this one
        supervisor.fill("#wf-draw-month", taken_in.strftime("%Y-%m"))
        supervisor.evaluate("() => document.getElementById('wf-draw-result').className = ''")
        supervisor.click("#wf-draw")
        supervisor.wait_for_selector("#wf-draw-result.wf-ok")
    seed = supervisor.locator("#wf-draw-seed").bounding_box()
    panel = supervisor.locator("#wf-draw-result").bounding_box()
    assert seed["x"] + seed["width"] <= panel["x"] + panel["width"] + 1, (seed, panel)
    assert axe_violations(supervisor) == []
    shot(supervisor, "desk-spot-checks")
    open_case(approver, case_id)
    act(approver, "to-approved")
    assert approver.get_attribute("#wf-problem", "data-type") == "spot-check-pending"
    open_case(supervisor, case_id)
    assert axe_violations(supervisor) == []
    act(supervisor, "spot_check", fill={"outcome": "confirmed", "note": "入户核查属实"})
    assert "核查无误" in supervisor.inner_text("#wf-spot")

    # Approval with the computed amount; the timeline holds every step.
    open_case(approver, case_id)
    act(approver, "to-approved")
    assert status(approver) == "approved"
    assert approver.get_attribute("#wf-proposal", "data-amount") == "1350.00"
    actions = approver.locator("#wf-timeline li").evaluate_all(
        "(items) => items.map((li) => li.dataset.to)")
    assert actions.count("public_notice") == 2 and actions[-1] == "approved"
    text = pdf_text_of_download(approver, "#wf-pdf-approval_notice")
    assert "1,350.00元/月" in text and "壹仟叁佰伍拾元整" in text
    # The decision is posted (审批公示) and the village's standing notice lists it (004):
    # adults and the amount, never the minor; the township's phone and address to object.
    for kind in ("approval_public_notice", "standing_notice"):
        text = pdf_text_of_download(approver, f"#wf-pdf-{kind}")
        assert "罗德明" in text and "杨春梅" in text and "1,350.00" in text, kind
        assert "罗子涵" not in text and "0870-5341234" in text and "龙头山镇人民政府" in text
        assert re.findall(r"[A-Za-z]+", text) == [], kind
    assert axe_violations(approver) == []

    # Paid from the month after approval (57号), by the 10th (001): the month's list, as the
    # bank gets it, names the household with its ID masked.
    starts_on = api.get(f"{TOWN}_approver", f"/api/cases/{case_id}/workflow").get_json()[
        "decision"]["payment_starts_on"]
    approver.click("#nav-work")
    approver.wait_for_selector("#main[data-view=work][data-ready=true]")
    approver.fill("#wf-pay-month", starts_on[:7])
    with approver.expect_download() as download:
        approver.click("#wf-pay-csv")
    listing = Path(download.value.path()).read_text("utf-8-sig")
    # Issue 21: Chinese headers and categories, the case by its number (no UUID column).
    assert listing.splitlines()[0].startswith("序号,收款人,") and case_id not in listing
    line = next(row for row in listing.splitlines() if case["case_no"] in row)
    assert "罗德明" in line and "1350.00" in line and f"{starts_on[:7]}-10" in line
    assert "最低生活保障" in line and "dibao" not in line
    assert HEAD_ID not in listing and HEAD_ID[:4] in line
    assert axe_violations(approver) == []


def test_a_refusal_with_its_letter(api, desk):
    case = new_case(api, names=("张志强", "王丽华", "张雨桐"))
    approver = desk(f"{TOWN}_approver")
    open_case(approver, case["id"])
    act(approver, "to-refused", fill={"reasons": ""})
    assert "请填写此项" in approver.inner_text("#wf-f-to-refused-reasons-error")
    # The same by keyboard alone: the form's field has the focus after the error; type the
    # reasons, Tab to the button, Enter.
    assert approver.evaluate("() => document.activeElement.id") == "wf-f-to-refused-reasons"
    approver.keyboard.type("家庭人均收入高于当地低保标准")
    approver.keyboard.press("Enter")
    approver.keyboard.type("名下有小型汽车一辆")
    before = steps(approver)
    approver.keyboard.press("Tab")
    assert approver.evaluate("() => document.activeElement.id") == "wf-do-to-refused"
    approver.keyboard.press("Enter")
    approver.wait_for_function(
        f"() => Number(document.querySelector('#main').dataset.steps || 0) > {before}")
    assert status(approver) == "refused"
    assert approver.evaluate("() => document.activeElement.id") == "wf-ok"
    # On a tablet the same screen fits its width and stays accessible.
    approver.set_viewport_size({"width": 800, "height": 1100})
    assert approver.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_violations(approver) == []
    approver.set_viewport_size(DESK)
    text = pdf_text_of_download(approver, "#wf-pdf-refusal_letter")
    assert "不予批准告知书" in text and "张志强" in text
    assert "名下有小型汽车一辆" in text and "复查" in text
    assert HEAD_ID not in text and not re.search(r"1[3-9]\d{9}", text)
    # The letter is due within 3 working days (57号): a tracked task, done at the desk.
    act(approver, "task-refusal_letter_sent")
    assert approver.locator("#wf-ok").count() == 1
    assert axe_violations(approver) == []


def test_emergency_aid_within_the_day(api, desk):
    case = new_case(api, "temporary", "emergency", names=("赵金凤", "马永福", "赵家宝"))
    assert case["deadline_at"] is not None  # help due within 24 hours (002)
    approver = desk(f"{TOWN}_approver")
    approver.click("#nav-work")
    approver.wait_for_selector("#main[data-view=work][data-ready=true]")
    row = approver.locator(f"tr[data-case-id='{case['id']}']")
    assert row.get_attribute("data-task") == "emergency_decision"
    assert row.locator("xpath=ancestor::table").get_attribute("id") == "wf-due-due_soon"
    row.locator("a").click()
    approver.wait_for_selector("#main[data-view=work-case][data-ready=true]")
    fields = {"emergency.recipient_name": "赵金凤", "emergency.reason": "房屋失火，急需生活救助",
              "emergency.amount_yuan": "6000"}
    act(approver, "to-approved", fill=fields)
    assert approver.get_attribute("#wf-problem", "data-type") == "amount-above-cap"
    act(approver, "to-approved", fill={**fields, "emergency.amount_yuan": "3000"})
    assert status(approver) == "approved"
    decided = api.get(f"{TOWN}_approver", f"/api/cases/{case['id']}/workflow").get_json()
    decided_at = datetime.fromisoformat(decided["decision"]["decided_at"])
    assert decided_at <= datetime.fromisoformat(case["deadline_at"])
    approver.click("#wf-html-emergency_record")
    approver.wait_for_selector("#wf-doc-preview")
    record = approver.inner_text("#wf-doc-preview")
    assert "赵金凤" in record and "3,000.00" in record and "房屋失火" in record
    assert axe_violations(approver) == []
    # The desk in English: the same case, its words from the English catalogue.
    approver.click("#toggle-lang")
    approver.wait_for_function(
        "() => document.querySelector('#wf-status')?.textContent === 'Approved'")
    assert "Emergency aid record" in approver.inner_text("#wf-docs")
    assert axe_violations(approver) == []
