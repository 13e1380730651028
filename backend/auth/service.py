from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from backend import clock
from backend.audit import service as audit
from backend.audit.context import current_actor
from backend.auth import rules
from backend.auth.models import AuthSession, LoginThrottle, User, UserRole
from backend.auth.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from backend.bulk import chunks
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.extensions import db


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str


PlaceLookup = Callable[[str], "Place | None"]
_places: list[PlaceLookup] = []


def use_places(lookup: PlaceLookup) -> None:
    """Register (at app start) how to look up a jurisdiction by code. Jurisdictions build on
    auth (their routes need the caller), so auth asks through this hook, not their service."""
    _places[:] = [lookup]


def place_of(code: str) -> Place | None:
    if not _places:
        raise RuntimeError("no jurisdiction lookup registered (create_app registers it)")
    return _places[0](code)


def caller_for(user: User) -> rules.Caller:
    return rules.Caller(user.id, frozenset(user.roles), user.jurisdiction_code)


def get_user(user_id: str) -> User | None:
    return db.session.get(User, user_id)


def display_names(user_ids: Iterable[str]) -> dict[str, str]:
    """Display names of many users in a few queries."""
    names: dict[str, str] = {}
    for chunk in chunks(user_ids):
        names.update(db.session.execute(
            select(User.id, User.display_name).where(User.id.in_(chunk))).all())
    return names


@dataclass(frozen=True)
class StaffCard:
    """Who a user is, for screens that name people (an attestation's signer, a reviewer)."""

    id: str
    display_name: str
    roles: tuple[str, ...]


def staff_cards(user_ids: Iterable[str]) -> dict[str, StaffCard]:
    """Names and roles of many users in a few queries."""
    roles_of: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for chunk in chunks(user_ids):
        names.update(db.session.execute(
            select(User.id, User.display_name).where(User.id.in_(chunk))).all())
        for user_id, role in db.session.execute(select(UserRole.user_id, UserRole.role).where(
                UserRole.user_id.in_(chunk))):
            roles_of.setdefault(user_id, []).append(role)
    return {uid: StaffCard(uid, name, tuple(sorted(roles_of.get(uid, ()))))
            for uid, name in names.items()}


def find_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def create_user(username: str, password: str, roles: list[str], jurisdiction_code: str,
                display_name: str | None = None, phone: str | None = None) -> User:
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 64:
        errors["username"] = ["1-64 characters"]
    elif find_by_username(username):
        errors["username"] = ["already taken"]
    problem = rules.password_problem(password, username)
    if problem:
        errors["password"] = [problem]
    unknown = [r for r in roles if r not in rules.ROLES]
    if not roles or unknown:
        errors["roles"] = [f"choose from {', '.join(rules.ROLES)}"]
    if errors:
        raise ProblemError("validation-failed", "The user cannot be created.", errors)
    if place_of(jurisdiction_code) is None:
        raise ProblemError("jurisdiction-not-found",
                           f"No jurisdiction with code {jurisdiction_code}.")
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
    """A fresh access token and a fresh refresh token; only the new refresh token is valid."""
    session.refresh_token_id = new_id()
    claims = {"sid": session.id, "roles": sorted(user.roles), "jur": user.jurisdiction_code}
    return {
        "access_token": create_access_token(identity=user.id, additional_claims=claims),
        "refresh_token": create_refresh_token(
            identity=user.id, additional_claims={**claims, "rti": session.refresh_token_id}),
        "token_type": "Bearer",
        "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
    }


def login_name_key(username: str) -> str:
    """A username as the audit trail and the rate limiter may keep it: keyed, not readable.

    Failed sign-ins often carry a password typed into the username field; storing the
    HMAC instead still lets an auditor match repeated attempts on the same name.
    """
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, username.strip().casefold().encode(), hashlib.sha256).hexdigest()


def _client_key() -> str:
    return (current_actor().ip or "unknown")[:64]


