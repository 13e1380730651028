"""Words that read right in Simplified Chinese (issue 13): dates through one formatter in
Asia/Shanghai, no stray "null", yes/no from the language files, masked members prefilled."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_visit_offline import PIN_1, dibao_case_id

pytestmark = pytest.mark.e2e


@pytest.fixture
def worker(context, page, sign_in, live_server):
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation({"latitude": 27.1917, "longitude": 103.5586, "accuracy": 12})
    sign_in(page, "wenping_fw1", pin=PIN_1)
    page.wait_for_selector("#case-list .case-row")
    return page


def test_last_update_is_a_chinese_date_in_shanghai(worker, context):
    page = worker
    context.set_offline(True)  # no refresh on opening the list: the stamp below stays
    page.evaluate("""async () => {
        const store = await import('/static/js/store.js');
        await store.put('device', '2026-11-26T00:42:38Z', 'pulled_at');
    }""")
    page.goto("/#/settings")
    page.goto("/#/cases")
    page.wait_for_selector("#main[data-view=cases][data-ready=true]")
    line = page.inner_text("#sync-line")
    assert "2026年11月26日 08:42" in line, line
    assert "AM" not in line and "PM" not in line


def test_decided_cases_show_no_deadline(worker, context):
    """Issue 21: refused and approved cases kept "截止 …" (and "逾期") in the list."""
    page = worker
    context.set_offline(True)  # no pull on opening the list: the cases below stay as put
    ids = page.evaluate("""async () => {
        const store = await import('/static/js/store.js');
        const [first, second] = await store.all('cases');
        const due = { deadline_on: '2026-01-05', is_overdue: true };
        await store.put('cases', { ...first, ...due, status: 'refused' });
        await store.put('cases', { ...second, ...due, status: 'approved' });
        return [first.id, second.id];
    }""")
    page.goto("/#/settings")
    page.goto("/#/cases")
    page.wait_for_selector("#main[data-view=cases][data-ready=true]")
    for case_id in ids:
        row = page.inner_text(f"#case-list [data-case-id='{case_id}']")
        assert "截止" not in row and "超期" not in row, row
    assert "截止" in page.inner_text("#case-list")  # the open ones still say when


def test_first_question_has_no_null_and_yes_no_from_language_files(worker):
    page = worker
    page.goto(f"/#/survey/{dibao_case_id(page)}")
    page.wait_for_selector("#section-title")
    text = page.inner_text("#main")
    assert "null" not in text and "undefined" not in text, text[:400]
    choices = page.locator("[data-field=address_confirmed] label.choice").all_inner_texts()
    assert [c.strip() for c in choices] == ["是", "否"]
    assert "Yes" not in text


def test_yes_no_in_english(worker):
    page = worker
    page.evaluate("""async () => { const i18n = await import('/static/js/i18n.js');
        await i18n.setLang('en'); }""")
    page.goto(f"/#/survey/{dibao_case_id(page)}")
    page.reload()
    page.wait_for_selector("#section-title")
    choices = page.locator("[data-field=address_confirmed] label.choice").all_inner_texts()
    assert [c.strip() for c in choices] == ["Yes", "No"]
    assert not re.search(r"[是否]", " ".join(choices))


def mount_attestation(page):
    """The signing section alone in the page, over a small fixed content."""
    page.evaluate("""async () => {
        const { attestationBlock } = await import('/static/js/widgets/signature.js');
        const section = await attestationBlock({ attestations: [], needed: 2,
          content: () => ({ id: 'x', case_id: 'c', data: {}, stamps: [], photos: [] }),
          onSigned: async () => {} });
        document.querySelector('#main').replaceChildren(section);
    }""")


def draw_and_sign(page, pin):
    box = page.locator("#sig-canvas").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 90, steps=5)
    page.mouse.up()
    page.fill("#sign-pin", pin)
    page.click("#sign")


def test_signing_with_a_wrong_pin_says_how_many_tries_are_left(worker):
    page = worker
    mount_attestation(page)
    draw_and_sign(page, "000000")
    page.wait_for_function("() => document.querySelector('#sign-error')?.textContent")
    assert "再错 4 次" in page.inner_text("#sign-error")


def test_a_destroyed_key_leaves_the_signer_list_and_says_why(worker):
    page = worker
    page.evaluate("""async () => {
        const store = await import('/static/js/store.js');
        const [record] = await store.all('keys');
        await store.put('keys', { ...record, failed_attempts: (record.max_attempts ?? 5) - 1 });
    }""")
    mount_attestation(page)
    assert page.locator("#signer option").count() == 1
    draw_and_sign(page, "000000")
    page.wait_for_function("() => document.querySelector('#sign-error')?.textContent")
    assert page.locator("#signer option").count() == 0
    assert page.inner_text("#sign-error") == page.evaluate(
        "async () => (await import('/static/js/i18n.js')).t('problem.pin-locked-out')")


def test_masked_members_are_prefilled_and_confirmed_on_site(worker):
    from tests.e2e.test_visit_offline import fill_visible_section, next_section

    page = worker
    page.goto(f"/#/survey/{dibao_case_id(page)}")
    page.wait_for_selector("#section-title")
    page.check("[data-field=address_confirmed] input[value=true]")
    fill_visible_section(page)
    next_section(page)
    assert page.get_attribute("#section-title", "data-section") == "members"
    entries = page.locator("[data-repeat=members] .repeat")
    assert entries.count() >= 1
    first = entries.first
    assert first.locator("[data-field$='.name'] input").input_value()
    assert first.locator("[data-field$='.relation'] select").input_value()
    masked = first.locator("[data-field$='.id_number'] input").input_value()
    assert "*" in masked and len(masked) == 18, masked
    assert "没有变化就不用改" in first.inner_text()
    # Not confirmed on site: the section cannot be left.
    page.click("#next")
    page.wait_for_selector("#toasts .toast-error")  # why it cannot be left
    page.wait_for_selector("#main[data-view=survey][data-ready=true]")
    assert page.get_attribute("#section-title", "data-section") == "members"
    # Confirm every registered member and fill the rest: the masked ID passes as unchanged.
    fill_visible_section(page)
    assert page.locator("[data-repeat=members] .repeat [data-field$='.id_number'] input").first \
        .input_value() == masked
    next_section(page)
