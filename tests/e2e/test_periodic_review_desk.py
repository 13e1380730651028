"""A periodic review (动态管理, 004) at the desk, in real Chromium: the intake clerk opens it
from a current recipient's case, starts it by phone, the reviewer records what it found,
and the approver adjusts the amount by the allowance rules (003), which the recipient's case
then shows. The approved case is seeded through the API (its own e2e is
test_case_workflow.py), its notice's 7 days passed by freezing the server's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend import clock
from tests.e2e import test_case_workflow as desk_flow
from tests.e2e.accessibility import axe_violations
from tests.e2e.test_case_workflow import TOWN, _ok, act, case_view, new_case, open_case, status

pytestmark = pytest.mark.e2e

# The case workflow's fixtures: a module-scoped API client, and the server's clock put back
# after each test (signed-in desk pages come from the e2e conftest).
api = desk_flow.api
frozen_clock = desk_flow.frozen_clock


def _move(api, case_id, username, **body):
    _, etag = case_view(api, case_id, username)
    return _ok(api.post(username, f"/api/cases/{case_id}/transitions", json=body,
                        headers={"If-Match": etag}))


def approved_case(api, frozen_clock):
    """A dibao case of 龙井村 taken through intake, the synced visit, the review, the notice
    and the county's check to approval: (650 − 200) × 3 = 1,350 yuan a month. 龙井村 posts
    the review-stage notice (004), its township on 002 does not: the village's own setting."""
    _ok(api.patch("county_admin", f"/api/jurisdictions/{desk_flow.VILLAGE}/settings",
                  json={"settings": {"is_review_stage_notice_held": True}}))
    case_id = new_case(api, names=("周建国", "李秀英", "周小雨"))["id"]
    _, etag = case_view(api, case_id)
    _ok(api.put(f"{TOWN}_intake", f"/api/cases/{case_id}/application", headers={
        "If-Match": etag}, json={"pledge": {"scan_sha256s": []},
                                 "authorization": {"scan_sha256s": []}}))
    desk_flow.sync_attested_visit(api, case_id, ("device-pr000001", "device-pr000002"))
    _, etag = case_view(api, case_id)
    now = datetime.now(UTC)
    _ok(api.put(f"{TOWN}_intake", f"/api/cases/{case_id}/economic-check", headers={
        "If-Match": etag}, json={"requested_at": (now - timedelta(days=2)).isoformat(),
                                 "returned_at": now.isoformat(), "result": "eligible"}))
    _move(api, case_id, f"{TOWN}_reviewer", to="reviewing",
          proposal={"per_capita_income_yuan": "200"})
    _move(api, case_id, f"{TOWN}_reviewer", to="public_notice")
    frozen_clock(now + timedelta(days=8))
    month = clock.now().astimezone(clock.SHANGHAI).strftime("%Y-%m")
    draw = _ok(api.post("county_supervisor", "/api/spot-checks/draws", json={"month": month}))
    if any(s["case_id"] == case_id for s in draw["sampled"]):
        _ok(api.put("county_supervisor", f"/api/spot-checks/{case_id}",
                    json={"outcome": "confirmed"}))
    _move(api, case_id, f"{TOWN}_approver", to="approved")
    return case_id


