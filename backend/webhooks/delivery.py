"""Deliveries: events handed on by the outbox become one row per subscription, sent by the
worker with retries, in order per case.

- ``fan_out(event)`` (the outbox subscriber, after the commit): one delivery per matching
  subscription created before the event happened, its body masked by the subscription's
  purpose and frozen; idempotent by (subscription, event id), so a relay that hands an
  event on twice delivers it once.
- ``deliver_due()`` (the worker's task): takes what is due in short transactions and sends
  it with no transaction open (SQLite's write lock is never held across the network), a
  few receivers at a time, so one that hangs never holds up the others past its timeout.
  A delivery is due only when no earlier event of the same aggregate (case) for the same
  subscription still waits: a later event waits while an earlier one is retrying.
"""

from __future__ import annotations

import json
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.orm import aliased

from backend import bulk, clock
from backend.audit import service as audit
from backend.dbtypes import new_id
from backend.extensions import db
from backend.webhooks import rules, sender
from backend.webhooks.catalogue import EVENT_TYPES
from backend.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookNotice,
    WebhookSubscription,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # a claimed delivery is not claimed again meanwhile


class OutboxEventLike(Protocol):
    """What fan_out reads of the outbox's event (backend.outbox.OutboxEvent)."""

    id: Any
    sequence: int
    type: str
    version: int
    aggregate_type: str
    aggregate_id: Any
    jurisdiction_code: str | None
    payload: dict[str, Any]
    occurred_at: datetime


def body_for(event: OutboxEventLike, purpose: rules.Purpose) -> dict[str, Any]:
    return {
        "id": str(event.id), "type": event.type, "version": event.version,
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "jurisdiction_code": event.jurisdiction_code or "",
        "aggregate": {"type": event.aggregate_type, "id": str(event.aggregate_id),
                      "sequence": event.sequence},
        "data": rules.mask_payload(event.payload or {}, purpose),
    }


def fan_out(event: OutboxEventLike) -> int:
    """One delivery per subscription that wants this event; how many were new."""
    if event.type not in EVENT_TYPES:
        return 0
    code = event.jurisdiction_code or ""
    # A subscription receives what happens from its creation on, not the backlog of events
    # that happened before it and that the relay hands on only now.
    subscriptions = [row for row in db.session.scalars(select(WebhookSubscription))
                     if code.startswith(row.jurisdiction_code) and event.type in row.event_types
                     and event.occurred_at >= row.created_at]
    if not subscriptions:
        return 0
    now = clock.now()
    rows = []
    for subscription in subscriptions:
        body = body_for(event, rules.PURPOSES[subscription.purpose])
        rows.append({
            "id": new_id(), "subscription_id": subscription.id, "event_id": str(event.id),
            "event_type": event.type, "aggregate_id": str(event.aggregate_id),
            "sequence": event.sequence,
            "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            "discloses_full_id": rules.discloses_full_id(body["data"]),
            "status": "pending", "attempts": 0, "next_attempt_at": now,
            "retry_window_started_at": None, "created_at": now})
    return len(bulk.insert_ignoring_conflicts(WebhookDelivery, rows, "id"))


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    subscription_id: str
    event_id: str
    url: str
    body: bytes
    signing_secrets: tuple[str, ...]


@dataclass
class Report:
    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    disabled: int = 0
    more_due: bool = False


def _due_query(now: datetime, limit: int):
    earlier = aliased(WebhookDelivery)
    waiting_before = exists().where(and_(
        earlier.subscription_id == WebhookDelivery.subscription_id,
        earlier.aggregate_id == WebhookDelivery.aggregate_id,
        earlier.status == "pending",
        earlier.sequence < WebhookDelivery.sequence))
    query = (select(WebhookDelivery, WebhookSubscription)
             .join(WebhookSubscription,
                   WebhookSubscription.id == WebhookDelivery.subscription_id)
             .where(WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                    WebhookSubscription.is_enabled.is_(True),
                    ~waiting_before)
             .order_by(WebhookDelivery.sequence, WebhookDelivery.id)
             .limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=WebhookDelivery, skip_locked=True)
    return query


CHAIN = 10  # at most this many events of one case sent in a row in one batch


