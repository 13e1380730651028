"""The phone keeps working across access-token expiries: each refresh stores the new
(rotated) refresh token, so the next refresh does not replay a dead one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, _free_port
from tests.e2e.waits import wait_until

pytestmark = pytest.mark.e2e

ACCESS_SECONDS = 3

STORED_SESSION = """async () => {
  const store = await import('/static/js/store.js');
  return await store.get('session', 'current');
}"""

# The state waited for: the stored access token is past its expiry (`exp`, whole seconds).
ACCESS_EXPIRED = """async () => {
  const store = await import('/static/js/store.js');
  const token = (await store.get('session', 'current'))?.access_token;
  if (!token) return false;
  const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  return Date.now() >= (claims.exp + 1) * 1000;
}"""

CALL_ME = """async () => {
  const { api } = await import('/static/js/api.js');
  try { return (await api.get('/api/me')).username; } catch (error) { return error.type; }
}"""


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    from flask_migrate import upgrade

    from backend import create_app
    from backend.demo import seed
    from backend.extensions import db

    db_file = tmp_path_factory.mktemp("e2e-refresh") / "doorstep-e2e.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "TESTING": True,
                      "PASSWORD_HASH_PROFILE": "CHEAPEST",
                      "JWT_ACCESS_TOKEN_EXPIRES": timedelta(seconds=ACCESS_SECONDS)})
    with app.app_context():
        upgrade()
        seed(DEMO_PASSWORD)
        db.session.commit()
    server = LiveServer(app, _free_port())
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_signed_in_phone_refreshes_twice_and_stays_signed_in(page, sign_in):
    sign_in(page, "wenping_fw1")
    first = page.evaluate(STORED_SESSION)["refresh_token"]
    seen = [first]
    for _ in range(2):
        wait_until(page, ACCESS_EXPIRED)
        assert page.evaluate(CALL_ME) == "wenping_fw1"
        stored = page.evaluate(STORED_SESSION)
        assert stored["refresh_token"] not in seen  # the rotated token was kept
        assert not stored.get("needs_sign_in")
        seen.append(stored["refresh_token"])
    assert page.js_errors == []


def test_api_docs_load_under_the_csp_without_keeping_the_token(page):
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=20_000)
    assert page.evaluate("window.ui.getConfigs().persistAuthorization") is False
    assert page.evaluate("Object.keys(window.localStorage)") == []
    assert page.js_errors == []
