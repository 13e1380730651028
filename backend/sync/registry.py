"""What sync carries, registered by the packages that own it.

Push: each concept registers the record types it accepts (``accept``): a marshmallow schema
and a handler. The dispatcher parses every record with its type's schema, then gives each
handler the batch's parsed records of its type, in the order the types were registered; the
handler answers one result per record (``accepted``, ``duplicate`` or ``rejected``) and is
responsible for exactly-once storage.

A type may also register ``replayed``: given the batch's raw records of that type, it answers
those already stored (``duplicate``) from one indexed lookup of their ids, before anything is
parsed, canonicalised or verified; a replayed batch costs its lookup and its answers.

Pull: each concept registers a provider (``provide``): a slice of the pull that owns some
fields of the one cursor (sync.rules.Cursor) and answers what changed since them.

Registration happens at app start (``create_app`` calls each package's ``register``); sync
itself imports no concept package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from marshmallow import Schema
from marshmallow.fields import Field

from backend.auth.rules import Caller
from backend.sync.fastload import Loader, compile_loader
from backend.sync.rules import Cursor

CURSOR_FIELDS = frozenset(f.name for f in fields(Cursor))


@dataclass(frozen=True)
class PushBatch:
    """Who pushed, from which device, and both clocks; ``looked_up`` carries what a type's
    ``replayed`` learnt to its handler (e.g. which ids are stored), keyed by the type."""

    caller: Caller
    device_id: str | None
    sent_at: datetime | None
    received_at: datetime
    looked_up: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ParsedRecord:
    index: int  # position in the pushed batch
    raw: dict[str, Any]  # as sent (what the device signed)
    loaded: dict[str, Any]  # after the type's schema


PushHandler = Callable[[PushBatch, list[ParsedRecord]], list[dict[str, Any]]]
# (position in the batch, raw record) -> the answers of the records already stored, by position
ReplayHandler = Callable[[PushBatch, list[tuple[int, dict[str, Any]]]], dict[int, dict[str, Any]]]


@dataclass(frozen=True)
class RecordType:
    name: str
    schema: Schema
    handle: PushHandler
    replayed: ReplayHandler | None = None
    # The schema's compiled loader (sync.fastload): the valid common record without
    # marshmallow's machinery; None, or its no-answer, leaves the record to the schema.
    fast_load: Loader | None = None


@dataclass(frozen=True)
class PullSlice:
    """A provider's answer: keys to merge into the pull, its new cursor fields, and whether
    it has more to send (paged slices)."""

    answer: dict[str, Any]
    cursor: dict[str, str]
    has_more: bool = False


PullHandler = Callable[[Caller, dict[str, str], int], PullSlice]


@dataclass(frozen=True)
class PullProvider:
    name: str
    cursor_fields: tuple[str, ...]
    pull: PullHandler
    # The keys this slice adds to the pull's answer, as marshmallow fields: they document the
    # pull in OpenAPI and are what the answer may carry (an undeclared key is dropped).
    answer_fields: dict[str, Field[Any]] = field(default_factory=dict)


@dataclass
class SyncRegistry:
    record_types: dict[str, RecordType] = field(default_factory=dict)
    providers: dict[str, PullProvider] = field(default_factory=dict)

    def accept(self, name: str, schema: Schema, handle: PushHandler,
               replayed: ReplayHandler | None = None) -> None:
        if name in self.record_types:
            raise ValueError(f"record type {name!r} is already registered")
        self.record_types[name] = RecordType(name, schema, handle, replayed,
                                             compile_loader(schema))

    def provide(self, name: str, cursor_fields: tuple[str, ...], pull: PullHandler,
                answer_fields: dict[str, Field[Any]] | None = None) -> None:
        unknown = set(cursor_fields) - CURSOR_FIELDS
        owned = {f for p in self.providers.values() for f in p.cursor_fields}
        if unknown or owned & set(cursor_fields) or name in self.providers:
            raise ValueError(f"pull provider {name!r}: cursor fields {cursor_fields} are "
                             "unknown or already owned")
        declared = {key for p in self.providers.values() for key in p.answer_fields}
        if declared & set(answer_fields or {}):
            raise ValueError(f"pull provider {name!r}: answer keys already declared")
        self.providers[name] = PullProvider(name, cursor_fields, pull, dict(answer_fields or {}))
