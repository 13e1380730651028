from __future__ import annotations

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import select

from backend import clock
from backend.audit import service as audit
from backend.auth import rules
from backend.auth.models import AuthSession, User, UserRole
from backend.auth.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.extensions import db
from backend.jurisdictions import service as jurisdictions


def caller_for(user: User) -> rules.Caller:
    return rules.Caller(user.id, frozenset(user.roles), user.jurisdiction_code)


def get_user(user_id: str) -> User | None:
    return db.session.get(User, user_id)


def find_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def create_user(username: str, password: str, roles: list[str], jurisdiction_code: str,
                display_name: str | None = None, phone: str | None = None) -> User:
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 64:
        errors["username"] = ["1-64 characters"]
    elif find_by_username(username):
        errors["username"] = ["already taken"]
    problem = rules.password_problem(password)
    if problem:
        errors["password"] = [problem]
    unknown = [r for r in roles if r not in rules.ROLES]
    if not roles or unknown:
        errors["roles"] = [f"choose from {', '.join(rules.ROLES)}"]
    if errors:
        raise ProblemError("validation-failed", "The user cannot be created.", errors)
    jurisdictions.require(jurisdiction_code)
    user = User(
        id=new_id(), username=username, display_name=display_name or username,
        password_hash=hash_password(password), jurisdiction_code=jurisdiction_code,
        phone=phone, is_active=True, failed_login_count=0, created_at=clock.now(),
        role_rows=[UserRole(role=r) for r in sorted(set(roles))],
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", "user", user.id, after={
        "username": username, "roles": sorted(set(roles)), "jurisdiction": jurisdiction_code},
        jurisdiction_code=jurisdiction_code)
    return user


def _tokens_for(user: User, session: AuthSession) -> dict:
    claims = {"sid": session.id, "roles": sorted(user.roles), "jur": user.jurisdiction_code}
    return {
        "access_token": create_access_token(identity=user.id, additional_claims=claims),
        "refresh_token": create_refresh_token(identity=user.id, additional_claims=claims),
        "token_type": "Bearer",
        "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
    }


def login(username: str, password: str, device_id: str | None) -> tuple[User, dict]:
    config = current_app.config
    now = clock.now()
    user = find_by_username(username)
    if user is None:
        verify_password(DUMMY_HASH, password)
        audit.record("auth.login_failed", "user", username[:64], after={"reason": "unknown user"})
        raise ProblemError("login-failed", "Check the username and password and try again.",
                           keep_changes=True)
    if rules.is_locked(user.locked_until, now):
        audit.record("auth.login_refused_locked", "user", user.id, actor_id=user.id)
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise ProblemError(
            "account-locked",
            f"Too many failed sign-ins. Try again in {minutes} minutes or ask your administrator.",
            extra={"retry_after_minutes": minutes}, keep_changes=True,
            headers={"Retry-After": str(minutes * 60)})
    if not verify_password(user.password_hash, password):
        decision = rules.after_failed_login(user.failed_login_count, now,
                                            config["LOGIN_MAX_FAILURES"],
                                            config["LOGIN_LOCK_MINUTES"])
        user.failed_login_count = decision.failed_login_count
        user.locked_until = decision.locked_until
        audit.record("auth.login_failed", "user", user.id, actor_id=user.id,
                     after={"reason": "wrong password", "locked": decision.just_locked})
        if decision.just_locked:
            audit.record("auth.account_locked", "user", user.id, actor_id=user.id,
                         after={"locked_until": decision.locked_until.isoformat()})
        raise ProblemError("login-failed", "Check the username and password and try again.",
                           keep_changes=True)
    if not user.is_active:
        raise ProblemError("account-disabled", "Ask your administrator to enable the account.")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_login_count = 0
    user.locked_until = None
    session = AuthSession(id=new_id(), user_id=user.id, device_id=device_id, created_at=now)
    db.session.add(session)
    audit.record("auth.login", "user", user.id, actor_id=user.id,
                 after={"session": session.id, "device": device_id})
    return user, _tokens_for(user, session)


def is_session_revoked(session_id: str | None) -> bool:
    if not session_id:
        return True
    session = db.session.get(AuthSession, session_id)
    return session is None or session.revoked_at is not None


def refresh(user_id: str, session_id: str) -> dict:
    user = get_user(user_id)
    if user is None or not user.is_active:
        raise ProblemError("token-revoked", "Sign in again.")
    session = db.session.get(AuthSession, session_id)
    session.refreshed_at = clock.now()
    claims = {"sid": session.id, "roles": sorted(user.roles), "jur": user.jurisdiction_code}
    return {
        "access_token": create_access_token(identity=user.id, additional_claims=claims),
        "token_type": "Bearer",
        "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
    }


def logout(user_id: str, session_id: str) -> None:
    session = db.session.get(AuthSession, session_id)
    if session is not None and session.revoked_at is None:
        session.revoked_at = clock.now()
        audit.record("auth.logout", "user", user_id, after={"session": session_id})

