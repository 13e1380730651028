"""A module that fails to load is shown to the worker and blocks what depends on it (issue 9).

Before, a failed import of form.js was swallowed: the survey ran with no skip logic and no
checks, and could be submitted. A failed view module threw inside the router: a blank screen.
The service worker is blocked here so every module request reaches the routes below.
"""

from __future__ import annotations

import pytest

PHONE = {"width": 360, "height": 740}

pytestmark = pytest.mark.e2e

HOME = {"latitude": 27.1917, "longitude": 103.5586, "accuracy": 12}


@pytest.fixture
def phone(browser, live_server):
    ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="zh-CN",
                              timezone_id="Asia/Shanghai", is_mobile=True, has_touch=True,
                              service_workers="block")
    ctx.set_default_timeout(30_000)
    ctx.grant_permissions(["geolocation"], origin=live_server.url)
    ctx.set_geolocation(HOME)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    ctx.close()


def _open_survey(page, sign_in) -> None:
    sign_in(page, "wenping_fw1")
    page.wait_for_selector("#case-list .case-row")
    case_id = page.evaluate("""async () => {
        const { all } = await import('/static/js/store.js');
        return (await all('cases')).find((c) => c.kind === 'dibao').id;
    }""")
    page.goto(f"/#/survey/{case_id}")


@pytest.mark.parametrize("failure", ["status-500", "aborted"])
def test_failed_form_logic_is_shown_and_blocks_submission(phone, sign_in, failure):
    page = phone

    def broken(route):
        if failure == "status-500":
            route.fulfill(status=500, content_type="text/plain", body="boom")
        else:
            route.abort()

    page.route("**/static/js/domain/form.js*", broken)
    _open_survey(page, sign_in)

    page.wait_for_selector("#main[data-view=survey][data-ready=true] #module-error")
    assert "表单检查程序未能加载" in page.inner_text("#module-error")
    page.locator("nav.steps button").last.click()
    page.wait_for_selector("#section-title[data-section=__review]")
    assert page.locator("#module-error").is_visible(), "the alert stays on every step"
    assert page.locator("#submit").is_disabled()
    queued = page.evaluate("""async () => {
        const { all } = await import('/static/js/store.js');
        return (await all('outbox')).length;
    }""")
    assert queued == 0
    assert page.js_errors == []


def test_failed_view_module_is_shown_not_a_blank_screen(phone, sign_in):
    page = phone
    page.route("**/static/js/widgets/signature.js*", lambda route: route.abort())
    _open_survey(page, sign_in)

    page.wait_for_selector("#main[data-view=survey][data-ready=true] #load-error")
    assert "此页面未能加载" in page.inner_text("#load-error")
    assert page.locator("#submit").count() == 0
    assert page.js_errors == []


def test_the_survey_opens_with_its_checks_when_every_module_loads(phone, sign_in):
    _open_survey(phone, sign_in)

    phone.wait_for_selector("#main[data-view=survey][data-ready=true] #section-title")
    assert phone.locator("#module-error").count() == 0
    # Skip logic is live: the actual address is hidden until the registered one is wrong.
    assert phone.locator("[data-field=actual_address]").count() == 0


def test_a_screen_arriving_late_never_covers_the_one_opened_after_it(phone, sign_in):
    """On a weak signal the outbox's module is slow; the worker goes back to the case list
    meanwhile. When the module finally arrives, the case list stays on screen."""
    page = phone
    held = []
    page.route("**/static/js/views/outbox.js*", lambda route: held.append(route))  # late
    sign_in(page, "wenping_fw1")
    page.wait_for_selector("#case-list .case-row")
    with page.expect_request("**/static/js/views/outbox.js*"):
        page.click("#nav-outbox")
    page.wait_for_function("() => location.hash === '#/outbox'")
    assert held, "the outbox module was not requested"
    page.goto("/#/cases")
    page.wait_for_selector("#main[data-view=cases][data-ready=true] #case-list .case-row")
    held[0].continue_()
    # The late module has arrived and been evaluated once an import of it resolves.
    page.evaluate("() => import('/static/js/views/outbox.js').then(() => true)")
    assert page.evaluate("() => document.querySelector('#outbox-list') === null")
    assert page.get_attribute("#main", "data-view") == "cases"
    # The outbox still opens when asked for again.
    page.click("#nav-outbox")
    page.wait_for_selector("#main[data-view=outbox][data-ready=true] #outbox-list")
    assert page.js_errors == []
