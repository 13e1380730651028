"""What the outbox plugs into at app start: the event catalogue in the OpenAPI document and,
in immediate mode (tests, the e2e server), the relay run when a request that committed
events has finished."""

from __future__ import annotations

import logging

from flask import Flask, g

from backend.outbox import relay
from backend.outbox.schemas import CATALOGUE, OutboxEventSchema, schema_name

log = logging.getLogger(__name__)


def register(app: Flask, api) -> None:
    for event_type in CATALOGUE.values():
        api.spec.components.schema(schema_name(event_type), schema=event_type.schema)
    api.spec.components.schema("OutboxEvent", schema=OutboxEventSchema)
    app.teardown_request(_relay_after_request)


def _relay_after_request(_error) -> None:
    if not g.pop(relay.RELAY_DUE, False):
        return
    try:
        relay.drain()
    except Exception:  # noqa: BLE001 - the answer is sent; the next run relays them
        log.exception("the outbox relay failed after the request")
