"""Who is calling: the signed-in user as a Caller, and role checks for routes."""

from __future__ import annotations

from functools import wraps

from flask import g
from flask_jwt_extended import get_jwt, get_jwt_identity, verify_jwt_in_request

from backend.audit.actor import bind_actor
from backend.auth import rules
from backend.auth import service as auth
from backend.auth.models import User
from backend.errors import ProblemError


def current_caller() -> rules.Caller:
    """The signed-in caller; 401 problem when there is none."""
    cached = g.get("doorstep_caller")
    if cached is not None:
        return cached
    # Verifies the signature and expiry, and asks web.hooks whether the sign-in has ended
    # (from memory: backend/auth/revocations.py).
    verify_jwt_in_request()
    claims = get_jwt()
    if claims.get("type") != "access":
        raise ProblemError("token-invalid", "Use an access token here, not a refresh token.")
    caller = _caller_from_claims(get_jwt_identity(), claims)
    g.doorstep_caller = caller
    bind_actor(caller.user_id)
    return caller


def _caller_from_claims(user_id: str, claims: dict) -> rules.Caller:
    """Roles and jurisdiction as the access token states them (issue 23: no query per
    request). They were read from the user when the pair was issued, at most one token
    lifetime ago; anything that must take them away at once ends the sign-in instead."""
    roles, jurisdiction = claims.get("roles"), claims.get("jur")
    if (isinstance(roles, list) and all(isinstance(role, str) for role in roles)
            and isinstance(jurisdiction, str)):
        return rules.Caller(user_id, frozenset(roles), jurisdiction)
    return auth.caller_for(_active_user(user_id))


def current_user() -> User:
    """The signed-in user's row, for the few routes that show or change the account itself."""
    cached = g.get("doorstep_user")
    if cached is None:
        cached = g.doorstep_user = _active_user(current_caller().user_id)
    return cached


def _active_user(user_id: str) -> User:
    user = auth.get_user(user_id)
    if user is None or not user.is_active:
        raise ProblemError("token-revoked", "This account is no longer active; sign in again.")
    return user


def require_roles(caller: rules.Caller, *roles: str) -> None:
    if not caller.has(*roles):
        raise ProblemError("forbidden", "Your role does not allow this. Ask your township "
                           "administrator if you need it.")


def signed_in(view):
    """Authenticate before anything else: put it right under `@blp.route`, above
    `@blp.arguments`, so an anonymous caller learns nothing about the body it sent (401,
    not 422)."""

    @wraps(view)
    def authenticated(*args, **kwargs):
        current_caller()
        return view(*args, **kwargs)

    return authenticated