def _throttled(retry_at, now, user: User, client: str) -> ProblemError:
    seconds = max(1, int((retry_at - now).total_seconds()) + 1)
    minutes = (seconds + 59) // 60
    audit.record("auth.login_throttled", "user", user.id, actor_id=user.id,
                 after={"client": client, "retry_after_seconds": seconds})
    return ProblemError(
        "too-many-sign-ins",
        f"Too many failed sign-ins from this device. Try again in {minutes} minutes "
        "or ask your administrator.",
        extra={"retry_after_seconds": seconds}, keep_changes=True,
        headers={"Retry-After": str(seconds)})


def _count_failure(user: User, client: str, now) -> tuple[int, datetime | None]:
    """Count one failed sign-in atomically, for the (account, client) pair and the account.

    Both counters are single SQL statements (an upsert and an UPDATE ... RETURNING), so
    parallel guesses cannot lose updates the way a read-modify-write in Python does.
    """
    config = current_app.config
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    upsert = insert(LoginThrottle).values(
        user_id=user.id, client_key=client, failed_count=1, last_failed_at=now)
    pair_count = db.session.execute(upsert.on_conflict_do_update(
        index_elements=[LoginThrottle.user_id, LoginThrottle.client_key],
        set_={"failed_count": LoginThrottle.failed_count + 1, "last_failed_at": now},
    ).returning(LoginThrottle.failed_count)).scalar_one()
    locked_until = rules.pair_lock_until(pair_count, now, config["LOGIN_MAX_FAILURES"],
                                         config["LOGIN_LOCK_MINUTES"])
    if locked_until is not None:
        db.session.execute(update(LoginThrottle).where(
            LoginThrottle.user_id == user.id, LoginThrottle.client_key == client,
        ).values(locked_until=locked_until).execution_options(synchronize_session=False))
    account_count = db.session.execute(update(User).where(User.id == user.id).values(
        failed_login_count=User.failed_login_count + 1).returning(User.failed_login_count)
        .execution_options(synchronize_session=False)).scalar_one()
    return account_count, locked_until


def _end_read_before_hashing() -> None:
    """Close the read-only transaction before the slow password hash.

    Argon2 takes a noticeable fraction of a second; on SQLite the transaction holds the
    database's write lock (BEGIN IMMEDIATE), so a township signing in at 8 am would queue
    past the busy timeout. Nothing has been written yet, so there is nothing to lose.
    """
    db.session.rollback()


def login(username: str, password: str, device_id: str | None) -> tuple[User, dict]:
    now = clock.now()
    client = _client_key()
    user = find_by_username(username)
    if user is None:
        _end_read_before_hashing()
        verify_password(DUMMY_HASH, password)
        audit.record("auth.login_failed", "login_name", login_name_key(username),
                     after={"reason": "unknown user", "client": client})
        raise ProblemError("login-failed", "Check the username and password and try again.",
                           keep_changes=True)
    throttle = db.session.get(LoginThrottle, (user.id, client))
    if throttle is not None and rules.is_locked(throttle.locked_until, now):
        raise _throttled(throttle.locked_until, now, user, client)
    user_id, password_hash = user.id, user.password_hash
    _end_read_before_hashing()
    is_right = verify_password(password_hash, password)
    user = get_user(user_id)
    if user is None:  # removed while the password was being checked
        raise ProblemError("login-failed", "Check the username and password and try again.",
                           keep_changes=True)
    if not is_right:
        account_count, locked_until = _count_failure(user, client, now)
        audit.record("auth.login_failed", "user", user.id, actor_id=user.id,
                     after={"reason": "wrong password", "client": client,
                            "account_failures": account_count,
                            "client_locked_until": locked_until.isoformat()
                            if locked_until else None})
        raise ProblemError("login-failed", "Check the username and password and try again.",
                           keep_changes=True)
    if not user.is_active:
        raise ProblemError("account-disabled", "Ask your administrator to enable the account.")
    if needs_rehash(password_hash):
        user.password_hash = hash_password(password)
    _forget_failures(user.id, client)
    session = AuthSession(id=new_id(), user_id=user.id, device_id=device_id, created_at=now)
    db.session.add(session)
    tokens = _tokens_for(user, session)
    audit.record("auth.login", "user", user.id, actor_id=user.id,
                 after={"session": session.id, "device": device_id})
    return user, tokens


