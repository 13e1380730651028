"""The county's retention desk in real Chromium (issue 22, ADR 0022): the settings with their
floors and sources in Chinese, a setting under the legal floor refused in words, the purge's
dry run, and a legal hold set and lifted; axe finds nothing at each step."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.cases.models import Case
from backend.extensions import db
from tests.e2e.accessibility import assert_accessible, assert_no_slugs

pytestmark = pytest.mark.e2e


def open_retention(page):
    page.click("a.desk-tab[href='#/retention']")
    page.wait_for_selector("#main[data-view=retention][data-ready=true]")


def redrawn(page, action):
    drawn = int(page.get_attribute("#main", "data-drawn") or 0)
    action()
    page.wait_for_function(
        f"() => Number(document.querySelector('#main').dataset.drawn || 0) > {drawn}")


def test_the_county_sees_sets_and_holds_on_the_retention_desk(desk, live_server):
    with live_server.app.app_context():
        case_id = db.session.scalar(select(Case.id).where(
            Case.jurisdiction_code.like("530621100%")).order_by(Case.id).limit(1))
    admin = desk("county_admin")
    admin.goto("/#/reviews")
    admin.wait_for_selector("#main[data-ready=true]")
    open_retention(admin)
    rows = admin.locator("#rt-settings tbody tr")
    assert rows.count() == 6
    assert "审计记录" in admin.inner_text("#rt-settings tr[data-kind=audit_record]")
    assert "网络安全法" in admin.inner_text("#rt-settings tr[data-kind=audit_record]")
    assert admin.locator("#rt-preview tbody tr").count() == 6
    assert_accessible(admin, "retention desk")
    assert_no_slugs(admin, "retention desk", "#main")

    # Under six months: refused, in words.
    admin.fill("#rt-days-audit_record", "100")
    admin.click("#rt-save-audit_record")
    admin.wait_for_selector("#toasts .toast-error")
    assert "法律要求" in admin.inner_text("#toasts")
    assert admin.get_attribute("#rt-settings tr[data-kind=audit_record]", "data-days") == "1095"
    admin.fill("#rt-days-audit_record", "200")
    redrawn(admin, lambda: admin.click("#rt-save-audit_record"))
    assert admin.get_attribute("#rt-settings tr[data-kind=audit_record]", "data-days") == "200"

    # A legal hold, set and lifted, each with a reason.
    admin.fill("#rt-hold-case", case_id)
    admin.fill("#rt-hold-reason", "行政复议审理中")
    redrawn(admin, lambda: admin.click("#rt-hold-set"))
    held = admin.locator(f"#rt-hold-list tr[data-case-id='{case_id}']")
    assert held.count() == 1 and "行政复议审理中" in held.inner_text()
    assert_accessible(admin, "retention desk with a hold")
    hold_id = held.get_attribute("data-hold-id")
    admin.fill(f"#rt-lift-reason-{hold_id}", "复议决定已送达")
    redrawn(admin, lambda: admin.click(f"#rt-lift-{hold_id}"))
    admin.wait_for_selector("#rt-no-holds")
    assert admin.js_errors == []


def test_a_township_administrator_has_no_retention_tab(desk):
    township = desk("wenping_admin")
    township.goto("/#/reviews")
    township.wait_for_selector("#main[data-ready=true]")
    assert township.locator("a.desk-tab[href='#/retention']").count() == 0
    township.goto("/#/retention")
    township.wait_for_selector("#main[data-view=retention][data-ready=true]")
    assert township.locator("#rt-error").count() == 1
    assert_accessible(township, "retention desk refused")
