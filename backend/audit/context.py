"""Who is acting and from where, set once per request by the web layer.

Services record audit rows without touching the request object; the CLI sets
a context of its own so seeded and imported data is traced too.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass

# What a client may send as its device id (X-Device-Id, login's device_id) and request
# id (X-Request-Id): they reach the audit trail, so anything else is never stored.
DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)


def valid_device_id(value: str | None) -> str | None:
    """The client's X-Device-Id if well-formed; anything else is ignored, never stored."""
    return value if value and _DEVICE_ID.fullmatch(value) else None


@dataclass(frozen=True)
class ActorContext:
    actor_id: str | None = None
    request_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    device_id: str | None = None


# ActorContext is a frozen dataclass, so sharing the default instance is safe.
_current: ContextVar[ActorContext] = ContextVar(
    "doorstep_actor", default=ActorContext())  # noqa: B039


def current_actor() -> ActorContext:
    return _current.get()


def set_actor(context: ActorContext):
    return _current.set(context)


def reset_actor(token) -> None:
    _current.reset(token)