def test_a_reviewer_completes_a_periodic_review_that_adjusts_the_amount(api, desk,
                                                                          frozen_clock):
    case_id = approved_case(api, frozen_clock)

    # The intake clerk opens the review from the recipient's case and starts it by phone.
    intake = desk(f"{TOWN}_intake")
    open_case(intake, case_id)
    assert "应于" in intake.inner_text("#wf-review-due")
    intake.click("#wf-do-open_review")  # the screen moves on to the new review case
    intake.wait_for_function("() => document.querySelector('#wf-review-method') !== null"
                             " && document.querySelector('#main').dataset.ready === 'true'")
    review_id = intake.url.rsplit("/", 1)[-1]
    assert review_id != case_id and status(intake) == "accepted"
    assert axe_violations(intake) == []
    act(intake, "to-investigating", fill={"review.method": "phone"})
    assert status(intake) == "investigating"
    assert "电话核实" in intake.inner_text("#wf-review-method")

    # The reviewer records what the review found; the form will not go without it.
    reviewer = desk(f"{TOWN}_reviewer")
    open_case(reviewer, review_id)
    act(reviewer, "to-reviewing", fill={"review.findings": ""})
    assert "请填写此项" in reviewer.inner_text("#wf-f-to-reviewing-review-findings-error")
    act(reviewer, "to-reviewing",
        fill={"review.findings": "电话联系户主：妻子已外出务工，月收入约1200元"})
    assert status(reviewer) == "reviewing"
    assert reviewer.locator("#wf-do-to-adjusted").count() == 0  # the approver decides (001)
    assert axe_violations(reviewer) == []

    # The approver adjusts the amount: (650 − 400) × 3 = 750 yuan a month (003).
    approver = desk(f"{TOWN}_approver")
    open_case(approver, review_id)
    act(approver, "to-adjusted", fill={"proposal.per_capita_income_yuan": "400",
                                       "review_tier": "half_yearly"})
    assert status(approver) == "adjusted"
    assert approver.get_attribute("#wf-review-outcome", "data-outcome") == "adjusted"
    assert "750.00" in approver.inner_text("#wf-review-outcome")
    assert axe_violations(approver) == []
    open_case(approver, case_id)
    assert status(approver) == "approved"
    assert approver.get_attribute("#wf-proposal", "data-amount") == "750.00"
    assert approver.locator("#wf-timeline li[data-action='case.periodic_review_applied']").count()
    approver.click("#toggle-lang")
    approver.wait_for_function(
        "() => document.querySelector('#wf-status')?.textContent === 'Approved'")
    assert "Half-yearly" in approver.inner_text("#wf-review-due")
    assert axe_violations(approver) == []


def test_the_county_sees_special_cases_missing_their_half_yearly_re_review_001(
        api, desk, frozen_clock, live_server):
    from backend.cases.models import Case
    from backend.extensions import db

    case_id = approved_case(api, frozen_clock)
    with live_server.app.app_context():  # a special case (一事一议); its own path: API tests
        db.session.get(Case, case_id).kind = "special_case"
        db.session.commit()
        db.session.remove()

    def show_first_half_of_2027(page):  # approved in 2026: due in 2027's first half
        page.goto("/#/work")
        page.wait_for_selector("#main[data-ready=true] #wf-rr")
        # The summary names its period. A screen drawn again just then (a language switch
        # re-renders it) answers for the default half-year: ask once more, as a person would.
        for _ in range(3):
            page.fill("#wf-rr-year", "2027")
            page.select_option("#wf-rr-half", "1")
            page.click("#wf-rr-show")
            summary = page.wait_for_selector("#wf-rr-summary")
            if summary.get_attribute("data-period") == "2027-1":
                return summary.inner_text()
        raise AssertionError(f"the panel never showed 2027's first half: {summary.inner_text()}")

    county = desk("county_supervisor")
    assert show_first_half_of_2027(county).startswith("2027 年上半年：未达标")
    row = county.locator("#wf-rr tr[data-township='530621101']")
    assert row.locator("th").inner_text() == "龙头山镇"
    missing = county.locator(f"#wf-rr-missing li[data-case-id='{case_id}']")
    assert "批准后从未复核" in missing.inner_text()
    assert axe_violations(county) == []
    missing.locator("a").click()
    county.wait_for_function("(id) => location.hash === `#/work-case/${id}`", arg=case_id)
    county.wait_for_selector("#wf-status")

    county.click("#toggle-lang")
    county.wait_for_function("() => document.documentElement.lang === 'en'")
    words = show_first_half_of_2027(county)
    assert words.startswith("First half of 2027: Not met"), words
    assert axe_violations(county) == []
