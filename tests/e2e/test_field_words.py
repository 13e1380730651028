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
