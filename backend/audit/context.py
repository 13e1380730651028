"""Who is acting and from where, set once per request by the web layer.

Services record audit rows without touching the request object; the CLI sets
a context of its own so seeded and imported data is traced too.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


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
