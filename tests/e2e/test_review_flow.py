"""Issue 10 end to end, in real Chromium with two browser contexts: a reviewer at a desk
(1280x800) and the field team's phone.

The team files a visit whose stamps are far from the registered home (flagged). The
reviewer opens it from the queue by keyboard, sees the map drawn without a tile server
(home, stamps, photo points, distance rings, scale), the photos and the flags, and sends one
field back. The phone pulls the task, the team fixes it offline at the commented field,
both investigators sign again, and it syncs as revision 2. The reviewer sees the diff, is
told when someone else changed the visit meanwhile (412), reloads and approves.
Every new screen passes axe-core with no violations.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import test_visit_offline as visit

from tests.e2e.accessibility import assert_accessible, assert_no_slugs, shot
from tests.e2e.waits import wait_until

field_phone = visit.field_phone  # the fixture: fw1 signed in, fw2 added, cases pulled

pytestmark = pytest.mark.e2e

DESK = {"width": 1280, "height": 800}
DEMO_PASSWORD = "demo-pass-2026"
REVIEWER_PIN = "192837"


def far_case(page) -> tuple[str, dict]:
    """A dibao case on the phone whose household has a registered home location."""
    found = page.evaluate("""async () => {
        const { all } = await import('/static/js/store.js');
        const homes = new Map((await all('households')).map((h) => [h.id, h]));
        const item = (await all('cases')).find((c) => c.kind === 'dibao'
            && (homes.get(c.household_id) ?? c.household)?.home_lat != null);
        const home = homes.get(item.household_id) ?? item.household;
        return [item.id, {lat: home.home_lat, lon: home.home_lon}];
    }""")
    return found[0], found[1]


def submission_of(live_server, case_id: str) -> str:
    from sqlalchemy import text

    from backend.extensions import db

    with live_server.app.app_context():
        found = db.session.execute(text("SELECT id FROM visit_submission WHERE case_id = :c"),
                                   {"c": case_id}).scalar_one()
        db.session.remove()
    return found


def wait_ready(page, view: str):
    try:
        page.wait_for_selector(f"#main[data-view={view}][data-ready=true]")
    except Exception as error:
        raise AssertionError(f"{view} not ready: {getattr(page, 'js_errors', [])} "
                             f"{getattr(page, 'logs', [])[-10:]}") from error


sign_twice = visit.sign_twice


def send_outbox(page, context):
    context.set_offline(False)
    page.goto("/#/outbox")
    page.wait_for_selector("#outbox-list li")
    page.click("#send-now")
    page.wait_for_selector("#outbox-list li[data-status=accepted]", timeout=30_000)


@pytest.fixture
def reviewer(browser, live_server):
    ctx = browser.new_context(viewport=DESK, base_url=live_server.url, locale="zh-CN",
                              timezone_id="Asia/Shanghai", service_workers="allow")
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    errors: list[str] = []
    csp: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    logs: list[str] = []

    def console(message):
        logs.append(f"{message.type}: {message.text}")
        if "Content Security Policy" in message.text:
            csp.append(message.text)

    page.on("console", console)
    page.logs = logs  # type: ignore[attr-defined]
    page.js_errors = errors  # type: ignore[attr-defined]
    page.goto("/")
    page.fill("#username", "wenping_reviewer")
    page.fill("#password", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("#pin-1, #main[data-view=reviews]", state="attached")
    if page.locator("#pin-1").count():
        page.fill("#pin-1", REVIEWER_PIN)
        page.fill("#pin-2", REVIEWER_PIN)
        page.click("#pin-save")
    page.wait_for_selector("#main[data-view=reviews][data-ready=true]")
    yield page
    assert csp == [] and errors == [], (csp, errors)
    ctx.close()


def test_reviewer_sends_a_field_back_and_the_team_fixes_it_offline(
        field_phone, context, reviewer, live_server, monkeypatch):  # noqa: F811 - the fixture
    phone = field_phone
    case_id, home = far_case(phone)
    # Both stamps ~1.1 km north of the registered home: the visit is flagged.
    context.set_geolocation({"latitude": home["lat"] + 0.01, "longitude": home["lon"],
                             "accuracy": 12})
    monkeypatch.setattr(visit, "dibao_case_id", lambda _page: case_id)
    visit.fill_survey_offline(phone, context)
    send_outbox(phone, context)
    submission_id = submission_of(live_server, case_id)

    # --- the reviewer: the queue, by keyboard ------------------------------------------
    desk = reviewer
    desk.goto("/#/reviews")
    desk.wait_for_selector(f"#queue-table tr[data-id='{submission_id}']")
    row = desk.locator(f"tr[data-id='{submission_id}']")
    assert row.locator(".flag-chip[data-code=stamp-far-from-home]").count()
    assert desk.locator("#state-counts [data-state=received] strong").inner_text().strip() != "0"
    assert desk.locator("#keys-help").is_visible()
    assert desk.locator("#nav-reviews").count() == 1
    assert_accessible(desk, "review queue")
    assert_no_slugs(desk, "review queue", "#main")
    shot(desk, "desk-review-queue")
    index = int(desk.get_attribute(f"tr[data-id='{submission_id}']", "data-index"))
    for _ in range(index):
        desk.keyboard.press("j")
    desk.wait_for_function(
        "(id) => document.activeElement?.dataset.id === id", arg=submission_id)
    desk.keyboard.press("Enter")
    wait_ready(desk, "review")

    # The map, drawn with no tile server: home, stamps, photo points, rings and a scale.
    assert desk.locator("#evidence-map .leaflet-tile").count() == 0
    assert desk.locator("#evidence-map path.map-home").count() == 1
    assert desk.locator("#evidence-map path.map-start").count() == 1
    assert desk.locator("#evidence-map path.map-end").count() == 1
    assert desk.locator("#evidence-map path.map-ring").count() == 3
    assert desk.locator("#evidence-map .leaflet-control-scale").count() == 1
    assert desk.locator("#map-legend li").count() >= 3
    # The photos (thumbnails fetched with the reviewer's token) and the flags.
    desk.wait_for_function("() => document.querySelectorAll('#photo-list img').length === 2")
    assert desk.locator("#flags [data-code=stamp-far-from-home] .flag-threshold").count() >= 1
    far = desk.locator("#flags [data-code=stamp-far-from-home]").first
    assert far.locator(".flag-sentence").inner_text().strip()
    # Issue 21: the same flag twice (start and end both far) says which stamp each is about.
    both = desk.locator("#flags [data-code=stamp-far-from-home] .flag-stamp").all_inner_texts()
    assert len(both) >= 2 and len(set(both)) == len(both), both
    assert any("开始定位" in text for text in both) and any("结束定位" in text for text in both)
    assert desk.locator("#attestations tbody tr").count() == 2
    assert desk.locator("#timeline li").count() >= 3
    desk.click("#photo-list .photo-thumb")
    desk.wait_for_function(
        "() => document.querySelector('#photo-dialog img')?.src.startsWith('blob:')")
    assert_accessible(desk, "photo full size")
    # Issue 21: the full size says what the thumbnail says: the phone's time, place, distance.
    full = desk.inner_text("#photo-dialog .photo-facts")
    thumb = desk.inner_text("#photo-list .photo-item .photo-facts")
    assert full == thumb and "年" in full, full
    desk.click("#photo-close")
    assert_accessible(desk, "evidence viewer")
    # Issue 21: every answer, flag and label in words (家庭成员 1 · 已当面核实, not
    # confirmed_on_site), and each member's answers in the form's order (姓名 first).
    assert_no_slugs(desk, "evidence viewer", "#main")
    shot(desk, "desk-evidence")
    # 开始/结束/时长 each on one line, not one character a line.
    heights = desk.locator("#visit-stamps th").evaluate_all(
        "(cells) => cells.map((c) => c.getBoundingClientRect().height)")
    line = desk.evaluate("() => parseFloat(getComputedStyle(document.querySelector("
                         "'#visit-stamps th')).lineHeight) || 24")
    assert max(heights) < 2.5 * line, heights
    member_rows = desk.locator("#answers th[scope=row]").all_inner_texts()
    first_member = [text for text in member_rows if text.startswith("家庭成员 1 · ")]
    assert first_member and first_member[0] == "家庭成员 1 · 姓名", first_member

    # One field has issues.
    desk.click("[data-issue-for=housing_area]")
    desk.wait_for_selector("#issue-dialog[open]")
    assert desk.input_value("#issue-field") == "housing_area"
    assert_accessible(desk, "send-back dialog")
    desk.fill("#issue-text", "住房面积与房产证不符，请核实")
    desk.click("#issue-send")
    desk.wait_for_selector("#review-state[data-state=has_issues]")

    # --- the phone: pull the task, fix it offline, both sign again ----------------------
    phone.goto("/#/cases")
    phone.wait_for_selector("#main[data-view=cases][data-ready=true]")
    phone.click("#pull-now")
    task = phone.locator(f"#task-list li[data-submission-id='{submission_id}']")
    task.wait_for()
    assert "住房面积与房产证不符" in task.inner_text()
    assert "null" not in phone.inner_text("#top") and phone.locator("#nav-reviews").count() == 0
    wait_until(phone, """async (id) => {
        const { get } = await import('/static/js/store.js');
        return Boolean((await get('review_tasks', id))?.visit);
    }""", arg=submission_id)
    assert_accessible(phone, "cases with a task sent back")
    context.set_offline(True)
    phone.goto(f"/#/case/{case_id}")
    phone.wait_for_selector(f"#fix-survey[href$='{submission_id}']")
    phone.goto("/#/cases")
    task.locator("a").click()
    phone.wait_for_selector("#main[data-view=survey][data-ready=true]")
    phone.wait_for_function("() => document.activeElement?.dataset.path === 'housing_area'")
    assert "住房面积与房产证不符" in phone.inner_text("[data-field=housing_area] .review-comment")
    assert phone.input_value("[data-field=housing_area] input") == "45"  # the reviewed answer
    assert_accessible(phone, "survey at the commented field")
    phone.fill("[data-field=housing_area] input", "52")
    phone.locator("[data-field=housing_area] input").dispatch_event("change")
    phone.click("nav.steps button:last-child")
    phone.wait_for_selector("#section-title[data-section=__review]")
    sign_twice(phone)
    phone.click("#submit")
    phone.wait_for_selector("#outbox-list li[data-status=waiting]")
    send_outbox(phone, context)
    phone.goto("/#/cases")
    phone.click("#pull-now")
    phone.wait_for_selector("#sent-back[hidden]", state="attached")

    # --- the reviewer: the diff, a stale decision (412), reload, approve ----------------
    desk.reload()
    desk.wait_for_selector("#review-state[data-state=resubmitted]")
    # Only the fixed field changed: the rest of revision 1 went back as it was.
    assert desk.locator("#diff tbody tr").count() == 1
    change = desk.locator("#diff tr[data-field=housing_area]")
    assert change.locator(".before").inner_text() == "45"
    assert change.locator(".after").inner_text() == "52"
    assert_accessible(desk, "evidence viewer with the diff")
    # Someone else comments meanwhile: the reviewer's page still holds the old version.
    desk.evaluate("""async (id) => {
        const { api } = await import('/static/js/api.js');
        const response = await api.get(`/api/reviews/${id}`, {raw: true});
        await api.post(`/api/reviews/${id}/comments`, {field: null, text: '已核对'},
                       {headers: {'If-Match': response.headers.get('ETag')}});
    }""", submission_id)
    desk.click("#act-approved")
    desk.wait_for_selector("#review-alert:not([hidden])")
    assert "别人刚刚修改" in desk.inner_text("#review-alert")
    desk.click("#review-reload")
    desk.wait_for_selector("#review-alert[hidden]", state="attached")
    desk.evaluate("() => document.activeElement?.blur()")
    desk.keyboard.press("a")
    desk.wait_for_selector("#review-state[data-state=approved]")


def test_dashboard_and_exports(reviewer):
    desk = reviewer
    # Issue 21: a notice from the screen before must not sit over a chart.
    desk.evaluate("() => import('/static/js/dom.js').then((m) => m.toast('已保存。'))")
    assert desk.locator("#toasts .toast").count() == 1
    desk.goto("/#/dashboard")
    wait_ready(desk, "dashboard")
    assert desk.locator("#toasts .toast").count() == 0
    assert desk.locator("#dash-villages tbody tr").count() == 2  # 文屏镇's two villages
    assert desk.locator("#dash-totals td[data-metric=visits]").inner_text().strip()
    # The server's SVG charts, shown from blob: URLs, each with alt text naming the numbers.
    charts = desk.locator("#dash-charts img")
    assert charts.count() >= 3
    desk.wait_for_function("() => [...document.querySelectorAll('#dash-charts img')]"
                           ".every((img) => img.complete && img.naturalWidth > 0)")
    assert all("砚池社区" in (charts.nth(i).get_attribute("alt") or "")
               for i in range(charts.count()))
    assert_accessible(desk, "dashboard")
    with desk.expect_download() as xlsx:
        desk.click("#export-xlsx")
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    assert Path(xlsx.value.path()).read_bytes()[:2] == b"PK"  # a real zip (OOXML)
    with desk.expect_download() as csv:
        desk.click("#export-csv")
    assert Path(csv.value.path()).read_text(encoding="utf-8-sig").count("\n") >= 1
    # English on request: the desk's own words switch too.
    desk.click("#toggle-lang")
    desk.wait_for_function("() => document.querySelector('#main h1')?.textContent"
                           ".startsWith('Dashboard')")
    wait_ready(desk, "dashboard")
    assert desk.locator("#dash-villages caption").inner_text() == "By village"
    assert_accessible(desk, "dashboard in English")
    desk.goto("/#/reviews")
    wait_ready(desk, "reviews")
    assert desk.locator("#keys-help").inner_text().startswith("Keys:")
    assert_accessible(desk, "queue in English")
    # A problem only the desk meets: its words come with the desk's dictionary (never
    # precached on phones), in the language chosen, and follow a switch on the open screen.
    desk.goto("/#/review/00000000-0000-4000-8000-000000000000")
    wait_ready(desk, "review")
    assert desk.inner_text("#main .form-error") == \
        "No such visit to review in your area. Refresh the list."
    desk.click("#toggle-lang")
    desk.wait_for_function("() => document.querySelector('#main .form-error')?.textContent"
                           " === '您的辖区内没有这条待初审的入户记录。请刷新列表。'")
    assert desk.inner_text("#main .desk-nav").startswith("走访审核")


def test_queue_filters_and_keys(reviewer, live_server):
    """A day of reviewing by keyboard: filter by flag, approve one (a), send the next back
    with a comment (i), and the counts per state follow."""
    from backend.demo import seed_reviewed_visits
    from backend.extensions import db

    with live_server.app.app_context():
        seed_reviewed_visits(live_server.app.extensions["doorstep.sync"])
        db.session.commit()
        db.session.remove()
    desk = reviewer
    desk.goto("/#/reviews")
    wait_ready(desk, "reviews")
    desk.select_option("#flag", "stamp-far-from-home")
    desk.select_option("#state", "received")
    desk.click("#filter-apply")
    # Only visits with that flag and state remain (the table is drawn anew when they come).
    desk.wait_for_function("""() => {
        const rows = [...document.querySelectorAll('#queue-table tbody tr')];
        return rows.length >= 2 && rows.every((row) =>
            row.querySelector('.flag-chip[data-code="stamp-far-from-home"]')
            && row.querySelector('.state-received'));
    }""")
    rows = desk.locator("#queue-table tbody tr")
    first, second = rows.nth(0).get_attribute("data-id"), rows.nth(1).get_attribute("data-id")
    approved_before = int(desk.inner_text("#state-counts [data-state=approved] strong"))
    desk.locator("#queue-table tbody tr").first.focus()
    desk.keyboard.press("a")
    desk.wait_for_selector(f"#queue-table tr[data-id='{first}']", state="detached")
    assert int(desk.inner_text("#state-counts [data-state=approved] strong")) == approved_before + 1
    desk.wait_for_function("(id) => document.activeElement?.dataset.id === id", arg=second)
    desk.keyboard.press("i")
    desk.wait_for_selector("#issue-dialog[open]")
    issues_before = int(desk.inner_text("#state-counts [data-state=has_issues] strong"))
    desk.fill("#issue-text", "请补拍房屋照片")
    desk.keyboard.press("Tab")
    desk.keyboard.press("Enter")  # on the send button
    desk.wait_for_selector(f"#queue-table tr[data-id='{second}']", state="detached")
    assert int(desk.inner_text("#state-counts [data-state=has_issues] strong")) == \
        issues_before + 1


def test_queue_names_households_and_evidence_keys_walk_the_queue(reviewer, live_server):
    """Each queue row names the household's head from the queue page itself (no case read
    per row); in the evidence viewer n and p open the next and the previous visit."""
    from backend.demo import seed_reviewed_visits
    from backend.extensions import db

    with live_server.app.app_context():
        seed_reviewed_visits(live_server.app.extensions["doorstep.sync"])
        db.session.commit()
        db.session.remove()
    desk = reviewer
    case_reads: list[str] = []
    desk.on("request", lambda request: case_reads.append(request.url)
            if "/api/cases/" in request.url else None)
    desk.goto("/#/reviews")
    desk.reload()
    wait_ready(desk, "reviews")
    desk.wait_for_function(
        "() => document.querySelectorAll('#queue-table tbody tr').length >= 3")
    names = [desk.locator("#queue-table tbody tr").nth(i).locator("td").first.inner_text()
             for i in range(3)]
    # Demo heads are Chinese names, never an id cut short.
    assert all(name and not any(c in "0123456789abcdef-" for c in name) for name in names), names
    assert case_reads == []
    ids = [desk.locator("#queue-table tbody tr").nth(i).get_attribute("data-id")
           for i in range(3)]

    desk.locator("#queue-table tbody tr").first.focus()
    desk.keyboard.press("Enter")
    wait_ready(desk, "review")
    desk.wait_for_function("(id) => location.hash === `#/review/${id}`", arg=ids[0])
    assert names[0] in desk.inner_text("#visit-title")
    desk.evaluate("() => document.activeElement?.blur()")
    desk.keyboard.press("n")
    desk.wait_for_function("(id) => location.hash === `#/review/${id}`", arg=ids[1])
    wait_ready(desk, "review")
    desk.wait_for_function("(name) => document.querySelector('#visit-title')"
                           "?.textContent.includes(name)", arg=names[1])
    desk.evaluate("() => document.activeElement?.blur()")
    desk.keyboard.press("n")
    desk.wait_for_function("(id) => location.hash === `#/review/${id}`", arg=ids[2])
    wait_ready(desk, "review")
    desk.evaluate("() => document.activeElement?.blur()")
    desk.keyboard.press("p")
    desk.wait_for_function("(id) => location.hash === `#/review/${id}`", arg=ids[1])
    wait_ready(desk, "review")
    assert_accessible(desk, "evidence viewer reached by n/p")
    assert case_reads == []


def test_a_requested_revisit_reaches_the_phone(field_phone, context, reviewer, live_server):  # noqa: F811
    """The reviewer asks for a new visit; the team's phone pulls the task with the comment,
    and its link starts a new survey of the case (not an edit of the old visit)."""
    from backend.demo import seed_reviewed_visits
    from backend.extensions import db

    with live_server.app.app_context():
        seed_reviewed_visits(live_server.app.extensions["doorstep.sync"])
        db.session.commit()
        db.session.remove()
    desk = reviewer
    target = desk.evaluate("""async () => {
        const { api } = await import('/static/js/api.js');
        const page = await api.get('/api/reviews?state=received&limit=1');
        return [page.items[0].submission_id, page.items[0].case_id];
    }""")
    submission_id, case_id = target
    desk.goto(f"/#/review/{submission_id}")
    wait_ready(desk, "review")
    desk.click("#act-revisit_requested")
    desk.wait_for_selector("#issue-dialog[open]")
    desk.fill("#issue-text", "家庭人口与户籍不符，请重新入户核实")
    desk.click("#issue-send")
    desk.wait_for_selector("#review-state[data-state=revisit_requested]")

    phone = field_phone
    phone.goto("/#/cases")
    phone.wait_for_selector("#main[data-view=cases][data-ready=true]")
    phone.click("#pull-now")
    task = phone.locator(f"#task-list li[data-submission-id='{submission_id}']")
    task.wait_for()
    assert task.get_attribute("data-state") == "revisit_requested"
    assert "需重新走访" in task.inner_text()
    assert "家庭人口与户籍不符" in task.inner_text()
    assert task.locator("a").get_attribute("href") == f"#/survey/{case_id}"
    assert_accessible(phone, "cases with a re-visit task")
    task.locator("a").click()
    phone.wait_for_selector("#main[data-view=survey][data-ready=true]")
    assert phone.evaluate("() => location.hash") == f"#/survey/{case_id}"
