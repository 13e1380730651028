"""Who is calling: the signed-in user as a Caller, and role checks for routes."""

from __future__ import annotations

from functools import wraps

from flask import g
from flask_jwt_extended import get_jwt, get_jwt_identity, verify_jwt_in_request

from backend.audit.actor import bind_actor
from backend.auth import rules
from backend.auth import service as auth
from backend.errors import ProblemError


def current_caller() -> rules.Caller:
    """The signed-in caller; 401 problem when there is none."""
    cached = g.get("doorstep_caller")
    if cached is not None:
        return cached
    verify_jwt_in_request()
    if get_jwt().get("type") != "access":
        raise ProblemError("token-invalid", "Use an access token here, not a refresh token.")
    # verify_jwt_in_request asked web.hooks whether the session is revoked, which loaded
    # the session's user with its roles.
    user = g.pop("doorstep_session_user", None)
    if user is None or user.id != get_jwt_identity():
        user = auth.get_user(get_jwt_identity())
    if user is None or not user.is_active:
        raise ProblemError("token-revoked", "This account is no longer active; sign in again.")
    caller = auth.caller_for(user)
    g.doorstep_caller = caller
    g.doorstep_user = user
    bind_actor(user.id)
    return caller


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
