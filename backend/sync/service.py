"""The sync protocol (docs/sync-contract.md): push dispatches records to the handlers their
packages registered; pull merges the slices of the registered providers behind one cursor."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any, cast

from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError

from backend import clock, events
from backend.auth.rules import Caller
from backend.dbtypes import nul_paths, start_writing
from backend.errors import ProblemError, field_paths, problem_body
from backend.extensions import db
from backend.sync import rules
from backend.sync.registry import ParsedRecord, PushBatch, RecordType, SyncRegistry

log = logging.getLogger(__name__)


def _rejected(record_id: Any, slug: str, detail: str, errors: dict | None = None) -> dict:
    return {"id": record_id, "status": "rejected", "problem": problem_body(slug, detail, errors)}


def push(registry: SyncRegistry, caller: Caller, device_id: str | None,
         sent_at: datetime | None, records: list, may_hold_nul: bool = True,
         owns_transaction: bool = False) -> list[dict]:
    """One result per record, in order; a bad record never rejects the others.

    Records already stored are answered first, from one lookup of their ids per type
    (``replayed``); only the others are checked for NUL characters (skipped when the caller
    knows the body holds no ``\\u0000``), parsed and handed to their handlers.

    ``owns_transaction``: the caller (the push route) wrote nothing in this transaction before
    the push and writes nothing after a refused record, so a push of one record (the phone's
    common case) may roll the whole transaction back instead of a SAVEPOINT around it."""
    batch = PushBatch(caller, device_id, sent_at, clock.now())
    results: list[dict | None] = [None] * len(records)
    typed: dict[str, list[tuple[int, dict]]] = {name: [] for name in registry.record_types}
    for index, raw in enumerate(records):
        record_id = raw.get("id") if isinstance(raw, dict) else None
        kind = raw.get("type") if isinstance(raw, dict) else None
        record_type = registry.record_types.get(kind) if isinstance(kind, str) else None
        if record_type is None:
            results[index] = _rejected(record_id, "validation-failed",
                                       "Unknown record type.", {"type": ["unknown type"]})
            continue
        typed[record_type.name].append((index, raw))
    for name, candidates in typed.items():
        replayed = registry.record_types[name].replayed
        if replayed is not None and candidates:
            for index, answer in replayed(batch, candidates).items():
                results[index] = answer
    if any(result is None for result in results):
        # Records to store: on SQLite the replay lookups above read beside the writers (the
        # route is dbtypes.reads_first); from here the push takes the write lock.
        start_writing(db.session())
    by_type: dict[str, list[ParsedRecord]] = {name: [] for name in registry.record_types}
    for name, candidates in typed.items():
        record_type = registry.record_types[name]
        for index, raw in candidates:
            if results[index] is None:
                _parse(record_type, index, raw, may_hold_nul, results, by_type[name])
    groups = [(registry.record_types[name], parsed) for name, parsed in by_type.items() if parsed]
    if owns_transaction and len(groups) == 1 and len(groups[0][1]) == 1:
        record_type, (record,) = groups[0]
        results[record.index] = _handle_alone(record_type, batch, record)
    else:
        for record_type, parsed in groups:
            for record, answer in zip(parsed, _handle(record_type, batch, parsed), strict=True):
                results[record.index] = answer
    events.dispatch()  # side effects of this unit of work, in its transaction
    if any(result is None for result in results):
        raise RuntimeError("a push handler left a record unanswered")
    return cast(list[dict], results)


def _parse(record_type: RecordType, index: int, raw: dict, may_hold_nul: bool,
           results: list[dict | None], parsed: list[ParsedRecord]) -> None:
    """The record loaded by its type's schema into ``parsed``, or its rejection into
    ``results``."""
    record_id = raw.get("id")
    if may_hold_nul:
        if paths := nul_paths(raw):  # PostgreSQL text cannot hold one; refuse this record only
            results[index] = _rejected(
                record_id, "validation-failed", "A field holds a NUL (\\u0000) character.",
                {path: ["NUL characters are not allowed."] for path in paths})
            return
    loaded = record_type.fast_load(raw) if record_type.fast_load is not None else None
    if loaded is not None:
        parsed.append(ParsedRecord(index, raw, loaded))
        return
    try:
        loaded = record_type.schema.load(raw)
    except ValidationError as invalid:
        results[index] = _rejected(record_id, "validation-failed",
                                   "The record is malformed; see errors.",
                                   field_paths(invalid.messages))
        return
    parsed.append(ParsedRecord(index, raw, loaded))


def _handle(record_type: RecordType, batch: PushBatch,
            parsed: list[ParsedRecord]) -> list[dict]:
    """The handler's answers for a group of records, each group in a SAVEPOINT.

    Whatever fails while a group is handled (a ProblemError, a value the database refuses,
    a bug) rolls back that group alone, with the events it raised; the group is then
    handled again one record per SAVEPOINT, so only the record that fails is rejected:
    with its problem (4xx: the device parks it for a person), or as `internal-error`
    (5xx: the device retries it later). A lost database (OperationalError) fails the push.
    """
    try:
        with db.session.begin_nested():
            answers = record_type.handle(batch, parsed)
            events.dispatch()  # the group's side effects fail with the group
            if len(answers) != len(parsed):
                raise RuntimeError(f"the {record_type.name} handler answered "
                                   f"{len(answers)} of {len(parsed)} records")
        return answers
    except OperationalError:
        raise
    except Exception as failure:  # isolated per record below
        if len(parsed) > 1:
            return [answer for record in parsed
                    for answer in _handle(record_type, batch, [record])]
        return [_failed(parsed[0], failure)]


def _handle_alone(record_type: RecordType, batch: PushBatch, record: ParsedRecord) -> dict:
    """The answer to the one record of a push whose transaction holds nothing else: no
    SAVEPOINT (two statements of a check-in's thirteen, issue 23); a failure rolls back the
    whole transaction, which holds this record's work alone, with the events it raised."""
    try:
        answers = record_type.handle(batch, [record])
        events.dispatch()
        if len(answers) != 1:
            raise RuntimeError(f"the {record_type.name} handler answered "
                               f"{len(answers)} of 1 records")
        return answers[0]
    except OperationalError:
        raise
    except Exception as failure:
        db.session.rollback()
        return _failed(record, failure)


def _failed(record: ParsedRecord, failure: Exception) -> dict:
    record_id = record.loaded.get("id")
    if isinstance(failure, ProblemError):
        return {"id": record_id, "status": "rejected",
                "problem": problem_body(failure.slug, failure.detail, failure.errors,
                                        failure.extra)}
    log.error("sync record %s (%s) failed", record_id, record.raw.get("type"),
              exc_info=failure)
    return _rejected(record_id, "internal-error",
                     "The server failed on this record; the app will send it again later.")


def pull(registry: SyncRegistry, caller: Caller, cursor_text: str | None,
         page_size: int) -> dict:
    """What the device needs offline, changed since the cursor, one page at a time."""
    cursor = rules.decode(cursor_text)
    if cursor is None:
        raise ProblemError("validation-failed", "The sync cursor is not one this server gave; "
                           "clear it and pull again.", {"cursor": ["unreadable"]})
    state = asdict(cursor)
    answer: dict = {}
    has_more = False
    for provider in registry.providers.values():
        part = provider.pull(caller, {f: state[f] for f in provider.cursor_fields}, page_size)
        answer.update(part.answer)
        state.update({f: part.cursor[f] for f in provider.cursor_fields})
        has_more = has_more or part.has_more
    return {"cursor": rules.encode(rules.Cursor(**state)), "has_more": has_more, **answer}
