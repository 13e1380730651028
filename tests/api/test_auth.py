"""Sign-in, refresh, logout revocation and lockout."""

import re

from flask import current_app
from flask_jwt_extended import decode_token
from sqlalchemy import update

from backend import clock
from backend.audit.models import AuditEvent
from backend.auth.models import AuthSession
from tests.api.query_plans import Statements
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


def test_repeated_failures_lock_this_client_out_and_are_audited(api, db_session):
    # LOGIN_MAX_FAILURES is 3 in the test app.
    for _ in range(3):
        assert api.login("wenping_fw2", "wrong-password").status_code == 401
    locked = api.login("wenping_fw2", DEMO_PASSWORD)
    assert locked.status_code == 429
    assert locked.mimetype == "application/problem+json"
    assert locked.get_json()["type"] == "too-many-sign-ins"
    assert int(locked.headers["Retry-After"]) > 0
    actions = [e.action for e in db_session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions.count("auth.login_failed") >= 3
    assert "auth.login_throttled" in actions


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


def _refresh(api, refresh_token):
    return api.client.post("/api/auth/refresh",
                           headers={"Authorization": f"Bearer {refresh_token}"})


def test_refresh_rotates_the_refresh_token(api):
    first = api.tokens("wenping_fw1")["refresh_token"]
    response = _refresh(api, first)
    assert response.status_code == 200
    second = response.get_json()["refresh_token"]
    assert second and second != first
    third = _refresh(api, second)
    assert third.status_code == 200, third.get_json()


def test_a_used_refresh_token_dies_and_its_reuse_ends_the_session(app, api, db_session,
                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "REFRESH_REUSE_GRACE_SECONDS", 0)  # the grace is over
    tokens = api.tokens("wenping_fw1")
    rotated = _refresh(api, tokens["refresh_token"]).get_json()
    reused = _refresh(api, tokens["refresh_token"])
    assert reused.status_code == 401
    assert reused.get_json()["type"] == "token-revoked"
    # The thief's reuse ended the session for the holder of the newest tokens as well.
    assert _refresh(api, rotated["refresh_token"]).status_code == 401
    me = api.client.get("/api/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert me.status_code == 401
    assert me.get_json()["type"] == "token-revoked"
    actions = [e.action for e in db_session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "auth.refresh_token_reused" in actions


def test_reuse_of_a_refresh_token_leaves_other_sessions_alone(app, api, monkeypatch):
    monkeypatch.setitem(app.config, "REFRESH_REUSE_GRACE_SECONDS", 0)
    phone = api.login("wenping_fw1").get_json()
    laptop = api.login("wenping_fw1").get_json()
    _refresh(api, phone["refresh_token"])
    assert _refresh(api, phone["refresh_token"]).status_code == 401
    assert _refresh(api, laptop["refresh_token"]).status_code == 200


def test_two_tabs_refreshing_at_once_both_get_the_same_new_pair(api, db_session):
    """Issue 20: two tabs sharing one sign-in refreshed with the same token; the second
    counted as reuse and ended the session. Within a short grace window the just-rotated
    token answers with the same new pair."""
    tokens = api.tokens("wenping_fw1")
    answers = [_refresh(api, tokens["refresh_token"]) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    pairs = {(a.get_json()["access_token"], a.get_json()["refresh_token"]) for a in answers}
    assert len(pairs) == 1
    access, refresh = pairs.pop()
    assert refresh != tokens["refresh_token"]
    me = api.client.get("/api/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200
    assert _refresh(api, refresh).status_code == 200  # the new token rotates as usual
    actions = [e.action for e in db_session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "auth.refresh_token_reused" not in actions


def test_a_token_older_than_the_last_rotation_is_reuse_even_within_the_grace(api):
    first = api.tokens("wenping_fw1")["refresh_token"]
    second = _refresh(api, first).get_json()["refresh_token"]
    assert _refresh(api, second).status_code == 200
    reused = _refresh(api, first)  # two rotations ago: a copy, not a second tab
    assert reused.status_code == 401 and reused.get_json()["type"] == "token-revoked"


def test_a_session_ends_after_its_absolute_lifetime(app, api, db_session, monkeypatch):
    """Issue 20: each refresh gave a new 7-day token, so a stolen refresh token lived as long
    as it was used. A session now ends SESSION_MAX_AGE after sign-in, whatever refreshes."""
    from datetime import timedelta

    import jwt

    from backend import clock

    monkeypatch.setitem(app.config, "SESSION_MAX_AGE", timedelta(days=2))
    tokens = api.login("wenping_fw1").get_json()
    signed_in_at = clock.now()
    claims = jwt.decode(tokens["refresh_token"], options={"verify_signature": False})
    assert claims["exp"] <= (signed_in_at + timedelta(days=2)).timestamp() + 1
    refreshed = _refresh(api, tokens["refresh_token"])
    assert refreshed.status_code == 200
    monkeypatch.setattr(clock, "_frozen_now", signed_in_at + timedelta(days=2, minutes=1))
    ended = _refresh(api, refreshed.get_json()["refresh_token"])
    assert ended.status_code == 401 and ended.get_json()["type"] == "token-revoked"
    actions = [e.action for e in db_session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "auth.session_expired" in actions


def _change(api, username, current, new, token=None):
    headers = {"Authorization": f"Bearer {token or api.tokens(username)['access_token']}"}
    return api.client.post("/api/me/password", headers=headers,
                           json={"current_password": current, "new_password": new})


def test_change_password_needs_the_current_one_and_ends_every_session(api, db_session):
    other = api.login("wenping_fw1").get_json()
    wrong = _change(api, "wenping_fw1", "not-my-password", "a-new-pass-2027")
    assert wrong.status_code == 403
    assert wrong.get_json()["type"] == "current-password-wrong"
    changed = _change(api, "wenping_fw1", DEMO_PASSWORD, "a-new-pass-2027")
    assert changed.status_code == 204
    for tokens in (other, api.tokens("wenping_fw1")):
        me = api.client.get("/api/me",
                            headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 401
        assert _refresh(api, tokens["refresh_token"]).status_code == 401
    assert api.login("wenping_fw1").status_code == 401
    assert api.login("wenping_fw1", "a-new-pass-2027").status_code == 200
    actions = [e.action for e in db_session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "user.password_changed" in actions
    assert "user.password_change_failed" in actions


def test_new_passwords_follow_the_policy(api):
    for weak in ("short-1", "wenping_fw1-secret", "aaaaaaaaaaaa"):
        response = _change(api, "wenping_fw1", DEMO_PASSWORD, weak)
        assert response.status_code == 422, weak
        assert response.get_json()["errors"]["new_password"]
    assert _change(api, "wenping_fw1", DEMO_PASSWORD, DEMO_PASSWORD).status_code == 422


def _reset(api, admin, user_id, new="reset-pass-2027"):
    return api.post(admin, f"/api/users/{user_id}/password", json={"new_password": new})


def test_admin_resets_a_password_in_their_jurisdiction_and_ends_its_sessions(api, db_session):
    victim = api.tokens("wenping_fw2")
    admin = _admin_of("530621100", db_session)
    response = _reset(api, admin, victim["user"]["id"])
    assert response.status_code == 204
    me = api.client.get("/api/me", headers={"Authorization": f"Bearer {victim['access_token']}"})
    assert me.status_code == 401
    assert api.login("wenping_fw2", "reset-pass-2027").status_code == 200
    event = db_session.query(AuditEvent).filter_by(
        action="user.password_reset", object_id=victim["user"]["id"]).one()
    assert event.actor_id == api.user_id(admin)
    assert event.object_id == victim["user"]["id"]


def test_admin_of_another_township_cannot_reset(api, db_session):
    target = api.user_id("wenping_fw2")
    # An admin whose area does not cover 530621100 (the county admin does: not an outsider).
    outsider = next(name for name in _admins(db_session)
                    if not "530621100".startswith(_jurisdiction_of(name, db_session)))
    response = _reset(api, outsider, target)
    assert response.status_code == 404
    assert response.get_json()["type"] == "user-not-found"
    assert api.login("wenping_fw2").status_code == 200


def test_only_admins_reset_passwords(api):
    response = _reset(api, "wenping_fw1", api.user_id("wenping_fw2"))
    assert response.status_code == 403
    assert response.get_json()["type"] == "forbidden"


def _admins(db_session) -> list[str]:
    from backend.auth.models import User, UserRole

    return [u.username for u in db_session.query(User).join(UserRole)
            .filter(UserRole.role == "admin").order_by(User.username)]


def _jurisdiction_of(username, db_session) -> str:
    from backend.auth.service import find_by_username

    return find_by_username(username).jurisdiction_code


def _admin_of(code, db_session) -> str:
    return next(name for name in _admins(db_session)
                if code.startswith(_jurisdiction_of(name, db_session)))


def test_an_attacker_elsewhere_failing_100_times_does_not_stop_the_real_user(app, api):
    attacker = app.test_client()
    for _ in range(100):
        response = attacker.post("/api/auth/login",
                                 json={"username": "wenping_fw1", "password": "guess-guess-1"},
                                 environ_base={"REMOTE_ADDR": "203.0.113.66"})
        assert response.status_code in (401, 429)
    assert response.status_code == 429  # the attacker is throttled...
    # ...and the field worker at the township office signs in at once.
    real = api.client.post("/api/auth/login",
                           json={"username": "wenping_fw1", "password": DEMO_PASSWORD},
                           environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert real.status_code == 200, real.get_json()


def test_failures_spread_over_many_addresses_slow_new_devices_not_known_ones(app, api):
    known = api.login("wenping_fw1", device_id="phone-of-wenping-fw1").get_json()
    assert known["access_token"]
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "5 per hour"
    try:
        for n in range(6):
            app.test_client().post(
                "/api/auth/login", json={"username": "wenping_fw1", "password": "guess-guess-1"},
                environ_base={"REMOTE_ADDR": f"203.0.113.{n + 1}"})
        new_device = api.client.post("/api/auth/login", json={
            "username": "wenping_fw1", "password": DEMO_PASSWORD, "device_id": "new-phone-123"},
            environ_base={"REMOTE_ADDR": "198.51.100.7"})
        assert new_device.status_code == 429
        assert new_device.get_json()["type"] == "too-many-sign-ins"
        assert int(new_device.headers["Retry-After"]) > 0
        same_phone = api.login("wenping_fw1", device_id="phone-of-wenping-fw1")
        assert same_phone.status_code == 200, same_phone.get_json()
    finally:
        app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "50 per hour"


def test_one_client_spraying_many_accounts_is_throttled(app, api):
    app.config["LOGIN_LIMIT_PER_CLIENT"] = "4 per 10 minutes"
    try:
        statuses = [api.login(name, "guess-guess-1").status_code for name in (
            "wenping_fw1", "wenping_fw2", "wenping_fw3", "nobody-1", "nobody-2", "nobody-3")]
        assert statuses[:4] == [401] * 4
        assert statuses[4:] == [429, 429]
    finally:
        app.config["LOGIN_LIMIT_PER_CLIENT"] = "30 per 10 minutes"


def test_unknown_usernames_are_audited_hashed_never_as_typed(api, db_session):
    typed = "Zhang-Secret-Pass-99"
    api.login(typed, "whatever-1")
    event = db_session.query(AuditEvent).filter_by(action="auth.login_failed").order_by(
        AuditEvent.id.desc()).first()
    assert event.object_type == "login_name"
    assert typed not in str([event.object_id, event.before, event.after])
    assert len(event.object_id) == 64
    again = api.login(typed.lower(), "whatever-1")
    assert again.status_code == 401
    latest = db_session.query(AuditEvent).filter_by(action="auth.login_failed").order_by(
        AuditEvent.id.desc()).first()
    assert latest.object_id == event.object_id  # the same name can still be matched


def test_an_invalid_device_id_at_sign_in_is_refused(api):
    response = api.login("wenping_fw1", device_id="<script>alert(1)</script>")
    assert response.status_code == 422
    assert "device_id" in response.get_json()["errors"]


def test_a_sign_in_ended_in_another_worker_stops_at_this_workers_next_poll(
        api, db_session, monkeypatch):
    """Another worker process ends the sign-in (its memory notes it, this one's does not):
    this worker learns it from the database within REVOCATION_POLL_SECONDS."""
    from backend.auth import revocations

    tokens = api.tokens("wenping_fw1")
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert api.client.get("/api/cases", headers=access).status_code == 200
    db_session.execute(update(AuthSession).where(
        AuthSession.id == decode_token(tokens["access_token"])["sid"],
    ).values(revoked_at=clock.now(), revoked_reason="logout"))
    later = revocations.monotonic() + current_app.config["REVOCATION_POLL_SECONDS"] + 0.1
    monkeypatch.setattr(revocations, "monotonic", lambda: later)
    after = api.client.get("/api/cases", headers=access)
    assert after.status_code == 401 and after.get_json()["type"] == "token-revoked"
    refresh = api.client.post("/api/auth/refresh",
                              headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert refresh.status_code == 401 and refresh.get_json()["type"] == "token-revoked"


def test_a_signed_in_request_reads_neither_its_session_nor_its_users_roles(api):
    """Issue 23: the caller comes from the access token's claims; the session is asked
    about once a poll per worker, not once a request."""
    headers = api.headers("wenping_fw1")
    assert api.client.get("/api/cases", headers=headers).status_code == 200  # polls here
    with Statements() as read:
        answer = api.client.get("/api/cases", headers=headers)
    assert answer.status_code == 200
    assert [text for text in read.texts
            if re.search(r"\bFROM (auth_session|user_role)\b", text)] == []


def test_every_way_a_sign_in_ends_counts_in_this_worker_at_once(api):
    """Password change ends every sign-in of the user; none waits for a poll."""
    first = api.login("wenping_fw2").get_json()
    second = api.login("wenping_fw2").get_json()
    other = {"Authorization": f"Bearer {second['access_token']}"}
    assert api.client.get("/api/cases", headers=other).status_code == 200
    changed = api.client.post(
        "/api/me/password", headers={"Authorization": f"Bearer {first['access_token']}"},
        json={"current_password": DEMO_PASSWORD, "new_password": "a-new-pass-2026-x"})
    assert changed.status_code == 204, changed.get_json()
    after = api.client.get("/api/cases", headers=other)
    assert after.status_code == 401 and after.get_json()["type"] == "token-revoked"
