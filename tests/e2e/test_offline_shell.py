"""Sign in online, then lose the network: the app still opens from the service worker
and shows the assignments kept in IndexedDB."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def wait_for_service_worker(page):
    page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
        timeout=20_000)


def test_app_opens_offline_with_cached_assignments(page, context, sign_in):
    sign_in(page, "wenping_fw1")
    page.locator("#case-list .case-row").first.wait_for()
    online_heads = page.locator("#case-list .case-head").all_inner_texts()
    wait_for_service_worker(page)

    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#main[data-view=cases][data-ready=true]")
    assert page.locator("#case-list .case-head").all_inner_texts() == online_heads
    assert page.inner_text("#net-state") == "离线"

    # A case opens offline with its members and location.
    page.locator("#case-list .case-row").first.click()
    page.wait_for_selector("#members li")
    assert page.locator("#members li").count() >= 1
    assert page.locator("#case-location").inner_text()

    # A brand-new tab, still offline, opens too (navigation fallback to the cached shell).
    other = context.new_page()
    other.goto("/#/cases")
    other.wait_for_selector("#main[data-view=cases][data-ready=true]")
    assert other.locator("#case-list .case-row").count() == len(online_heads)
    assert page.js_errors == []


def test_sign_out_wipes_personal_data(page, sign_in):
    sign_in(page, "wenping_fw1")
    page.locator("#case-list .case-row").first.wait_for()
    page.click("#nav-settings")
    page.wait_for_selector("#storage-estimate")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#sign-out")
    page.wait_for_selector("#username")
    left = page.evaluate("""async () => {
        const { all } = await import('/static/js/store.js');
        return { cases: (await all('cases')).length, households: (await all('households')).length,
                 session: (await all('session')).length, keys: (await all('keys')).length };
    }""")
    assert left["cases"] == 0 and left["households"] == 0 and left["session"] == 0
    # The wrapped signing key stays: useless without the PIN, and it saves re-registering.
    assert left["keys"] == 1


def test_unassigned_case_leaves_the_phone_on_next_sync(page, live_server, sign_in):
    """The township reassigns a case: the next pull deletes it from the old investigator's
    phone (the server sends the full list of assigned ids when it changed)."""
    from tests.conftest import Api

    sign_in(page, "wenping_fw1")
    page.locator("#case-list .case-row").first.wait_for()
    before = page.evaluate("""async () => {
        const { all } = await import('/static/js/store.js');
        return (await all('cases')).map((c) => c.id);
    }""")
    api = Api(live_server.app.test_client())
    case = api.get("wenping_intake", f"/api/cases/{before[0]}").get_json()
    moved = api.put("wenping_intake", f"/api/cases/{case['id']}/team",
                    json={"user_ids": [api.user_id("wenping_fw2"), api.user_id("wenping_fw3")]},
                    headers={"If-Match": f'"{case["version"]}"'})
    assert moved.status_code == 200
    after = page.evaluate("""async () => {
        const { pull } = await import('/static/js/sync.js');
        await pull();
        const { all } = await import('/static/js/store.js');
        return (await all('cases')).map((c) => c.id);
    }""")
    assert case["id"] not in after
    assert sorted(after) == sorted(set(before) - {case["id"]})
