from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backend import clock
from backend.audit import service as audit
from backend.audit.context import current_actor
from backend.auth import rules
from backend.auth import second_factor as factors
from backend.auth.models import AuthSession, LoginThrottle, User, UserRole
from backend.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from backend.auth.revocations import RevokedSessions
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


def field_workers_in(township_code: str) -> list[StaffCard]:
    """Active field workers whose place is within the township, by name."""
    ids = db.session.scalars(
        select(User.id).join(UserRole, UserRole.user_id == User.id)
        .where(User.jurisdiction_code.startswith(township_code, autoescape=True),
               User.is_active.is_(True), UserRole.role == rules.FIELD_WORKER)).all()
    return sorted(staff_cards(ids).values(), key=lambda card: (card.display_name, card.id))


def staff_with_roles_covering(code: str, role_names: Iterable[str]) -> list[StaffCard]:
    """Active users holding one of ``role_names`` whose place is ``code`` or above it (a
    township's staff, the county's), by name."""
    chain = {code[:n] for n in (6, 9, 12) if len(code) >= n}
    ids = db.session.scalars(
        select(User.id).join(UserRole, UserRole.user_id == User.id)
        .where(User.jurisdiction_code.in_(chain), User.is_active.is_(True),
               UserRole.role.in_(list(role_names))).distinct()).all()
    return sorted(staff_cards(ids).values(), key=lambda card: (card.display_name, card.id))


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


def _start_pair(session: AuthSession) -> None:
    """A new refresh token id for the session, and the instant its pair is issued."""
    session.refresh_token_id = new_id()
    session.tokens_issued_at = clock.wall_now()


