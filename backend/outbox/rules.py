"""Pure rules of the relay: what a subscriber is handed next, and when an event is done.

At least once, in order per aggregate: a subscriber takes the unrelayed events in their
global order (``sequence``), skips those it has a receipt for, and once one event of an
aggregate fails, takes no later event of that aggregate until the failed one succeeds (a
later run starts again from it). Other aggregates go on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class OutboxEvent:
    """One committed event as subscribers receive it. ``payload`` holds the full facts,
    unmasked: a subscriber that sends them out masks them for its reader."""

    id: str
    sequence: int
    type: str
    version: int
    aggregate_type: str
    aggregate_id: str
    jurisdiction_code: str
    payload: Mapping[str, Any]
    occurred_at: datetime

    @property
    def aggregate(self) -> tuple[str, str]:
        return (self.aggregate_type, self.aggregate_id)


def wants(types: frozenset[str] | None, event_type: str) -> bool:
    """A subscriber without a type list takes every event."""
    return types is None or event_type in types


@dataclass
class Gate:
    """One subscriber's pass over a batch: hands out the events it still has to take, in
    order, holding back every later event of an aggregate whose earlier event failed."""

    types: frozenset[str] | None = None
    handled: set[str] = field(default_factory=set)
    blocked: set[tuple[str, str]] = field(default_factory=set)

    def admit(self, events: Iterable[OutboxEvent]) -> Iterator[OutboxEvent]:
        """Yield each event to hand over now; call ``failed`` for one that failed before
        taking the next (the generator reads ``blocked`` as it goes)."""
        for event in sorted(events, key=lambda e: e.sequence):
            if not wants(self.types, event.type) or event.id in self.handled:
                continue
            if event.aggregate in self.blocked:
                continue
            yield event

    def failed(self, event: OutboxEvent) -> None:
        self.blocked.add(event.aggregate)

    def succeeded(self, event: OutboxEvent) -> None:
        self.handled.add(event.id)


def done_events(events: Iterable[OutboxEvent], subscribers: Mapping[str, frozenset[str] | None],
                receipts: set[tuple[str, str]]) -> list[str]:
    """The events every subscriber that wants them has a receipt for (``(subscriber,
    event_id)``): the relay stamps them ``relayed_at`` and looks at them no more."""
    return [event.id for event in events
            if all((name, event.id) in receipts for name, types in subscribers.items()
                   if wants(types, event.type))]
