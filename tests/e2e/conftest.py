"""Fixtures for driving the PWA in real headless Chromium against a real Flask server.

The server runs in a background thread on a free port with its own SQLite database in
tmp_path: a copy of the worker's migrated, demo-seeded one of the day. e2e is about the
browser, so it always uses SQLite, even when DATABASE_URL points the API tests at PostgreSQL.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DEMO_PASSWORD = "demo-pass-2026"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 860}


def pytest_collection_modifyitems(items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason="Chromium is not installed at /usr/bin/chromium")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _closing(iterable):
    """The response body, closed as soon as it is sent or abandoned.

    Werkzeug's development server closes a response after draining the socket, and when the
    browser has already dropped the connection that drain raises first: the open static file
    is then left to the garbage collector, whose ResourceWarning failed whatever test ran next
    (a flake hunt caught it once in 135 file runs). Closing here, when the body is exhausted
    or when this generator is dropped, does not depend on the drain. Production runs gunicorn.
    """
    try:
        yield from iterable
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()


class LiveServer:
    def __init__(self, app, port: int):
        from werkzeug.serving import make_server

        self.app = app
        self.url = f"http://127.0.0.1:{port}"
        self._server = make_server(
            "127.0.0.1", port,
            lambda environ, start_response: _closing(app(environ, start_response)),
            threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture(scope="session")
def _seeded_templates(tmp_path_factory) -> dict:
    """This worker's migrated, demo-seeded databases by the day (in Shanghai) they were seeded
    on: the seed dates its cases from today, so a module that starts past midnight gets a
    new one. Each module's server serves a copy (`live_server`): migrating and seeding anew
    for each of some thirty modules cost 2 s each, more on a busy machine (issue 23: test
    time)."""
    return {"directory": tmp_path_factory.mktemp("e2e-templates")}


def _seeded_database(templates: dict, db_file: Path) -> bool:
    """Copy today's template to ``db_file``: False when there is none yet (then the caller
    seeds ``db_file`` and keeps it with `_keep_as_template`)."""
    from backend import clock

    template = templates.get(clock.today_in_china())
    if template is None:
        return False
    _sqlite_copy(template, db_file)
    return True


def _keep_as_template(templates: dict, db_file: Path) -> None:
    from backend import clock

    today = clock.today_in_china()
    template = templates["directory"] / f"{today}.sqlite3"
    _sqlite_copy(db_file, template)
    templates[today] = template


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy, write-ahead log included."""
    import sqlite3

    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
    origin.close()
    copy.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, _seeded_templates):
    from flask_migrate import upgrade

    from backend import create_app
    from backend.demo import seed
    from backend.extensions import db

    db_file = tmp_path_factory.mktemp("e2e-db") / "doorstep-e2e.sqlite3"
    copied = _seeded_database(_seeded_templates, db_file)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "TESTING": True,
                      "LOGIN_MAX_FAILURES": 50, "PASSWORD_HASH_PROFILE": "CHEAPEST",
                      # Clocks jump ahead in the desk tests: demo deciders stay within their
                      # two-step enrolment grace (test_second_factor.py enrols for real).
                      "SECOND_FACTOR_GRACE_DAYS": 36500})
    if not copied:
        with app.app_context():
            upgrade()
            seed(DEMO_PASSWORD)
            db.session.commit()
            db.session.remove()
        _keep_as_template(_seeded_templates, db_file)
    server = LiveServer(app, _free_port())
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# The worker's browser while it runs, for the guard below.
_shared_browser: list = []


@pytest.fixture(scope="session")
def browser():
    """One Chromium per worker: each test opens its own context (cookies, storage, service
    workers and caches apart), so nothing carries from one module to the next. Launching it
    for each of some thirty modules (and the Playwright driver with it) cost about 1.2 s of
    CPU each (issue 23: test time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        _shared_browser.append(chromium)
        yield chromium
        _shared_browser.clear()
        chromium.close()


@pytest.fixture(scope="module", autouse=True)
def _no_context_outlives_its_module():
    """The worker's one browser is shared: a context a module left open would carry its
    pages, storage and service workers into the next module."""
    yield
    for chromium in _shared_browser:
        assert chromium.contexts == [], "a browser context outlived its module"


@pytest.fixture
def context(browser, live_server):
    ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="zh-CN",
                              timezone_id="Asia/Shanghai", is_mobile=True, has_touch=True,
                              service_workers="allow")
    # Generous: CI runs two xdist workers and Chromium on two cores; a passing wait returns
    # as soon as it holds, so only a real failure ever waits this long.
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    csp_violations: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: csp_violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.js_errors = errors  # type: ignore[attr-defined]
    page.csp_violations = csp_violations  # type: ignore[attr-defined]
    yield page
    # Every page of every e2e test runs under the app's CSP without a single violation.
    # (The CSP forbids eval, so give page.wait_for_function arrow functions, not bare
    # expressions: Playwright evals an expression in the page each time it polls.)
    assert csp_violations == []


def _sign_in(page, username: str, password: str = DEMO_PASSWORD, pin: str | None = "246810"):
    """Sign in through the UI; set the signing PIN when the app asks for one."""
    page.goto("/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    # Each role lands where its work is (a field worker on the case list, an assistant on the
    # check-in desk, an intake clerk on the to-do list, a reviewer on the queue).
    landed = "#main[data-ready=true]:not([data-view=login])"
    if pin:
        page.wait_for_selector(f"#pin-1, {landed}", state="attached")
        if page.locator("#pin-1").count():
            page.fill("#pin-1", pin)
            page.fill("#pin-2", pin)
            page.click("#pin-save")
    page.wait_for_selector(landed)


@pytest.fixture
def sign_in():
    return _sign_in


@pytest.fixture
def desk(browser, live_server):
    """A desktop browser context; `open_as(user)` gives a page signed in on its landing screen
    (the desk tests of casework, intake, periodic review and webhooks share it)."""
    contexts = []

    def open_as(username):
        context = browser.new_context(viewport=DESK, base_url=live_server.url, locale="zh-CN",
                                      timezone_id="Asia/Shanghai", service_workers="block",
                                      accept_downloads=True)
        context.set_default_timeout(30_000)  # two xdist workers and Chromium on 2 cores
        contexts.append(context)
        page = context.new_page()
        page.js_errors = []
        page.csp = []
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
        page.on("console", lambda m: page.csp.append(m.text)
                if "Content Security Policy" in m.text else None)
        page.goto("/")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_selector("#pin-1, #main[data-ready=true]:not([data-view=login])",
                               state="attached")
        if page.locator("#pin-1").count():
            page.fill("#pin-1", "246810")
            page.fill("#pin-2", "246810")
            page.click("#pin-save")
        # Sign-in ends on the landing screen: a navigation made before that would be undone.
        page.wait_for_function("""() => location.hash === '#/cases'
            && document.querySelector('#main')?.dataset.ready === 'true'
            && document.querySelector('#main')?.dataset.view !== 'login'""")
        return page

    yield open_as
    for context in contexts:
        for page in context.pages:
            assert page.js_errors == [], page.js_errors
            assert page.csp == [], page.csp
        context.close()