def claim_due(limit: int) -> list[list[Claimed]]:
    """Take up to ``limit`` due deliveries, each the earliest waiting one of its subscription
    and case, and behind each the case's next waiting ones that are due too (up to
    ``CHAIN``, stopping at the first that is not due): a chain sent in order, one after the
    other. Leased, and committed at once so no transaction stays open while they are sent."""
    now = clock.now()
    chains: dict[tuple[str, str], list[Claimed]] = {}
    firsts: dict[tuple[str, str], int] = {}
    signing: dict[str, tuple[str, tuple[str, ...]]] = {}
    for delivery, subscription in db.session.execute(_due_query(now, limit)):
        key = (subscription.id, delivery.aggregate_id)
        signing[subscription.id] = (subscription.url, tuple(rules.secrets_in_force(
            subscription.secret, subscription.previous_secret,
            subscription.previous_secret_until, now)))
        chains[key] = [Claimed(delivery.id, subscription.id, delivery.event_id,
                               subscription.url, delivery.body.encode(),
                               signing[subscription.id][1])]
        firsts[key] = delivery.sequence
    if chains:
        closed: set[tuple[str, str]] = set()
        for row in db.session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.status == "pending",
                       WebhookDelivery.subscription_id.in_({key[0] for key in chains}),
                       WebhookDelivery.aggregate_id.in_({key[1] for key in chains}))
                .order_by(WebhookDelivery.sequence)):
            key = (row.subscription_id, row.aggregate_id)
            if key not in chains or key in closed or row.sequence <= firsts[key]:
                continue
            if row.next_attempt_at is None or row.next_attempt_at > now \
                    or len(chains[key]) >= CHAIN:
                closed.add(key)
                continue
            url, secrets = signing[row.subscription_id]
            chains[key].append(Claimed(row.id, row.subscription_id, row.event_id, url,
                                       row.body.encode(), secrets))
        db.session.execute(update(WebhookDelivery)
                           .where(WebhookDelivery.id.in_([item.delivery_id
                                                          for chain in chains.values()
                                                          for item in chain]))
                           .values(next_attempt_at=now + LEASE))
    db.session.commit()
    return list(chains.values())


def _send_chain(chain: list[Claimed], policy: rules.UrlPolicy, limits: sender.Limits
                ) -> list[tuple[Claimed, sender.Outcome | None]]:
    """Send one case's chain in order; after a failure the rest are not tried (None)."""
    results: list[tuple[Claimed, sender.Outcome | None]] = []
    failed = False
    for item in chain:
        if failed:
            results.append((item, None))
            continue
        outcome = _send(item, policy, limits)
        failed = not outcome.is_delivered
        results.append((item, outcome))
    return results


def _send(item: Claimed, policy: rules.UrlPolicy, limits: sender.Limits) -> sender.Outcome:
    timestamp = int(clock.now().timestamp())
    headers = rules.delivery_headers(item.signing_secrets, item.event_id, timestamp, item.body)
    try:
        return sender.post(item.url, headers, item.body, policy, limits=limits,
                           resolve=_resolver())
    except Exception as failed:  # noqa: BLE001 - a sender bug must fail one delivery, not all
        log.exception("webhook delivery %s failed unexpectedly", item.delivery_id)
        return sender.Outcome("connection_error", None, 0, f"{type(failed).__name__}")


def _resolver():
    from backend.webhooks import service

    return service.resolve


def _limits() -> sender.Limits:
    config = current_app.config
    return sender.Limits(
        connect_timeout=float(config.get("WEBHOOK_CONNECT_TIMEOUT", 3)),
        read_timeout=float(config.get("WEBHOOK_READ_TIMEOUT", 5)),
        total_timeout=float(config.get("WEBHOOK_TOTAL_TIMEOUT", 10)),
        max_body=int(config.get("WEBHOOK_MAX_RESPONSE_BYTES", 4096)))


def _policy() -> rules.UrlPolicy:
    return rules.UrlPolicy(
        allow_http_loopback=bool(current_app.config.get("WEBHOOK_ALLOW_HTTP_LOOPBACK")))


