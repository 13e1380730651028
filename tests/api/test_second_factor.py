"""Two factors for those who decide (issue 22; 等保 2.0 level 3, 8.1.4.1; ADR 0023).

Approvers, county supervisors and administrators sign in with a TOTP code (RFC 6238) as
well as the password; a wrong code is a failed sign-in (throttled like a wrong password),
a code already used is refused, recovery codes work once, another administrator can reset
the factor (audited), and idle desk sign-ins end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from backend import clock
from backend.audit.models import AuditEvent
from tests.conftest import DEMO_PASSWORD

APPROVER = "wenping_approver"
# Mid-step, so a code "now" and one step later are both well inside their windows.
T0 = datetime(2026, 12, 7, 2, 0, 10, tzinfo=UTC)


@pytest.fixture
def frozen(app, monkeypatch):
    # The default grace (the suite at large gets a long one: its clocks jump years ahead).
    monkeypatch.setitem(app.config, "SECOND_FACTOR_GRACE_DAYS", 7)

    def at(moment: datetime) -> None:
        monkeypatch.setattr(clock, "_frozen_now", moment)

    at(T0)
    return at


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _code(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def _login(api, username=APPROVER, **second):
    return api.client.post("/api/auth/login", json={
        "username": username, "password": DEMO_PASSWORD, **second})


def _enrol(api, username=APPROVER, moment: datetime = T0) -> tuple[str, list[str]]:
    """Enrol from the account screen (within the grace); returns (secret, recovery codes)."""
    token = _login(api, username).get_json()["access_token"]
    started = api.client.post("/api/me/second-factor", headers=_bearer(token))
    assert started.status_code == 201, started.get_json()
    secret = started.get_json()["secret"]
    assert started.get_json()["qr_code"].startswith("data:image/svg+xml")
    assert f"secret={secret}" in started.get_json()["otpauth_uri"]
    confirmed = api.client.post("/api/me/second-factor/confirm", headers=_bearer(token),
                                json={"code": _code(secret, moment)})
    assert confirmed.status_code == 200, confirmed.get_json()
    return secret, confirmed.get_json()["recovery_codes"]


def _actions(db_session) -> list[AuditEvent]:
    return list(db_session.query(AuditEvent).order_by(AuditEvent.id))


def test_a_required_role_within_its_grace_signs_in_and_is_told_to_enrol(api, frozen):
    answer = _login(api).get_json()
    assert answer["access_token"]
    assert answer["second_factor"]["state"] == "enrol-due"
    assert answer["second_factor"]["due_at"].startswith("2026-12-14")
    assert answer["user"]["second_factor_due_at"] == answer["second_factor"]["due_at"]
    state = api.client.get("/api/me/second-factor", headers=_bearer(answer["access_token"]))
    assert state.get_json() == {"is_enrolled": False, "is_pending": False, "is_required": True,
                                "due_at": answer["second_factor"]["due_at"],
                                "recovery_codes_left": 0}


def test_roles_without_a_second_factor_sign_in_as_before(api, frozen):
    answer = _login(api, "wenping_fw1").get_json()
    assert answer["access_token"] and "second_factor" not in answer
    assert answer["user"]["idle_minutes"] is None  # phones work offline: no idle timeout
    assert answer["user"]["second_factor_due_at"] is None


def test_enrol_then_sign_in_with_a_code_and_a_replayed_code_is_refused(api, db_session, frozen):
    # Other tests' rows may share this database (xdist): only this test's count.
    before = max((e.id for e in _actions(db_session)), default=0)
    secret, recovery = _enrol(api)
    assert len(recovery) == 10 and len(set(recovery)) == 10
    asked = _login(api).get_json()
    assert asked == {"second_factor": {"state": "code"}}  # no token, no user before the code
    replayed = _login(api, totp_code=_code(secret, T0))  # the code that confirmed enrolment
    assert replayed.status_code == 401
    assert replayed.get_json()["type"] == "second-factor-replayed"
    later = T0 + timedelta(seconds=30)
    frozen(later)
    signed_in = _login(api, totp_code=_code(secret, later))
    assert signed_in.status_code == 200 and signed_in.get_json()["access_token"]
    assert signed_in.get_json()["user"]["idle_minutes"] == 30
    again = _login(api, totp_code=_code(secret, later))
    assert again.status_code == 401 and again.get_json()["type"] == "second-factor-replayed"
    # An older step, though within the drift window, is a replay too.
    older = _login(api, totp_code=_code(secret, T0))
    assert older.get_json()["type"] == "second-factor-replayed"
    logins = [e for e in _actions(db_session) if e.action == "auth.login"]
    assert logins[-1].after["second_factor"] == "totp"
    reasons = [e.after["reason"] for e in _actions(db_session)
               if e.id > before and e.action == "auth.login_failed"]
    assert reasons == ["replayed second factor"] * 3


def test_a_wrong_confirmation_code_does_not_enrol(api, db_session, frozen):
    # Other tests' rows may share this database (xdist): only this test's count.
    before = max((e.id for e in _actions(db_session)), default=0)
    token = _login(api).get_json()["access_token"]
    secret = api.client.post("/api/me/second-factor", headers=_bearer(token)).get_json()["secret"]
    wrong = api.client.post("/api/me/second-factor/confirm", headers=_bearer(token),
                            json={"code": _code(secret, T0 + timedelta(minutes=5))})
    assert wrong.status_code == 401 and wrong.get_json()["type"] == "second-factor-wrong"
    state = api.client.get("/api/me/second-factor", headers=_bearer(token)).get_json()
    assert state["is_enrolled"] is False and state["is_pending"] is True
    actions = [e.action for e in _actions(db_session)
               if e.id > before and e.action.startswith("user.second")]
    # The grace's start is recorded at the approver's first sign-in in this database, which
    # may have been an earlier test's: then only the enrolment's rows are this test's.
    assert actions in (["user.second_factor_due", "user.second_factor_started",
                        "user.second_factor_enrol_failed"],
                       ["user.second_factor_started", "user.second_factor_enrol_failed"])
    assert not any(secret in str(e.after) for e in _actions(db_session))


def test_wrong_codes_count_toward_the_sign_in_throttle(app, api, db_session, frozen):
    # Other tests' rows may share this database (xdist): only this test's count.
    before = max((e.id for e in _actions(db_session)), default=0)
    secret, _ = _enrol(api)
    frozen(T0 + timedelta(seconds=30))
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):  # 3 in the tests
        wrong = _login(api, totp_code="000000" if _code(secret, clock.now()) != "000000"
                       else "111111")
        assert wrong.status_code == 401 and wrong.get_json()["type"] == "second-factor-wrong"
    locked = _login(api, totp_code=_code(secret, clock.now()))
    assert locked.status_code == 429 and locked.get_json()["type"] == "too-many-sign-ins"
    failures = [e for e in _actions(db_session)
                if e.id > before and e.action == "auth.login_failed"]
    assert [e.after["reason"] for e in failures] == ["wrong second factor"] * 3
    assert failures[-1].after["account_failures"] == 3


def test_a_recovery_code_works_once(api, db_session, frozen):
    _, recovery = _enrol(api)
    first = _login(api, recovery_code=recovery[0].lower().replace("-", " "))
    assert first.status_code == 200 and first.get_json()["access_token"]
    again = _login(api, recovery_code=recovery[0])
    assert again.status_code == 401 and again.get_json()["type"] == "second-factor-wrong"
    token = first.get_json()["access_token"]
    state = api.client.get("/api/me/second-factor", headers=_bearer(token)).get_json()
    assert state["recovery_codes_left"] == 9
    used = [e for e in _actions(db_session) if e.action == "auth.recovery_code_used"]
    assert used[-1].after == {"left": 9}
    stored = db_session.execute(
        __import__("sqlalchemy").text("SELECT code_hash FROM user_recovery_code")).scalars().all()
    assert stored and all(h.startswith("$argon2") for h in stored)
    assert not any(code.replace("-", "").lower() in h for h in stored for code in recovery)


def test_after_the_grace_sign_in_enrols_first(api, db_session, frozen):
    assert _login(api).get_json()["second_factor"]["state"] == "enrol-due"
    late = T0 + timedelta(days=8)
    frozen(late)
    step = _login(api).get_json()
    assert "access_token" not in step and step["second_factor"]["state"] == "enrol"
    secret = step["second_factor"]["secret"]
    assert _login(api).get_json()["second_factor"]["secret"] == secret  # reload: same QR
    wrong = _login(api, totp_code=_code(secret, late + timedelta(minutes=3)))
    assert wrong.get_json()["type"] == "second-factor-wrong"
    done = _login(api, totp_code=_code(secret, late))
    assert done.status_code == 200 and done.get_json()["access_token"]
    assert len(done.get_json()["recovery_codes"]) == 10
    assert any(e.action == "user.second_factor_enrolled" for e in _actions(db_session))


def test_another_administrator_resets_a_second_factor_and_it_is_audited(api, db_session, frozen):
    secret, _ = _enrol(api)
    frozen(T0 + timedelta(seconds=30))
    approver = _login(api, totp_code=_code(secret, clock.now())).get_json()
    _, _ = _enrol(api, "county_admin", T0 + timedelta(seconds=30))
    frozen(T0 + timedelta(seconds=60))
    admin_token = _login(api, "county_admin", totp_code=_code_for(db_session, "county_admin",
                                                                   clock.now()))
    admin_token = admin_token.get_json()["access_token"]
    approver_id = approver["user"]["id"]
    reset = api.client.delete(f"/api/users/{approver_id}/second-factor",
                              headers=_bearer(admin_token))
    assert reset.status_code == 204
    # The approver's sign-ins end, and the next one enrols again at once.
    me = api.client.get("/api/me", headers=_bearer(approver["access_token"]))
    assert me.status_code == 401
    assert _login(api).get_json()["second_factor"]["state"] == "enrol"
    audited = [e for e in _actions(db_session) if e.action == "user.second_factor_reset"]
    assert len(audited) == 1 and audited[0].object_id == approver_id
    assert audited[0].actor_id == _user_id(db_session, "county_admin")
    assert audited[0].after == {"was_enrolled": True, "sessions_revoked": 2}  # enrolment + code


def test_a_second_factor_reset_is_refused_to_others(api, frozen):
    approver_id = _login(api).get_json()["user"]["id"]
    admin = _login(api, "county_admin").get_json()
    own = api.client.delete(f"/api/users/{admin['user']['id']}/second-factor",
                            headers=_bearer(admin["access_token"]))
    assert own.status_code == 403 and own.get_json()["type"] == "second-factor-reset-self"
    reviewer = _login(api, "wenping_reviewer").get_json()["access_token"]
    assert api.client.delete(f"/api/users/{approver_id}/second-factor",
                             headers=_bearer(reviewer)).get_json()["type"] == "forbidden"
    elsewhere = _login(api, "longtoushan_admin").get_json()["access_token"]
    assert api.client.delete(f"/api/users/{approver_id}/second-factor",
                             headers=_bearer(elsewhere)).status_code == 404


def test_an_idle_desk_sign_in_cannot_refresh_but_a_phone_can(app, api, db_session, frozen):
    desk = _login(api).get_json()
    phone = _login(api, "wenping_fw1").get_json()
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]) + app.config[
        "JWT_ACCESS_TOKEN_EXPIRES"]
    frozen(T0 + idle - timedelta(minutes=1))
    refreshed = api.client.post("/api/auth/refresh", headers=_bearer(desk["refresh_token"]))
    assert refreshed.status_code == 200  # busy enough: the clock restarts at each refresh
    frozen(T0 + 2 * idle)
    ended = api.client.post("/api/auth/refresh",
                            headers=_bearer(refreshed.get_json()["refresh_token"]))
    assert ended.status_code == 401 and ended.get_json()["type"] == "token-revoked"
    assert "auth.session_idle" in [e.action for e in _actions(db_session)]
    still = api.client.post("/api/auth/refresh", headers=_bearer(phone["refresh_token"]))
    assert still.status_code == 200


def test_a_user_sees_the_last_sign_in_and_the_failures_since(api, frozen):
    _login(api, "wenping_fw1")
    frozen(T0 + timedelta(hours=1))
    for _ in range(2):
        api.client.post("/api/auth/login", json={"username": "wenping_fw1",
                                                 "password": "not-the-password"})
    frozen(T0 + timedelta(hours=2))
    token = _login(api, "wenping_fw1").get_json()["access_token"]
    history = api.client.get("/api/me/sign-ins", headers=_bearer(token)).get_json()
    assert history["previous_sign_in"]["at"].startswith("2026-12-07T02:00:10")
    assert history["failures_since"] == 2
    assert [f["at"][:13] for f in history["failures"]] == ["2026-12-07T03"] * 2


def test_a_field_worker_may_enrol_and_is_then_asked_for_a_code(api, frozen):
    secret, _ = _enrol(api, "wenping_fw1")
    assert _login(api, "wenping_fw1").get_json() == {"second_factor": {"state": "code"}}
    frozen(T0 + timedelta(seconds=30))
    assert _login(api, "wenping_fw1", totp_code=_code(secret, clock.now())).status_code == 200


def _user_id(db_session, username: str) -> str:
    from backend.auth.models import User

    return db_session.query(User).filter_by(username=username).one().id


def _code_for(db_session, username: str, moment: datetime) -> str:
    from backend.auth.models import SecondFactor

    row = db_session.get(SecondFactor, _user_id(db_session, username))
    return _code(row.secret, moment)
