"""Sign-in, refresh, logout revocation and lockout."""

from backend.audit.models import AuditEvent
from tests.conftest import DEMO_PASSWORD


def test_login_returns_tokens_and_me(api):
    response = api.login("wenping_fw1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["access_token"] and body["refresh_token"]
    assert body["user"]["roles"] == ["field_worker"]
    me = api.client.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["jurisdiction"]["code"] == "530621100"


def test_password_is_stored_as_argon2(db_session, client):
    from backend.auth.service import find_by_username

    assert find_by_username("wenping_fw1").password_hash.startswith("$argon2id$")


def test_wrong_password_is_a_problem(api):
    response = api.login("wenping_fw1", "wrong-password")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == "login-failed"


def test_unknown_user_answers_like_a_wrong_password(api):
    response = api.login("nobody-here", "whatever-1")
    assert response.status_code == 401
    assert response.get_json()["type"] == "login-failed"


def test_refresh_gives_a_new_access_token(api):
    tokens = api.tokens("wenping_fw1")
    response = api.client.post("/api/auth/refresh",
                               headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert response.status_code == 200
    fresh = response.get_json()["access_token"]
    me = api.client.get("/api/me", headers={"Authorization": f"Bearer {fresh}"})
    assert me.status_code == 200


def test_access_token_cannot_refresh_and_refresh_token_cannot_read(api):
    tokens = api.tokens("wenping_fw1")
    refresh = api.client.post("/api/auth/refresh",
                              headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert refresh.status_code == 401
    read = api.client.get("/api/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert read.status_code == 401
    assert read.get_json()["type"] == "token-invalid"


def test_logout_revokes_access_and_refresh_tokens(api):
    tokens = api.tokens("wenping_fw1")
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert api.client.post("/api/auth/logout", headers=access).status_code == 204
    after = api.client.get("/api/me", headers=access)
    assert after.status_code == 401
    assert after.get_json()["type"] == "token-revoked"
    refresh = api.client.post("/api/auth/refresh",
                              headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert refresh.status_code == 401
    assert refresh.get_json()["type"] == "token-revoked"


def test_logout_of_one_session_keeps_the_other(api):
    first = api.login("wenping_fw1").get_json()
    second = api.login("wenping_fw1").get_json()
    api.client.post("/api/auth/logout",
                    headers={"Authorization": f"Bearer {first['access_token']}"})
    me = api.client.get("/api/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert me.status_code == 200


def test_repeated_failures_lock_the_account_and_are_audited(api, db_session):
    # LOGIN_MAX_FAILURES is 3 in the test app.
    for _ in range(3):
        assert api.login("wenping_fw2", "wrong-password").status_code == 401
    locked = api.login("wenping_fw2", DEMO_PASSWORD)
    assert locked.status_code == 423
    assert locked.get_json()["type"] == "account-locked"
    assert "Retry-After" in locked.headers
    actions = [e.action for e in db_session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions.count("auth.login_failed") >= 3
    assert "auth.account_locked" in actions


def test_a_success_resets_the_failure_count(api):
    api.login("wenping_fw3", "wrong-password")
    api.login("wenping_fw3", "wrong-password")
    assert api.login("wenping_fw3").status_code == 200
    api.login("wenping_fw3", "wrong-password")
    api.login("wenping_fw3", "wrong-password")
    assert api.login("wenping_fw3").status_code == 200


def test_no_token_is_a_problem(client):
    response = client.get("/api/cases")
    assert response.status_code == 401
    assert response.get_json()["type"] == "not-authenticated"


def test_garbage_token_is_a_problem(client):
    response = client.get("/api/cases", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401
    assert response.get_json()["type"] == "token-invalid"