def _forget_failures(user_id: str, client: str | None) -> None:
    """A success clears this client's failures; other clients' locks stay."""
    db.session.execute(update(User).where(User.id == user_id, User.failed_login_count != 0)
                       .values(failed_login_count=0)
                       .execution_options(synchronize_session=False))
    query = delete(LoginThrottle).where(LoginThrottle.user_id == user_id)
    if client is not None:
        query = query.where(LoginThrottle.client_key == client)
    db.session.execute(query.execution_options(synchronize_session=False))


def is_known_device(user_id: str, device_id: str | None) -> bool:
    """Has this user signed in on this device before? (It may pass an account-wide limit.)"""
    if not device_id:
        return False
    return db.session.scalar(select(AuthSession.id).where(
        AuthSession.user_id == user_id, AuthSession.device_id == device_id).limit(1)) is not None


def user_of_live_session(session_id: str | None) -> User | None:
    """The user of a session that is not revoked, with their roles; None when the session
    is unknown or revoked.

    Every signed-in request asks this first: one query for the session, its user and the
    roles, so the caller need not ask twice more (web.hooks keeps the user for the guard).
    """
    if not session_id:
        return None
    found = db.session.execute(
        select(AuthSession, User).join(User, User.id == AuthSession.user_id)
        .where(AuthSession.id == session_id).options(joinedload(User.role_rows))
    ).unique().first()
    if found is None or found[0].revoked_at is not None:
        return None
    return found[1]


def refresh(user_id: str, session_id: str, refresh_token_id: str | None = None) -> dict:
    """Rotate: the presented refresh token dies, a new pair is returned.

    The swap is one conditional UPDATE, so of two requests presenting the same refresh
    token only one wins. A token that was already rotated away means someone holds a
    copy: the whole session is revoked and the reuse audited.
    """
    user = get_user(user_id)
    if user is None or not user.is_active:
        raise ProblemError("token-revoked", "Sign in again.")
    now = clock.now()
    next_id = new_id()
    rotated = db.session.execute(update(AuthSession).where(
        AuthSession.id == session_id, AuthSession.revoked_at.is_(None),
        AuthSession.refresh_token_id.is_(None) if refresh_token_id is None
        else AuthSession.refresh_token_id == refresh_token_id,
    ).values(refresh_token_id=next_id, refreshed_at=now)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if rotated != 1:
        revoked = db.session.execute(update(AuthSession).where(
            AuthSession.id == session_id, AuthSession.revoked_at.is_(None),
        ).values(revoked_at=now, revoked_reason="refresh-token-reused")
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if revoked:
            audit.record("auth.refresh_token_reused", "user", user_id, actor_id=user_id,
                         after={"session": session_id, "session_revoked": True})
        raise ProblemError("token-revoked", "This sign-in was ended; sign in again.",
                           keep_changes=True)
    session = db.session.get(AuthSession, session_id, populate_existing=True)
    assert session is not None  # the conditional update above just matched it
    tokens = _tokens_for(user, session)
    audit.record("auth.refresh", "user", user_id, actor_id=user_id,
                 after={"session": session_id})
    return tokens


def logout(user_id: str, session_id: str) -> None:
    session = db.session.get(AuthSession, session_id)
    if session is not None and session.revoked_at is None:
        session.revoked_at = clock.now()
        session.revoked_reason = "logout"
        audit.record("auth.logout", "user", user_id, after={"session": session_id})


def revoke_all_sessions(user_id: str, reason: str) -> int:
    """End every sign-in of a user, on every device; returns how many were open."""
    return db.session.execute(update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None),
    ).values(revoked_at=clock.now(), revoked_reason=reason)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]


def _new_password_hash(user: User, new_password: str) -> str:
    problem = rules.password_problem(new_password, user.username)
    if problem:
        raise ProblemError("validation-failed", "Choose another password.",
                           {"new_password": [problem]})
    return hash_password(new_password)


