"""Subscriptions: what a county or township administrator sets up, rotates and watches.

Every change is audited in its own transaction; the secret is in the answer of the call
that made it and nowhere else (never in a list, never in an audit row).
"""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.extensions import db
from backend.jurisdictions import rules as places
from backend.webhooks import rules
from backend.webhooks.catalogue import EVENT_TYPES
from backend.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookNotice,
    WebhookSubscription,
)

# The DNS lookup, replaceable in tests (a rebinding name answers differently each time).
resolve = socket.getaddrinfo


def url_policy() -> rules.UrlPolicy:
    return rules.UrlPolicy(
        allow_http_loopback=bool(current_app.config.get("WEBHOOK_ALLOW_HTTP_LOOPBACK")))


def _refused(detail: str) -> ProblemError:
    return ProblemError("webhook-url-not-allowed", f"This URL may not receive deliveries: "
                        f"{detail}.", {"url": [detail]})


def check_url(url: str) -> None:
    """Refuse a URL that is not https (in production), or whose host is or resolves to
    an address that is not on the public internet. The sender checks again, at every
    connection, against the address it actually connects to."""
    policy = url_policy()
    try:
        target = rules.parse_url(url, policy)
    except rules.RefusedUrl as refused:
        raise _refused(str(refused)) from refused
    try:
        infos = resolve(target.host, target.port, type=socket.SOCK_STREAM)
    except OSError as failed:
        raise _refused("the host name does not resolve") from failed
    for info in infos:
        reason = rules.address_refusal(str(info[4][0]), policy)
        if reason:
            raise _refused(f"{target.host} resolves to {reason}")


def _require_admin_of(caller: Caller, code: str) -> None:
    if not caller.has(roles.ADMIN):
        raise ProblemError("forbidden", "Only county or township administrators manage "
                                        "webhooks.")
    if not caller.covers(code):
        raise ProblemError("outside-jurisdiction", f"{code} is outside your jurisdiction.",
                           {"jurisdiction_code": ["outside your jurisdiction"]})
    if places.level_of(code) not in ("county", "township"):
        raise ProblemError("validation-failed", "A subscription belongs to a county or a "
                           "township.", {"jurisdiction_code": ["a county or township code"]})


def _check_event_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise ProblemError("validation-failed", f"Unknown event types: {', '.join(unknown)}.",
                           {"event_types": [f"unknown: {', '.join(unknown)}"]})
    return sorted(set(event_types))


def _audited(row: WebhookSubscription) -> dict[str, Any]:
    """What the audit keeps of a subscription: never the secret."""
    return {"url": row.url, "event_types": list(row.event_types), "purpose": row.purpose,
            "jurisdiction_code": row.jurisdiction_code, "is_enabled": row.is_enabled,
            "description": row.description}


