from __future__ import annotations

from sqlalchemy import select

from backend import clock
from backend.audit.context import current_actor
from backend.audit.models import AuditEvent
from backend.extensions import db


def record(
    action: str,
    object_type: str,
    object_id: str,
    *,
    before: dict | None = None,
    after: dict | None = None,
    jurisdiction_code: str | None = None,
    actor_id: str | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction (committed with the change itself)."""
    context = current_actor()
    event = AuditEvent(
        at=clock.now(),
        actor_id=actor_id or context.actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        jurisdiction_code=jurisdiction_code,
        before=before,
        after=after,
        request_id=context.request_id,
        ip=context.ip,
        user_agent=(context.user_agent or "")[:300] or None,
        device_id=context.device_id,
    )
    db.session.add(event)
    return event


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """Keep only what changed, so audit rows say what happened at a glance."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def events_for(object_type: str, object_id: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id)
        )
    )


def record_many(events: list[dict]) -> None:
    """Audit a whole batch in one INSERT (a synced batch can hold a thousand records)."""
    if not events:
        return
    from sqlalchemy import insert

    context = current_actor()
    at = clock.now()
    rows = [{
        "at": at, "actor_id": event.get("actor_id") or context.actor_id,
        "action": event["action"], "object_type": event["object_type"],
        "object_id": str(event["object_id"]), "jurisdiction_code": event.get("jurisdiction_code"),
        "before": event.get("before"), "after": event.get("after"),
        "request_id": context.request_id, "ip": context.ip,
        "user_agent": (context.user_agent or "")[:300] or None, "device_id": context.device_id,
    } for event in events]
    db.session.execute(insert(AuditEvent), rows)
