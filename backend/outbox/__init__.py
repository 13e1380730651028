"""The transactional outbox: events written in the transaction of the change they tell of,
handed to subscribers after the commit by a relay on the job kernel.

- ``record(type, aggregate_type, aggregate_id, jurisdiction_code, payload)`` (service.py)
- ``subscribe(name, handler, types=None)`` (relay.py); handlers take an ``OutboxEvent``.

docs/architecture.md says when to use this and when an in-transaction event (events.py).
"""

from backend.outbox.relay import subscribe, unsubscribe
from backend.outbox.rules import OutboxEvent
from backend.outbox.service import record

__all__ = ["OutboxEvent", "record", "subscribe", "unsubscribe"]