def _tokens_for(user: User, session: AuthSession) -> dict:
    """The session's current pair (access and refresh token), built only from what the
    session row holds: the same row gives the same pair, byte for byte (the refresh grace
    answers with it). The refresh token never outlives the session (SESSION_MAX_AGE)."""
    config = current_app.config
    rti = session.refresh_token_id
    assert rti is not None and session.tokens_issued_at is not None
    issued_at = int(session.tokens_issued_at.timestamp())
    issued_on_clock = session.refreshed_at or session.created_at
    session_left = session.created_at + config["SESSION_MAX_AGE"] - issued_on_clock
    access_seconds = int(config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
    refresh_seconds = int(min(config["JWT_REFRESH_TOKEN_EXPIRES"], session_left)
                          .total_seconds())
    claims = {"sid": session.id, "roles": sorted(user.roles), "jur": user.jurisdiction_code}

    def stamp(kind: str, seconds: int) -> dict:
        def derived(name: str) -> str:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"doorstep:{rti}:{kind}:{name}"))

        # Every claim flask-jwt-extended would draw at random (jti, and csrf, unused with
        # header tokens) is derived from the refresh token id instead.
        return {"iat": issued_at, "nbf": issued_at, "exp": issued_at + max(seconds, 0),
                "jti": derived("jti"), "csrf": derived("csrf")}

    return {
        "access_token": create_access_token(
            identity=user.id, additional_claims={**claims, **stamp("access", access_seconds)}),
        "refresh_token": create_refresh_token(
            identity=user.id,
            additional_claims={**claims, "rti": rti, **stamp("refresh", refresh_seconds)}),
        "token_type": "Bearer",
        "expires_in": access_seconds,
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


def login(username: str, password: str, device_id: str | None, totp_code: str | None = None,
          recovery_code: str | None = None) -> tuple[User, dict]:
    """Sign in: the tokens of a new session, or (password right, a second factor wanted)
    only `second_factor`, saying which step comes next and no token."""
    now = clock.now()
    client = _client_key()
    user = find_by_username(username)
    if user is None:
        _end_read_before_hashing()
        verify_password(dummy_hash(), password)
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
    second = _second_step(user, client, now, totp_code, recovery_code)
    if second.get("state") in {"code", "enrol"}:
        return user, {"second_factor": second}
    if needs_rehash(password_hash):
        user.password_hash = hash_password(password)
    _forget_failures(user.id, client)
    session = AuthSession(id=new_id(), user_id=user.id, device_id=device_id, created_at=now)
    _start_pair(session)
    db.session.add(session)
    tokens = _tokens_for(user, session)
    audit.record("auth.login", "user", user.id, actor_id=user.id,
                 after={"session": session.id, "device": device_id,
                        **({"second_factor": second["used"]} if "used" in second else {})})
    extra = {key: second[key] for key in ("recovery_codes",) if key in second}
    if second.get("state") == "enrol-due":
        extra["second_factor"] = {"state": "enrol-due", "due_at": second["due_at"]}
    return user, {**tokens, **extra}


def _second_step(user: User, client: str, now: datetime, totp_code: str | None,
                 recovery_code: str | None) -> dict:
    """After a right password: what the second factor says (docs/decisions/0023).

    {"used": ...} to go on; {"state": "code"} or {"state": "enrol", secret, QR} to ask for
    it first (no session yet); {"state": "enrol-due", due_at} to go on within the grace.
    A wrong or replayed code counts toward the throttle exactly like a wrong password.
    """
    enrolled = factors.is_enrolled(user.id)
    if not rules.needs_second_factor(user.roles, enrolled):
        return {}
    if enrolled:
        if recovery_code:
            if not factors.use_recovery_code(user.id, recovery_code, now):
                raise _second_factor_failed(user, client, now, "wrong recovery code")
            audit.record("auth.recovery_code_used", "user", user.id, actor_id=user.id,
                         after={"left": factors.recovery_codes_left(user.id)})
            return {"used": "recovery-code"}
        if not totp_code:
            return {"state": "code"}
        outcome = factors.check_code(user.id, totp_code, now)
        if outcome != factors.ACCEPTED:
            raise _second_factor_failed(user, client, now, f"{outcome} second factor")
        return {"used": "totp"}
    due_at = factors.enrolment_due(user, now)
    if now < due_at:
        return {"state": "enrol-due", "due_at": due_at}
    if totp_code:
        if factors.check_code(user.id, totp_code, now, pending_ok=True) != factors.ACCEPTED:
            raise _second_factor_failed(user, client, now, "wrong enrolment code")
        return {"used": "totp-enrolled", "recovery_codes": factors.confirm(user, now)}
    return {"state": "enrol", **factors.begin(user, keep_pending=True)}


def _second_factor_failed(user: User, client: str, now: datetime, reason: str) -> ProblemError:
    account_count, locked_until = _count_failure(user, client, now)
    audit.record("auth.login_failed", "user", user.id, actor_id=user.id,
                 after={"reason": reason, "client": client, "account_failures": account_count,
                        "client_locked_until": locked_until.isoformat()
                        if locked_until else None})
    replayed = reason.startswith(factors.REPLAYED)
    return ProblemError(
        "second-factor-replayed" if replayed else "second-factor-wrong",
        "That code was used already; wait for the next one." if replayed
        else "That code is not right. Type the code the app shows now.", keep_changes=True)


def _forget_failures(user_id: str, client: str | None) -> None:
    """A success clears this client's failures; other clients' locks stay."""
    db.session.execute(update(User).where(User.id == user_id, User.failed_login_count != 0)
                       .values(failed_login_count=0)
                       .execution_options(synchronize_session=False))
    query = delete(LoginThrottle).where(LoginThrottle.user_id == user_id)
    if client is not None:
        query = query.where(LoginThrottle.client_key == client)
    db.session.execute(query.execution_options(synchronize_session=False))


def locked_clients(user_id: str) -> int:
    """How many clients (addresses) are locked out of this account now."""
    return db.session.scalar(select(func.count()).select_from(LoginThrottle).where(
        LoginThrottle.user_id == user_id, LoginThrottle.locked_until > clock.now())) or 0


def lift_locks(user_id: str) -> None:
    """Forget every client's failures and locks on this account (staff lift a block)."""
    _forget_failures(user_id, None)


def is_known_device(user_id: str, device_id: str | None) -> bool:
    """Has this user signed in on this device before? (It may pass an account-wide limit.)"""
    if not device_id:
        return False
    return db.session.scalar(select(AuthSession.id).where(
        AuthSession.user_id == user_id, AuthSession.device_id == device_id).limit(1)) is not None


# Revocations are read back this much further than an access token lives: the server clocks
# of the worker that revoked and of the one asking may differ a little.
TOKEN_CLOCK_MARGIN = timedelta(minutes=1)


def revoked_sessions() -> RevokedSessions:
    """This worker's memory of ended sign-ins (one per app, made on first use)."""
    extensions = current_app.extensions
    known = extensions.get("doorstep_revoked_sessions")
    if known is None:
        lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()
        known = extensions["doorstep_revoked_sessions"] = RevokedSessions(
            poll_seconds=float(current_app.config["REVOCATION_POLL_SECONDS"]),
            local_keep_seconds=lifetime + TOKEN_CLOCK_MARGIN.total_seconds())
    return known


def _recently_revoked() -> list[str]:
    """Sessions ended recently enough that an access token of theirs may still be unexpired
    (none is issued after the end, so one ended a token lifetime ago has none left)."""
    since = clock.now() - current_app.config["JWT_ACCESS_TOKEN_EXPIRES"] - TOKEN_CLOCK_MARGIN
    return list(db.session.scalars(select(AuthSession.id).where(AuthSession.revoked_at >= since)))


def is_session_revoked(session_id: str | None) -> bool:
    """Has this sign-in ended? Answered from this worker's memory (see revocations.py)."""
    return not session_id or revoked_sessions().is_revoked(session_id, _recently_revoked)


def _ended(session_ids: Iterable[str]) -> None:
    revoked_sessions().note_revoked(session_ids)


def refresh(user_id: str, session_id: str, refresh_token_id: str | None = None) -> dict:
    """Rotate: the presented refresh token dies, a new pair is returned.

    The swap is one conditional UPDATE, so of two requests presenting the same refresh
    token only one rotates. The other, within REFRESH_REUSE_GRACE_SECONDS of the rotation,
    gets the same new pair (two tabs refreshing at once); later, or with any older token, it
    means someone holds a copy: the whole session is revoked and the reuse audited. A
    session older than SESSION_MAX_AGE is ended, however often it was refreshed.
    """
    user = get_user(user_id)
    if user is None or not user.is_active:
        raise ProblemError("token-revoked", "Sign in again.")
    config = current_app.config
    now = clock.now()
    times = db.session.execute(select(AuthSession.created_at, AuthSession.refreshed_at).where(
        AuthSession.id == session_id)).first()
    if times is not None and now >= times.created_at + config["SESSION_MAX_AGE"]:
        _end_expired_session(user_id, session_id, now)
    if times is not None and rules.has_idle_timeout(user.roles) and rules.is_idle_too_long(
            times.refreshed_at or times.created_at, now,
            timedelta(minutes=config["SESSION_IDLE_MINUTES"]), config["JWT_ACCESS_TOKEN_EXPIRES"]):
        _end_idle_session(user_id, session_id, now)
    next_id = new_id()
    rotated = db.session.execute(update(AuthSession).where(
        AuthSession.id == session_id, AuthSession.revoked_at.is_(None),
        AuthSession.refresh_token_id.is_(None) if refresh_token_id is None
        else AuthSession.refresh_token_id == refresh_token_id,
    ).values(refresh_token_id=next_id, previous_refresh_token_id=refresh_token_id,
             refreshed_at=now, tokens_issued_at=clock.wall_now())
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    session = db.session.get(AuthSession, session_id, populate_existing=True)
    if rotated != 1:
        if _within_refresh_grace(session, refresh_token_id):
            assert session is not None
            audit.record("auth.refresh_repeated", "user", user_id, actor_id=user_id,
                         after={"session": session_id})
            return _tokens_for(user, session)
        revoked = db.session.execute(update(AuthSession).where(
            AuthSession.id == session_id, AuthSession.revoked_at.is_(None),
        ).values(revoked_at=now, revoked_reason="refresh-token-reused")
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if revoked:
            _ended([session_id])
            audit.record("auth.refresh_token_reused", "user", user_id, actor_id=user_id,
                         after={"session": session_id, "session_revoked": True})
        raise ProblemError("token-revoked", "This sign-in was ended; sign in again.",
                           keep_changes=True)
    assert session is not None  # the conditional update above just matched it
    tokens = _tokens_for(user, session)
    audit.record("auth.refresh", "user", user_id, actor_id=user_id,
                 after={"session": session_id})
    return tokens


def _within_refresh_grace(session: AuthSession | None, refresh_token_id: str | None) -> bool:
    """Is this the refresh token the session's last rotation used up, moments ago?"""
    grace = timedelta(seconds=current_app.config["REFRESH_REUSE_GRACE_SECONDS"])
    return (session is not None and session.revoked_at is None
            and refresh_token_id is not None
            and session.previous_refresh_token_id == refresh_token_id
            and session.tokens_issued_at is not None
            and clock.wall_now() - session.tokens_issued_at < grace)


def _end_session(user_id: str, session_id: str, now: datetime, why: str, message: str) -> None:
    """End a sign-in that outlived a limit (``why``: expired or idle), audit it once, and
    refuse the request; the end is kept (keep_changes) though the request fails."""
    ended = db.session.execute(update(AuthSession).where(
        AuthSession.id == session_id, AuthSession.revoked_at.is_(None),
    ).values(revoked_at=now, revoked_reason=f"session-{why}")
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if ended:
        _ended([session_id])
        audit.record(f"auth.session_{why}", "user", user_id, actor_id=user_id,
                     after={"session": session_id})
    raise ProblemError("token-revoked", message, keep_changes=True)


def _end_expired_session(user_id: str, session_id: str, now: datetime) -> None:
    days = current_app.config["SESSION_MAX_AGE"].days
    _end_session(user_id, session_id, now, "expired",
                 f"This sign-in is more than {days} days old; sign in again.")


def _end_idle_session(user_id: str, session_id: str, now: datetime) -> None:
    _end_session(user_id, session_id, now, "idle", "This sign-in was idle too long; sign in again.")


@dataclass(frozen=True)
class SignInHistory:
    previous_at: datetime | None
    previous_ip: str | None
    previous_device: str | None
    failures: list[tuple[datetime, str | None]]


def sign_in_history(user_id: str, session_id: str | None) -> SignInHistory:
    """The sign-in before this one, and the failed sign-ins since it (this one's included):
    shown to the user so a stranger's attempt, or a sign-in they did not make, stands out."""
    rows = audit.latest_of("user", user_id, ("auth.login", "auth.login_failed",
                                             "auth.login_throttled"))
    failures: list[tuple[datetime, str | None]] = []
    passed_current = session_id is None
    for row in rows:
        if row.action == "auth.login":
            if not passed_current and (row.after or {}).get("session") == session_id:
                passed_current = True
                continue
            if passed_current:
                return SignInHistory(row.at, row.ip, row.device_id, failures)
        elif row.action == "auth.login_failed":
            failures.append((row.at, row.ip))
    return SignInHistory(None, None, None, failures)




def logout(user_id: str, session_id: str) -> None:
    session = db.session.get(AuthSession, session_id)
    if session is not None and session.revoked_at is None:
        session.revoked_at = clock.now()
        session.revoked_reason = "logout"
        _ended([session_id])
        audit.record("auth.logout", "user", user_id, after={"session": session_id})


def revoke_all_sessions(user_id: str, reason: str) -> int:
    """End every sign-in of a user, on every device; returns how many were open."""
    ended = list(db.session.scalars(update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None),
    ).values(revoked_at=clock.now(), revoked_reason=reason).returning(AuthSession.id)
        .execution_options(synchronize_session=False)))
    _ended(ended)
    return len(ended)


def reset_second_factor(caller: rules.Caller, user_id: str) -> None:
    """An administrator resets another user's second factor; every sign-in of theirs ends."""
    user = get_user(user_id)
    had = factors.remove(caller, user)
    assert user is not None  # remove() refused an unknown user
    ended = revoke_all_sessions(user.id, "second-factor-reset")
    audit.record("user.second_factor_reset", "user", user.id, actor_id=caller.user_id,
                 jurisdiction_code=user.jurisdiction_code,
                 after={"was_enrolled": had, "sessions_revoked": ended})


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


def staff_within(scope_code: str, roles: Iterable[str]) -> list[StaffCard]:
    """Active staff of a jurisdiction subtree holding any of ``roles``, by name (the
    approver's choice of whom to authorise a full export for)."""
    ids = list(db.session.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id)
                                  .where(User.jurisdiction_code.startswith(scope_code),
                                         User.is_active.is_(True),
                                         UserRole.role.in_(list(roles))).distinct()))
    return sorted(staff_cards(ids).values(), key=lambda card: card.display_name)