def record(results: list[tuple[Claimed, sender.Outcome | None]], jitter=random.random
           ) -> Report:
    """Write the attempts to the log and move each delivery on: delivered, due again
    after a backoff, or dead-lettered when its 24-hour retry window is over. A subscription
    failing ``WEBHOOK_DISABLE_AFTER_FAILURES`` times in a row is disabled, and its
    administrators get a notice."""
    report = Report()
    if not results:
        return report
    now = clock.now()
    threshold = int(current_app.config.get("WEBHOOK_DISABLE_AFTER_FAILURES",
                                           rules.DISABLE_AFTER_FAILURES))
    deliveries = {row.id: row for row in db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id.in_([c.delivery_id
                                                              for c, _ in results])))}
    subscriptions = {row.id: row for row in db.session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.id.in_(
            {c.subscription_id for c, _ in results})))}
    failures = {key: row.consecutive_failures for key, row in subscriptions.items()}
    attempts: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    disclosed: list[dict[str, Any]] = []
    for item, outcome in sorted(results, key=lambda pair: deliveries[pair[0].delivery_id]
                                .sequence):
        delivery = deliveries[item.delivery_id]
        if outcome is None:
            # Not tried (an earlier event of its case failed): its lease ends; it waits
            # behind that one.
            changes.append({"id": delivery.id, "next_attempt_at": now})
            continue
        number = delivery.attempts + 1
        attempts.append({"delivery_id": delivery.id, "attempt": number, "attempted_at": now,
                         "outcome": outcome.outcome, "status_code": outcome.status_code,
                         "duration_ms": outcome.duration_ms, "error": outcome.error})
        change: dict[str, Any] = {"id": delivery.id, "attempts": number,
                                  "last_status_code": outcome.status_code,
                                  "last_outcome": outcome.outcome}
        window = delivery.retry_window_started_at or now
        change["retry_window_started_at"] = window
        report.attempted += 1
        if outcome.is_delivered:
            report.delivered += 1
            change.update(status="delivered", delivered_at=now, next_attempt_at=None)
            failures[item.subscription_id] = 0
            if delivery.discloses_full_id:
                disclosed.append({
                    "action": "webhook.full_id_disclosed", "object_type": "webhook_delivery",
                    "object_id": delivery.id, "jurisdiction_code":
                        subscriptions[item.subscription_id].jurisdiction_code,
                    "after": {"event_id": delivery.event_id, "event_type": delivery.event_type,
                              "subscription_id": item.subscription_id,
                              "purpose": subscriptions[item.subscription_id].purpose}})
        else:
            report.failed += 1
            failures[item.subscription_id] += 1
            retry_at = rules.next_attempt_at(number, window, now, jitter)
            if retry_at is None:
                report.dead += 1
                change.update(status="dead", next_attempt_at=None)
            else:
                change.update(next_attempt_at=retry_at)
        changes.append(change)
    bulk.insert_rows(WebhookAttempt, attempts)
    db.session.execute(update(WebhookDelivery), changes)
    audit.record_many(disclosed)
    for key, subscription in subscriptions.items():
        values: dict[str, Any] = {"consecutive_failures": failures[key]}
        if subscription.is_enabled and rules.should_disable(failures[key], threshold):
            report.disabled += 1
            values.update(is_enabled=False, disabled_at=now)
            _notify_disabled(subscription, failures[key], now)
        # Core UPDATE: the worker's bookkeeping does not bump the version an
        # administrator edits with (If-Match).
        db.session.execute(update(WebhookSubscription.__table__)
                           .where(WebhookSubscription.__table__.c.id == key).values(**values))
    db.session.commit()
    return report


def _notify_disabled(subscription: WebhookSubscription, failures: int, now: datetime) -> None:
    db.session.execute(insert(WebhookNotice).values(
        id=new_id(), subscription_id=subscription.id,
        jurisdiction_code=subscription.jurisdiction_code, kind="subscription_disabled",
        detail={"consecutive_failures": failures, "url": subscription.url}, created_at=now))
    audit.record("webhook.subscription_disabled", "webhook_subscription", subscription.id,
                 before={"is_enabled": True},
                 after={"is_enabled": False, "consecutive_failures": failures},
                 jurisdiction_code=subscription.jurisdiction_code)
    log.warning("webhook subscription %s disabled after %d failures in a row",
                subscription.id, failures)


def deliver_due(batch_size: int = 100, max_batches: int = 50) -> Report:
    """Send what is due, batch after batch, until nothing is due (or ``max_batches``, so a
    long queue lets other tasks run; ``more_due`` then says to queue another run)."""
    total = Report()
    policy, limits = _policy(), _limits()
    threads = int(current_app.config.get("WEBHOOK_SEND_THREADS", 8))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook") as pool:
        for _ in range(max_batches):
            chains = claim_due(batch_size)
            if not chains:
                return total
            sent = pool.map(lambda chain: _send_chain(chain, policy, limits), chains)
            report = record([pair for chain in sent for pair in chain])
            for name in ("attempted", "delivered", "failed", "dead", "disabled"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
    total.more_due = True
    return total
