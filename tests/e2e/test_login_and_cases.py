"""Sign in on a phone-sized screen and see the cases assigned to me."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_field_worker_signs_in_and_sees_their_cases(page, sign_in):
    sign_in(page, "wenping_fw1")
    rows = page.locator("#case-list .case-row")
    rows.first.wait_for()
    # The demo assigns 15 of 20 Wenping cases to the team (every 4th is unassigned).
    assert rows.count() == 15
    first = rows.first
    assert first.locator(".case-head").inner_text().strip()
    assert "截止" in first.inner_text()
    # One-handed use at 360 px: no sideways scrolling, large tap targets.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = first.bounding_box()
    assert box and box["height"] >= 44
    assert page.js_errors == []


def test_search_filters_the_list(page, sign_in):
    sign_in(page, "wenping_fw1")
    head = page.locator("#case-list .case-head").nth(3).inner_text().strip()
    page.fill("#case-search", head)
    assert page.locator("#case-list .case-row").count() >= 1
    assert all(head in text for text in page.locator("#case-list .case-head").all_inner_texts())
    page.fill("#case-search", "不存在的名字")
    assert page.locator("#case-list .case-row").count() == 0


def test_wrong_password_says_what_to_do(page):
    page.goto("/")
    page.fill("#username", "wenping_fw1")
    page.fill("#password", "nope")
    page.click("form button[type=submit]")
    page.wait_for_selector("#login-error:not(:empty)")
    assert "用户名或密码不对" in page.inner_text("#login-error")


def test_english_and_large_text_switches_persist(page, sign_in):
    sign_in(page, "wenping_fw1")
    page.click("#toggle-lang")
    page.wait_for_selector("h1:text('My cases')")
    page.click("#toggle-large")
    page.reload()
    page.wait_for_selector("h1:text('My cases')")
    assert page.evaluate("document.documentElement.classList.contains('large-text')")


def test_every_case_shows_its_deadline_emergency_aid_with_a_time(page, sign_in):
    # Emergency aid is due 24 hours after intake (002): an instant, shown with its time.
    sign_in(page, "wenping_fw1")
    rows = page.locator("#case-list .case-row")
    rows.first.wait_for()
    texts = rows.all_inner_texts()
    assert all("截止" in text for text in texts)
    emergency = [text for text in texts if "急难" in text]
    assert emergency and all(":" in text.split("截止")[1] for text in emergency)
    assert page.js_errors == []


def test_a_new_phone_waits_for_its_first_list_before_saying_there_are_no_cases(page, sign_in):
    """A new phone holds no cases until its first pull ends: meanwhile the screen says it is
    updating, never 暂无分配给您的案件 (which tells the worker to go online and tap Refresh)."""
    held, released = [], []

    def hold(route):  # the first pull waits, as on one bar of signal
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/sync/pull*", hold)
    sign_in(page, "wenping_fw1")
    page.wait_for_function("() => document.querySelector('#sync-line')?.textContent"
                           ".includes('正在更新案件')")
    assert held
    assert page.locator("#case-list .case-row").count() == 0
    assert page.locator("#main p.empty").is_hidden()
    released.append(True)
    for route in held:
        route.continue_()
    page.locator("#case-list .case-row").first.wait_for()
    assert page.locator("#case-list .case-row").count() == 15
    assert page.locator("#main p.empty").is_hidden()
    assert "上次更新" in page.inner_text("#sync-line")
    assert page.js_errors == []


def test_a_list_that_is_empty_after_its_pull_says_so_and_what_to_do(page, sign_in):
    # The server's answer when it has nothing for this phone: empty lists are left out.
    page.route("**/api/sync/pull*", lambda route: route.fulfill(
        status=200, content_type="application/json",
        body='{"cursor": "nothing-assigned", "has_more": false}'))
    sign_in(page, "wenping_fw1")
    page.wait_for_selector("#main p.empty:not([hidden])")
    assert "暂无分配给您的案件" in page.inner_text("#main p.empty")
