"""A complaint (举报, 004) from the public form to its reply, in real Chromium:

- someone files a report anonymously on the public form at 360 px (no sign-in), the text
  holding markup that must show as text; they get the report's number;
- the township's intake clerk opens it on the complaints desk and names the reviewer as
  handler (clicked);
- the home visit is the linked case's team's: the case, its team and their attested visit
  are seeded through the API (the phones' side has its own e2e tests); the handler links
  the report to the case by its number, records the home-visit verification and a phone
  call, the finding and the reply on the desk (clicked);
- the county supervisor's desk shows it answered, and no longer overdue-able.
axe finds no WCAG 2.1 AA violation on the public form and on each state of the desk.
"""

from __future__ import annotations

import pytest

from tests.e2e import test_case_workflow as desk_flow
from tests.e2e.accessibility import assert_no_slugs, axe_violations
from tests.e2e.test_case_workflow import TOWN, _ok, new_case

pytestmark = pytest.mark.e2e

api = desk_flow.api
TOWNSHIP = "530621101"  # 龙头山镇
SCRIPT = '<img src=x onerror="window.__pwned=1">请核查罗某某家'


def file_on_the_public_form(page) -> str:
    page.goto("/report")
    page.wait_for_selector("#report[data-ready=true]")
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    assert axe_violations(page) == []
    page.select_option("#township", TOWNSHIP)
    page.fill("#about", "光明村 罗某某")
    page.fill("#content", f"{SCRIPT}\n家里新建了楼房，还在领低保。")
    page.check("#anonymous")
    assert page.is_hidden("#name-field")
    page.select_option("#reply-channel", "none")
    page.click("#report-send")
    page.wait_for_selector("#report-done:not([hidden])")
    assert axe_violations(page) == []
    # Usable at 360 px: nothing wider than the screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    number = page.get_attribute("#report-done", "data-number")
    assert number.startswith("龙头山〔") and "举报第" in number
    return number


def wait_drawn(page, before: int) -> int:
    page.wait_for_function(
        "(before) => Number(document.querySelector('#main')?.dataset.drawn ?? 0) > before"
        " && document.querySelector('#main')?.dataset.ready === 'true'", arg=before)
    return int(page.get_attribute("#main", "data-drawn"))


def open_complaints(page, complaint_id=None):
    page.goto(f"/#/complaints/{complaint_id}" if complaint_id else "/#/complaints")
    page.wait_for_selector("#main[data-view=complaints][data-ready=true]")
    if complaint_id:
        page.wait_for_selector(f"#cp-detail[data-id='{complaint_id}']")
    return int(page.get_attribute("#main", "data-drawn") or 0)


def test_an_anonymous_report_goes_from_the_public_form_to_a_reply(api, page, desk):
    number = file_on_the_public_form(page)
    listed = _ok(api.get("county_supervisor", "/api/complaints"))["items"]
    (complaint,) = [c for c in listed if c["number"] == number]
    complaint_id = complaint["id"]

    # The township's office names the handler on the desk.
    clerk = desk(f"{TOWN}_intake")
    open_complaints(clerk)
    assert axe_violations(clerk) == []
    clerk.click(f"#cp-open-{complaint_id}")
    clerk.wait_for_selector(f"#cp-detail[data-id='{complaint_id}'][data-status=received]")
    # The markup the reporter typed is text on the desk, never an element.
    assert SCRIPT in clerk.inner_text("#cp-content")
    assert clerk.locator("#cp-content img").count() == 0
    assert clerk.evaluate("() => window.__pwned") is None
    assert axe_violations(clerk) == []
    assert_no_slugs(clerk, "complaints desk", "#main")
    drawn = int(clerk.get_attribute("#main", "data-drawn"))
    clerk.select_option("#cp-handler", api.user_id(f"{TOWN}_reviewer"))
    clerk.click("#cp-assign-send")
    wait_drawn(clerk, drawn)
    clerk.wait_for_selector("#cp-detail[data-status=assigned]")

    # The visit team's home visit of the case (seeded through the API, as the phones would
    # sync it); the handler links the report to that case by its number on the desk.
    case = new_case(api, names=("罗建华", "杨秀兰", "罗小军"))
    desk_flow.sync_attested_visit(api, case["id"], ("device-cp000001", "device-cp000002"))

    handler = desk(f"{TOWN}_reviewer")
    drawn = open_complaints(handler, complaint_id)
    assert axe_violations(handler) == []
    handler.fill("#cp-case-no", case["case_no"])
    handler.click("#cp-link-send")
    drawn = wait_drawn(handler, drawn)
    handler.wait_for_selector("#cp-visit option:nth-child(2)", state="attached")
    handler.select_option("#cp-method", "home_visit")
    handler.select_option("#cp-visit", index=1)
    handler.fill("#cp-note", "调查员二人入户：新建两层楼房，系外出务工子女出资。")
    handler.click("#cp-verify-send")
    drawn = wait_drawn(handler, drawn)
    handler.wait_for_selector("#cp-detail[data-status=verifying]")
    handler.select_option("#cp-method", "phone")
    handler.fill("#cp-note", "电话联系村委会核实。")
    handler.click("#cp-verify-send")
    drawn = wait_drawn(handler, drawn)
    assert handler.locator("#cp-verifications li").count() == 2
    # The reporter: the handler may look, and the server audits it.
    handler.click("#cp-show-reporter")
    handler.wait_for_selector("#cp-reporter p")
    assert "匿名" in handler.inner_text("#cp-reporter")
    assert axe_violations(handler) == []
    handler.select_option("#cp-substantiated", "false")
    handler.fill("#cp-finding", "家庭人均收入仍低于标准，举报不属实。")
    handler.click("#cp-find-send")
    drawn = wait_drawn(handler, drawn)
    handler.wait_for_selector("#cp-detail[data-status=found]")
    assert axe_violations(handler) == []
    handler.fill("#cp-reply", "经入户和电话核实，举报情况不属实。答复存档备查。")
    handler.click("#cp-answer-send")
    wait_drawn(handler, drawn)
    handler.wait_for_selector("#cp-detail[data-status=answered]")
    assert "已答复" in handler.inner_text("#cp-status")

    # The county sees every report, this one answered.
    county = desk("county_supervisor")
    open_complaints(county)
    county.wait_for_selector(f"#cp-list tr[data-id='{complaint_id}'][data-status=answered]")
    assert "已答复" in county.inner_text(f"#cp-list tr[data-id='{complaint_id}']")
    drawn = int(county.get_attribute("#main", "data-drawn"))
    county.click("#cp-filter-overdue")
    wait_drawn(county, drawn)
    assert county.locator(f"#cp-list tr[data-id='{complaint_id}']").count() == 0
    assert axe_violations(county) == []
    assert_no_slugs(county, "county complaints desk", "#main")
