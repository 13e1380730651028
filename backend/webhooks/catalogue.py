"""The event types a subscription may name: the outbox's catalogue (backend/outbox/schemas.py),
each with its version, and the JSON schema of what a receiver gets, published in the OpenAPI
document as ``Webhook<Type>V<n>``.

The body of every delivery is the same envelope (Standard Webhooks' recommended shape:
``type``, ``timestamp``, ``data``) with the event's id, version, jurisdiction and aggregate;
``data`` is the event's payload (its schema is the outbox's ``<Payload>V<n>``), masked by the
subscription's purpose: a masked number is still a string, a name a purpose may not read is
null, so the payload keeps its schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.outbox.schemas import CATALOGUE, schema_name


@dataclass(frozen=True)
class EventType:
    slug: str
    version: int
    description: str
    payload_schema: str  # the outbox payload's name under components/schemas

    @property
    def schema_name(self) -> str:
        words = "".join(part.capitalize() for part in self.slug.replace(".", "_").split("_"))
        return f"Webhook{words}V{self.version}"


def _description(schema: type) -> str:
    return " ".join((schema.__doc__ or "").split()) or schema.__name__


EVENT_TYPES: dict[str, EventType] = {
    name: EventType(name, event_type.version, _description(event_type.schema),
                    schema_name(event_type))
    for name, event_type in CATALOGUE.items()}


def envelope_schema(event: EventType) -> dict[str, Any]:
    """The JSON schema of one delivery's body of this event type."""
    return {
        "type": "object",
        "description": f"{event.description} Sent as a Standard Webhooks POST signed with "
                       "the subscription's secret (headers webhook-id, webhook-timestamp, "
                       "webhook-signature).",
        "required": ["id", "type", "version", "timestamp", "jurisdiction_code", "aggregate",
                     "data"],
        "properties": {
            "id": {"type": "string", "format": "uuid",
                   "description": "The event id; also the webhook-id header. The same on "
                                  "every retry: deduplicate by it."},
            "type": {"type": "string", "enum": [event.slug]},
            "version": {"type": "integer", "enum": [event.version]},
            "timestamp": {"type": "string", "format": "date-time",
                          "description": "When it happened (UTC)"},
            "jurisdiction_code": {"type": "string"},
            "aggregate": {"type": "object", "required": ["type", "id", "sequence"],
                          "properties": {"type": {"type": "string"}, "id": {"type": "string"},
                                         "sequence": {"type": "integer", "description":
                                                      "Increases with every event; one "
                                                      "aggregate's events arrive in this "
                                                      "order"}}},
            "data": {"allOf": [{"$ref": f"#/components/schemas/{event.payload_schema}"}],
                     "description": "The event's payload, masked by the subscription's "
                                    "purpose (identity numbers masked unless the purpose is "
                                    "joint_handling; names null for dashboard)"},
        },
        "additionalProperties": False,
    }
