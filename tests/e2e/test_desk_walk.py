"""Every desk screen, as each desk role opens it, in Simplified Chinese and in English
(issue 21): each one becomes ready, axe-core finds no WCAG 2.1 A/AA violation, and a Chinese
screen shows no slug, raw key or English sentence anywhere a person reads (its text, alt,
aria-label and title); an English one no raw dictionary key."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Api
from tests.e2e.accessibility import assert_accessible, slugs_on

pytestmark = pytest.mark.e2e

# Who opens which desk screens ({case} and {visit}: one of 文屏镇's cases and home visits).
ROUTES = {
    "wenping_reviewer": ["reviews", "review/{visit}", "dashboard", "work", "work-case/{case}",
                         "checkin-desk"],
    "wenping_approver": ["work", "work-case/{case}"],
    "wenping_intake": ["work", "intake", "checkin-desk"],
    "wenping_assistant": ["checkin-desk", "intake"],
    "county_supervisor": ["work", "dashboard", "work-case/{case}", "review/{visit}"],
    "county_admin": ["webhooks"],
}
# A dictionary key shown as it is ("review.flag.x", "wf.task.y", "desk.title").
RAW_KEY = re.compile(r"\b(?:review|wf|desk|in|problem|keys|cases|settings|app|nav)"
                     r"\.[a-z_]+(?:\.[a-z_-]+)*\b")


@pytest.fixture(scope="module")
def ids(live_server):
    """A home visit to review (stamped far from home, so it carries flags), pushed the way
    the phone pushes it when the queue has none yet (tests start without visits)."""
    from tests.api.test_reviews import assigned_case, push
    from tests.visit_factory import submission

    api = Api(live_server.app.test_client())
    items = api.get("wenping_reviewer", "/api/reviews?limit=1").get_json()["items"]
    if not items:
        push(api, [submission(assigned_case(api), offset_m=5000)])
        items = api.get("wenping_reviewer", "/api/reviews?limit=1").get_json()["items"]
    return {"visit": items[0]["submission_id"], "case": items[0]["case_id"]}


def _text(page) -> str:
    return page.evaluate("""() => {
        const labels = [...document.body.querySelectorAll('[alt], [aria-label], [title]')]
            .flatMap((el) => ['alt', 'aria-label', 'title'].map((a) => el.getAttribute(a) ?? ''));
        return [document.body.innerText, ...labels].join('\\n');
    }""")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("username", list(ROUTES))
def test_every_desk_screen_in_both_languages(desk, ids, username, lang):
    page = desk(username)
    if lang == "en":
        page.evaluate("() => localStorage.setItem('doorstep.lang', 'en')")
        page.reload()
        page.wait_for_selector("#main[data-ready=true]:not([data-view=login])")
    for route in ROUTES[username]:
        path = route.format(**ids)
        view = path.split("/")[0]
        page.goto(f"/#/{path}")
        page.wait_for_selector(f"#main[data-view='{view}'][data-ready=true]")
        screen = f"{username} #/{path} ({lang})"
        assert page.evaluate("() => document.documentElement.lang") == lang, screen
        assert_accessible(page, screen)
        text = _text(page)
        assert RAW_KEY.findall(text) == [], f"{screen}: {RAW_KEY.findall(text)}"
        if lang == "zh-CN":
            assert slugs_on(page) == [], f"{screen}: {slugs_on(page)}"
            # No time in UTC or as ISO on a Chinese page (2026-12-05T02:00, 02:00Z, UTC).
            assert not re.search(r"\d{4}-\d{2}-\d{2}T\d|\d{2}:\d{2}Z\b|\bUTC\b", text), screen
