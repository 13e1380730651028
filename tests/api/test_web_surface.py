"""Security headers on every answer, no caching of personal data, ProxyFix as a setting,
and client-supplied ids validated before they reach the audit trail."""

from __future__ import annotations

import re

from backend.audit.models import AuditEvent
from tests.api.test_photos import put_photo
from tests.api.test_sync import assigned_case, push
from tests.visit_factory import submission


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";")) if part}


def test_every_page_and_answer_has_a_strict_csp(client):
    for path in ("/", "/api/docs", "/sw.js", "/manifest.webmanifest", "/healthz", "/api/me",
                 "/static/js/app.js", "/no-such-page"):
        response = client.get(path)
        response.close()
        csp = _csp(response)
        assert csp["default-src"] == "default-src 'self'", path
        assert csp["script-src"] == "script-src 'self'", path
        assert csp["frame-ancestors"] == "frame-ancestors 'none'", path
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path


def test_pages_hold_no_inline_script(client):
    for path in ("/", "/api/docs"):
        html = client.get(path).get_data(as_text=True)
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
        assert scripts, path
        for attributes, body in scripts:
            assert 'src="' in attributes and not body.strip(), (path, attributes, body)
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handlers


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://doorstep.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_api_answers_and_errors_are_not_cached(api):
    assert api.get("wenping_fw1", "/api/me").headers["Cache-Control"] == "no-store"
    assert api.client.get("/api/cases").headers["Cache-Control"] == "no-store"  # 401


def test_photos_are_not_kept_in_the_http_cache(api):
    sha, _ = put_photo(api, "visit_gps.jpg")
    push(api, [submission(assigned_case(api), photos=[{"sha256": sha, "field": "house_photo"}])])
    for path in (f"/api/photos/{sha}", f"/api/photos/{sha}/thumbnail"):
        response = api.get("wenping_reviewer", path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def _last_failed_login(db_session) -> AuditEvent:
    db_session.expire_all()
    return db_session.query(AuditEvent).filter_by(action="auth.login_failed").order_by(
        AuditEvent.id.desc()).first()


def test_forwarded_headers_are_ignored_by_default(client, db_session):
    client.post("/api/auth/login", json={"username": "nobody-x", "password": "guess-guess-1"},
                headers={"X-Forwarded-For": "203.0.113.5"})
    event = _last_failed_login(db_session)
    assert event.ip == "127.0.0.1"


def test_proxy_fix_trusts_the_configured_number_of_proxies(app, db_session):
    from backend import create_app

    proxied = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                          "TESTING": True, "PROXY_FIX_HOPS": 1})
    client = proxied.test_client()
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    environ = {}

    def capture(env, start_response):
        environ.update(env)
        start_response("204 No Content", [])
        return [b""]

    proxied.wsgi_app.app = capture  # the ProxyFix wrapper around the app
    proxied.test_client().get("/", headers={"X-Forwarded-For": "10.0.0.1, 203.0.113.5"})
    assert environ["REMOTE_ADDR"] == "203.0.113.5"


def test_a_valid_request_id_is_kept_and_a_bad_one_replaced(client, db_session):
    good = client.post("/api/auth/login", json={"username": "nobody-y", "password": "x"},
                       headers={"X-Request-Id": "phone-42.req:7"})
    assert good.headers["X-Request-Id"] == "phone-42.req:7"
    assert _last_failed_login(db_session).request_id == "phone-42.req:7"
    for bad in ("<script>alert(1)</script>", "a" * 65, "id with spaces", "ü-umlaut"):
        response = client.post("/api/auth/login",
                               json={"username": "nobody-y", "password": "x"},
                               headers={"X-Request-Id": bad.encode("utf-8").decode("latin-1")})
        assert response.headers["X-Request-Id"] != bad
        stored = _last_failed_login(db_session).request_id
        assert stored != bad and re.fullmatch(r"[0-9a-f-]{36}", stored)


def test_a_bad_device_id_header_is_never_stored(client, db_session):
    client.post("/api/auth/login", json={"username": "nobody-z", "password": "x"},
                headers={"X-Device-Id": "phone-7f3a9c21"})
    assert _last_failed_login(db_session).device_id == "phone-7f3a9c21"
    for bad in ("<img src=x onerror=alert(1)>", "x" * 200, "short"):
        client.post("/api/auth/login", json={"username": "nobody-z", "password": "x"},
                    headers={"X-Device-Id": bad})
        assert _last_failed_login(db_session).device_id is None