def change_password(user_id: str, current_password: str, new_password: str) -> None:
    """A user changes their own password; every session of theirs ends (this one too)."""
    user = get_user(user_id)
    if user is None or not user.is_active:
        raise ProblemError("token-revoked", "Sign in again.")
    now = clock.now()
    client = _client_key()
    throttle = db.session.get(LoginThrottle, (user.id, client))
    if throttle is not None and rules.is_locked(throttle.locked_until, now):
        raise _throttled(throttle.locked_until, now, user, client)
    if not verify_password(user.password_hash, current_password):
        # A stolen access token must not become a way to guess the password.
        _count_failure(user, client, now)
        audit.record("user.password_change_failed", "user", user.id,
                     jurisdiction_code=user.jurisdiction_code, after={"client": client})
        raise ProblemError("current-password-wrong",
                           "The current password is not right.", keep_changes=True)
    if verify_password(user.password_hash, new_password):
        raise ProblemError("validation-failed", "Choose another password.",
                           {"new_password": ["must differ from the current password"]})
    user.password_hash = _new_password_hash(user, new_password)
    ended = revoke_all_sessions(user.id, "password-changed")
    _forget_failures(user.id, None)
    audit.record("user.password_changed", "user", user.id,
                 jurisdiction_code=user.jurisdiction_code, after={"sessions_revoked": ended})


def reset_password(caller: rules.Caller | None, user_id: str, new_password: str) -> User:
    """An administrator sets a new password for a user of their jurisdiction.

    `caller` None is the server's own CLI (whoever can run it owns the database anyway).
    Every session of the user ends, and the account's failed sign-ins are forgotten.
    """
    user = get_user(user_id)
    if caller is not None:
        if not caller.has(rules.ADMIN):
            raise ProblemError("forbidden", "Only an administrator may reset passwords.")
        if user is None or not caller.covers(user.jurisdiction_code):
            raise ProblemError("user-not-found", "No such user in your jurisdiction.")
    elif user is None:
        raise ProblemError("user-not-found")
    user.password_hash = _new_password_hash(user, new_password)
    ended = revoke_all_sessions(user.id, "password-reset")
    _forget_failures(user.id, None)
    audit.record("user.password_reset", "user", user.id,
                 jurisdiction_code=user.jurisdiction_code,
                 actor_id=caller.user_id if caller else None,
                 after={"sessions_revoked": ended})
    return user


def create_pin_account(username: str, display_name: str, role: str, jurisdiction_code: str,
                       phone: str) -> User:
    """An account that cannot sign in until ``set_secret`` gives it one (a recipient's
    PIN is set by the recipient at activation, never by staff)."""
    user = User(
        id=new_id(), username=username, display_name=display_name,
        password_hash=hash_password(new_id() + new_id()), jurisdiction_code=jurisdiction_code,
        phone=phone, is_active=True, failed_login_count=0, created_at=clock.now(),
        role_rows=[UserRole(role=role)],
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", "user", user.id, after={
        "username": username, "roles": [role], "jurisdiction": jurisdiction_code},
        jurisdiction_code=jurisdiction_code)
    return user


def set_secret(user_id: str, secret: str, reason: str) -> None:
    """Set a user's sign-in secret (already checked by the caller's rules, e.g. a PIN);
    every session of theirs ends and their failed sign-ins are forgotten."""
    user = get_user(user_id)
    if user is None:
        raise ProblemError("user-not-found")
    user.password_hash = hash_password(secret)
    ended = revoke_all_sessions(user.id, reason)
    _forget_failures(user.id, None)
    audit.record("user.secret_set", "user", user.id, jurisdiction_code=user.jurisdiction_code,
                 after={"reason": reason, "sessions_revoked": ended})


def end_sessions_and_lock_secret(user_id: str, reason: str) -> None:
    """Make the current secret useless (a PIN reset: the recipient sets a new one)."""
    user = get_user(user_id)
    if user is None:
        raise ProblemError("user-not-found")
    user.password_hash = hash_password(new_id() + new_id())
    revoke_all_sessions(user.id, reason)
