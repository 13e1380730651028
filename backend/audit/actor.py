"""Bind who is acting in this request (after authentication) for the audit rows it writes."""

from __future__ import annotations

from flask import g, request

from backend.audit.context import ActorContext, reset_actor, set_actor, valid_device_id


def bind_actor(user_id: str | None) -> None:
    """Attribute what this request changes to `user_id` (after authentication)."""
    previous = g.get("doorstep_actor_token")
    if previous is not None:
        reset_actor(previous)
    g.doorstep_actor_token = set_actor(ActorContext(
        actor_id=user_id,
        request_id=g.get("request_id"),
        ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
        device_id=valid_device_id(request.headers.get("X-Device-Id")),
    ))


def bind_anonymous_without_network() -> None:
    """An anonymous public request (the complaint form): its audit rows keep no address or
    browser of the person, who may be a reporter that must not be traced."""
    previous = g.get("doorstep_actor_token")
    if previous is not None:
        reset_actor(previous)
    g.doorstep_actor_token = set_actor(ActorContext(request_id=g.get("request_id")))
