"""Every phone screen passes axe-core (WCAG 2.1 AA) at 360 px, in Chinese and in English,
in normal and large text."""

from __future__ import annotations

import pytest

from tests.e2e.accessibility import assert_accessible, axe_violations

pytestmark = pytest.mark.e2e


def _open(page, hash_path: str, view: str) -> None:
    page.goto(f"/#/{hash_path}")
    page.wait_for_selector(f"#main[data-view={view}]")
    page.wait_for_load_state("networkidle")


def test_sign_in_screen_is_accessible(page):
    page.goto("/")
    page.wait_for_selector("#username")
    assert_accessible(page, "login")
    page.fill("#username", "wenping_fw1")
    page.fill("#password", "nope")
    page.click("form button[type=submit]")
    page.wait_for_selector("#login-error:not(:empty)")
    assert_accessible(page, "login with its error")


def test_field_worker_screens_are_accessible_in_both_languages_and_large_text(page, sign_in):
    sign_in(page, "wenping_fw1")
    assert_accessible(page, "cases")
    case_id = page.locator("#case-list .case-row a, #case-list a.case-row").first.get_attribute(
        "href").rsplit("/", 1)[-1]
    screens = [(f"case/{case_id}", "case"), (f"survey/{case_id}", "survey"),
               ("outbox", "outbox"), ("settings", "settings"), ("cases", "cases")]
    for hash_path, view in screens:
        _open(page, hash_path, view)
        assert_accessible(page, view)
    page.click("#toggle-lang")
    page.wait_for_selector("h1:text('My cases')")
    page.click("#toggle-large")
    for hash_path, view in screens:
        _open(page, hash_path, view)
        assert_accessible(page, f"{view} (English, large text)")


def test_the_check_would_catch_a_violation(page, sign_in):
    # The helper must not pass everything: an image without alt text is a violation.
    sign_in(page, "wenping_fw1")
    page.evaluate("""() => { const img = document.createElement('img');
        img.src = '/static/icons/icon-192.png'; document.querySelector('#main').append(img); }""")
    assert "image-alt" in {v["id"] for v in axe_violations(page)}
