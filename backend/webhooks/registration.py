"""What the webhooks add to the app: the outbox subscriber that turns events into deliveries,
the delivery tasks on the job kernel (declared in ``tasks``, on import), and each event
type's JSON schema in the OpenAPI document."""

from __future__ import annotations

from flask import Flask

from backend import outbox
from backend.webhooks import tasks
from backend.webhooks.catalogue import EVENT_TYPES, envelope_schema

SUBSCRIBER = "webhooks"


def register_schemas(api) -> None:
    """``Webhook<Type>V<n>`` in the OpenAPI document's schemas, one per event type."""
    for event_type in EVENT_TYPES.values():
        if event_type.schema_name not in api.spec.components.schemas:
            api.spec.components.schema(event_type.schema_name,
                                       component=envelope_schema(event_type))


def register(app: Flask) -> None:
    from backend.extensions import api

    outbox.subscribe(SUBSCRIBER, tasks.on_outbox_event, types=set(EVENT_TYPES))
    register_schemas(api)
