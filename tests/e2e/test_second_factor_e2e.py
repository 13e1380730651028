"""Two-step sign-in in real Chromium (issue 22): an approver, reminded at sign-in, sets up a
TOTP authenticator on the account screen (the code computed here with pyotp, as the phone's
app would), keeps the recovery codes, and signs in again with password and code; a wrong
code says so. Each new screen passes axe with 0 violations and shows no slug."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.e2e.accessibility import assert_accessible, assert_no_slugs, slugs_on
from tests.e2e.conftest import DEMO_PASSWORD, DESK

pytestmark = pytest.mark.e2e

APPROVER = "longtoushan_approver"
LANDED = "#main[data-ready=true]:not([data-view=login])"



def pin_then_landing(page):
    """As any sign-in on a new device: the signing PIN when asked, then the landing screen."""
    page.wait_for_selector(f"#pin-1, {LANDED}", state="attached")
    if page.locator("#pin-1").count():
        page.fill("#pin-1", "246810")
        page.fill("#pin-2", "246810")
        page.click("#pin-save")
    page.wait_for_selector(LANDED)

def _open_account(page):
    page.click("#desk-tab-account")
    page.wait_for_selector("#main[data-view=account][data-ready=true] #second-factor-state")


def test_an_approver_enrols_totp_and_signs_in_with_it(desk, browser, live_server):
    page = desk(APPROVER)
    # Within the grace the approver works as before, reminded on the desk's tabs.
    assert page.inner_text("#second-factor-due") == " (须开启两步验证)"
    _open_account(page)
    assert re.search(r"须开启两步验证，请在\d{4}年\d{1,2}月\d{1,2}日前完成", page.inner_text(
        "#second-factor-state"))
    assert "这是你第一次登录" in page.inner_text("#previous-sign-in")
    assert_accessible(page, "account")
    assert_no_slugs(page, "account", "#main")

    page.click("#totp-start")
    page.wait_for_selector("#main[data-ready=true] #totp-secret")
    assert page.get_attribute("#totp-qr", "src").startswith("data:image/svg+xml")
    assert_accessible(page, "enrolment")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    # The key to type reads like capital words to the slug finder; everything else is words.
    assert [found for found in slugs_on(page, "#main")
            if found.replace(" ", "") not in secret] == []
    totp = pyotp.TOTP(secret)
    page.fill("#totp-code", "000000" if totp.now() != "000000" else "111111")
    page.click("#totp-confirm")
    page.wait_for_selector("#totp-error:has-text('验证码不对')")
    page.fill("#totp-code", totp.now())
    page.click("#totp-confirm")
    page.wait_for_selector("#main[data-ready=true] #recovery-codes")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[A-Z2-7]{5}-[A-Z2-7]{5}", c) for c in codes)
    assert_accessible(page, "recovery codes")
    assert_no_slugs(page, "recovery codes", "#main")
    page.click("#recovery-done")
    page.wait_for_selector("#main[data-ready=true] #second-factor-state:has-text('已开启')")
    page.wait_for_selector("#second-factor-due", state="detached")  # the reminder is gone

    # A new browser: the password alone no longer signs in; the app's code does.
    context = browser.new_context(viewport=DESK, base_url=live_server.url, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", service_workers="block")
    context.set_default_timeout(30_000)
    try:
        fresh = context.new_page()
        errors: list[str] = []
        fresh.on("pageerror", lambda error: errors.append(str(error)))
        fresh.goto("/")
        fresh.fill("#username", APPROVER)
        fresh.fill("#password", DEMO_PASSWORD)
        fresh.click("form button[type=submit]")
        fresh.wait_for_selector("#main[data-ready=true] #totp-code")
        assert_accessible(fresh, "second step")
        assert_no_slugs(fresh, "second step", "#main")
        # The code of the next 30-second step: the one that confirmed enrolment may still be
        # current, and a code once used is refused (the server allows one step of drift).
        fresh.fill("#totp-code", totp.at(time.time() + 30))
        fresh.click("#totp-submit")
        # Then as any sign-in on a new device: the signing PIN, then the landing screen.
        pin_then_landing(fresh)
        fresh.wait_for_function("() => location.hash === '#/cases'")
        fresh.goto("/#/account")
        fresh.wait_for_selector("#main[data-view=account][data-ready=true] #previous-sign-in")
        assert "上次登录" in fresh.inner_text("#previous-sign-in")
        assert errors == []
    finally:
        context.close()


def _past_the_grace(live_server, username: str) -> None:
    """The county's grace for this user is over (as days after their first sign-in would be)."""
    from datetime import UTC, datetime, timedelta

    from backend.auth.models import User
    from backend.extensions import db

    with live_server.app.app_context():
        user = db.session.query(User).filter_by(username=username).one()
        user.second_factor_due_at = datetime.now(UTC) - timedelta(days=1)
        db.session.commit()


def test_past_the_grace_a_supervisor_enrols_at_sign_in(browser, live_server):
    """After the grace, the password alone leads to enrolment: scan, first code, recovery
    codes, then the desk; the supervisor's desk works as before."""
    _past_the_grace(live_server, "county_supervisor")
    context = browser.new_context(viewport=DESK, base_url=live_server.url, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", service_workers="block")
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        page.goto("/")
        page.fill("#username", "county_supervisor")
        page.fill("#password", DEMO_PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_selector("#main[data-ready=true] #totp-secret")
        assert "须用两步验证登录" in page.inner_text("#main")
        assert_accessible(page, "enrolment at sign-in")
        secret = page.inner_text("#totp-secret").replace(" ", "")
        page.fill("#totp-code", pyotp.TOTP(secret).now())
        page.click("#totp-submit")
        page.wait_for_selector("#main[data-ready=true] #recovery-codes")
        assert page.locator("#recovery-codes li").count() == 10
        assert_accessible(page, "recovery codes at sign-in")
        page.click("#recovery-done")
        pin_then_landing(page)
        assert page.locator("#second-factor-due").count() == 0
    finally:
        context.close()


def test_an_idle_desk_signs_out_by_itself(browser, live_server):
    """SESSION_IDLE_MINUTES (30) without a key or a touch: the desk signs out and asks for
    the password (the browser's clock is moved on, not waited for)."""
    context = browser.new_context(viewport=DESK, base_url=live_server.url, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", service_workers="block")
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        page.clock.install()
        page.goto("/")
        page.fill("#username", "longtoushan_reviewer")
        page.fill("#password", DEMO_PASSWORD)
        page.click("form button[type=submit]")
        pin_then_landing(page)
        page.clock.fast_forward("25:00")
        page.wait_for_selector(LANDED)  # 25 minutes: still signed in
        page.clock.fast_forward("06:00")
        page.wait_for_selector("#main[data-view=login][data-ready=true] .notice")
        assert "登录" in page.inner_text("#main")
    finally:
        context.close()