def create_subscription(caller: Caller, fields: dict[str, Any]
                        ) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (shown this once)."""
    code = fields.get("jurisdiction_code") or caller.jurisdiction_code
    _require_admin_of(caller, code)
    event_types = _check_event_types(fields["event_types"])
    check_url(fields["url"])
    now = clock.now()
    secret = rules.new_secret()
    row = WebhookSubscription(
        id=new_id(), jurisdiction_code=code, url=fields["url"], event_types=event_types,
        purpose=fields["purpose"], description=fields.get("description"), secret=secret,
        is_enabled=True, consecutive_failures=0, created_at=now, created_by_id=caller.user_id,
        updated_at=now)
    db.session.add(row)
    db.session.flush()
    after = _audited(row)
    if rules.PURPOSES[row.purpose].disclosure.full_id:
        after["discloses_full_id"] = True
    audit.record("webhook.subscription_created", "webhook_subscription", row.id, after=after,
                 jurisdiction_code=code)
    return row, secret


def list_subscriptions(caller: Caller) -> list[WebhookSubscription]:
    if not caller.has(roles.ADMIN):
        raise ProblemError("forbidden", "Only county or township administrators manage "
                                        "webhooks.")
    from backend.jurisdictions.scope import within

    return list(db.session.scalars(
        select(WebhookSubscription)
        .where(within(WebhookSubscription.jurisdiction_code, caller))
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)))


def get_subscription(caller: Caller, subscription_id: str) -> WebhookSubscription:
    row = db.session.get(WebhookSubscription, subscription_id)
    if row is None or not caller.covers(row.jurisdiction_code):
        raise ProblemError("webhook-subscription-not-found")
    _require_admin_of(caller, row.jurisdiction_code)
    return row


def _check_version(row: WebhookSubscription, if_match: str | None) -> None:
    if not if_match:
        raise ProblemError("precondition-required", "Send If-Match with the subscription's "
                           "version (from its ETag).", extra={"current_version": row.version})
    if if_match.strip().removeprefix("W/").strip('"') != str(row.version):
        raise ProblemError("stale-version", "Someone changed this subscription after you "
                           "opened it. Reload it, then apply your change again.",
                           extra={"current_version": row.version})


def update_subscription(caller: Caller, subscription_id: str, if_match: str | None,
                        changes: dict[str, Any]) -> WebhookSubscription:
    """Change the URL, event types, purpose, description or whether it is enabled.
    Enabling it again (after an automatic disable) makes what waited due at once."""
    row = get_subscription(caller, subscription_id)
    _check_version(row, if_match)
    before = _audited(row)
    if "url" in changes and changes["url"] != row.url:
        check_url(changes["url"])
        row.url = changes["url"]
    if "event_types" in changes:
        row.event_types = _check_event_types(changes["event_types"])
    for name in ("purpose", "description"):
        if name in changes:
            setattr(row, name, changes[name])
    now = clock.now()
    if "is_enabled" in changes and changes["is_enabled"] != row.is_enabled:
        row.is_enabled = changes["is_enabled"]
        if row.is_enabled:
            row.consecutive_failures = 0
            row.disabled_at = None
            db.session.execute(update(WebhookDelivery).where(
                WebhookDelivery.subscription_id == row.id,
                WebhookDelivery.status == "pending").values(next_attempt_at=now))
        else:
            row.disabled_at = now
    row.updated_at = now
    db.session.flush()
    was, now_is = audit.changed_fields(before, _audited(row))
    audit.record("webhook.subscription_changed", "webhook_subscription", row.id, before=was,
                 after=now_is, jurisdiction_code=row.jurisdiction_code)
    return row


def rotate_secret(caller: Caller, subscription_id: str, if_match: str | None,
                  overlap_hours: int) -> tuple[WebhookSubscription, str]:
    """A new secret (shown this once); the old one also signs for ``overlap_hours``, so the
    receiver can switch without losing a delivery (both signatures are sent meanwhile)."""
    row = get_subscription(caller, subscription_id)
    _check_version(row, if_match)
    now = clock.now()
    secret = rules.new_secret()
    row.previous_secret = row.secret if overlap_hours > 0 else None
    row.previous_secret_until = now + timedelta(hours=overlap_hours) if overlap_hours else None
    row.secret = secret
    row.updated_at = now
    db.session.flush()
    audit.record("webhook.secret_rotated", "webhook_subscription", row.id,
                 after={"overlap_until": row.previous_secret_until.isoformat()
                        if row.previous_secret_until else None},
                 jurisdiction_code=row.jurisdiction_code)
    return row, secret


def deliveries(caller: Caller, subscription_id: str, limit: int = 50,
               before_sequence: int | None = None) -> list[dict[str, Any]]:
    """The delivery log, newest first: each delivery with its attempts."""
    row = get_subscription(caller, subscription_id)
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == row.id)
    if before_sequence is not None:
        query = query.where(WebhookDelivery.sequence < before_sequence)
    items = list(db.session.scalars(
        query.order_by(WebhookDelivery.sequence.desc(), WebhookDelivery.id).limit(limit)))
    attempts: dict[str, list[WebhookAttempt]] = {item.id: [] for item in items}
    if items:
        for attempt in db.session.scalars(
                select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(list(attempts)))
                .order_by(WebhookAttempt.attempt)):
            attempts[attempt.delivery_id].append(attempt)
    return [{"delivery": item, "attempts": attempts[item.id]} for item in items]


def redeliver(caller: Caller, delivery_id: str) -> WebhookDelivery:
    """Send a delivery again now (a dead-lettered one, or one delivered that the receiver
    lost), with a fresh 24-hour retry window."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise ProblemError("webhook-delivery-not-found")
    subscription = db.session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None or not caller.covers(subscription.jurisdiction_code):
        raise ProblemError("webhook-delivery-not-found")
    _require_admin_of(caller, subscription.jurisdiction_code)
    now = clock.now()
    before = {"status": delivery.status, "attempts": delivery.attempts}
    delivery.status = "pending"
    delivery.next_attempt_at = now
    delivery.retry_window_started_at = now
    db.session.flush()
    audit.record("webhook.redelivery_requested", "webhook_delivery", delivery.id,
                 before=before, after={"status": "pending", "event_id": delivery.event_id},
                 jurisdiction_code=subscription.jurisdiction_code)
    return delivery


def notices(caller: Caller) -> list[WebhookNotice]:
    if not caller.has(roles.ADMIN):
        raise ProblemError("forbidden", "Only county or township administrators manage "
                                        "webhooks.")
    from backend.jurisdictions.scope import within

    return list(db.session.scalars(
        select(WebhookNotice).where(within(WebhookNotice.jurisdiction_code, caller))
        .order_by(WebhookNotice.created_at.desc()).limit(50)))


def waiting_counts(subscription_ids: list[str]) -> dict[str, int]:
    """How many deliveries of each subscription wait (pending), for the list."""
    if not subscription_ids:
        return {}
    rows = db.session.execute(
        select(WebhookDelivery.subscription_id, func.count())
        .where(WebhookDelivery.subscription_id.in_(subscription_ids),
               WebhookDelivery.status == "pending")
        .group_by(WebhookDelivery.subscription_id))
    return {subscription_id: count for subscription_id, count in rows}
