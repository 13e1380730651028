"""Flask-Limiter limits on failed sign-ins: per client, and per account from unknown devices.

Only failures count (`deduct_when`), so a user who types the password right is never
slowed by their own earlier success. The account-wide limit exempts a device this user
has signed in on before: a stranger who exhausts it shuts out only new devices, never the
phones the township's field workers already use (docs/decisions/0004-sign-in-throttling.md).
"""

from __future__ import annotations

import time

from flask import current_app, request
from flask_limiter import Limiter, RequestLimit
from limits import parse

from backend.errors import problem_response


def client_ip() -> str:
    """The client as the limiter and the (account, client) lock see it (after ProxyFix)."""
    return request.remote_addr or "unknown"


KEY_PREFIX = "doorstep"
# The account-wide limits, shared by name so staff can read and lift one (an account may sign
# in on either route: recipients' phones use /api/auth/login with their recipient username).
ACCOUNT_SCOPE = "login-account"
RECIPIENT_ACCOUNT_SCOPE = "checkin-login-account"
ACCOUNT_SCOPES = (ACCOUNT_SCOPE, RECIPIENT_ACCOUNT_SCOPE)
limiter = Limiter(key_func=client_ip, key_prefix=KEY_PREFIX, strategy="moving-window")


def _login_body() -> dict:
    try:
        body = request.get_json(silent=True)
    except Exception:  # noqa: BLE001 - a body we cannot parse has no username to key on
        return {}
    return body if isinstance(body, dict) else {}


def account_key() -> str:
    from backend.auth.service import login_name_key

    username = _login_body().get("username")
    return "account:" + login_name_key(username if isinstance(username, str) else "")


def signs_in_from_known_device() -> bool:
    from backend.auth import service as auth

    body = _login_body()
    username, device_id = body.get("username"), body.get("device_id")
    if not isinstance(username, str) or not isinstance(device_id, str):
        return False
    user = auth.find_by_username(username)
    return user is not None and auth.is_known_device(user.id, device_id)


def sign_in_failed(response) -> bool:
    return response.status_code == 401


def per_client_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_CLIENT"]


def per_account_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def on_breach(limit: RequestLimit):
    seconds = max(1, int(limit.reset_at - time.time()) + 1)
    return problem_response(
        "too-many-sign-ins",
        f"Too many failed sign-ins. Try again in {(seconds + 59) // 60} minutes.",
        extra={"retry_after_seconds": seconds}, headers={"Retry-After": str(seconds)})


def account_key_of(username: str) -> str:
    from backend.auth.service import login_name_key

    return "account:" + login_name_key(username)


def account_limit_state(username: str) -> tuple[int, int | None]:
    """(failed sign-ins the account-wide limits hold now, seconds until they let new devices
    in again, or None when they do), over both sign-in routes."""
    item = parse(per_account_limit())
    failed, retry_after = 0, None
    for scope in ACCOUNT_SCOPES:
        reset_at, remaining = limiter.limiter.get_window_stats(
            item, KEY_PREFIX, account_key_of(username), scope)
        failed = max(failed, item.amount - remaining)
        if remaining <= 0:
            retry_after = max(retry_after or 0, max(1, int(reset_at - time.time()) + 1))
    return failed, retry_after


def clear_account_limit(username: str) -> None:
    for scope in ACCOUNT_SCOPES:
        limiter.limiter.clear(parse(per_account_limit()), KEY_PREFIX, account_key_of(username),
                              scope)
