"""Web Push subscriptions (RFC 8030): the VAPID public key, subscribing and
unsubscribing a browser, and the targets the reminder job sends to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from backend import clock
from backend.audit import service as audit
from backend.auth.rules import Caller
from backend.bulk import chunks, insert_ignoring_conflicts
from backend.checkins import push_rules
from backend.checkins.models import PushSubscription
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.extensions import db


def push_public_key() -> str:
    """The VAPID public key browsers subscribe with (applicationServerKey); push is on only
    when the key pair and the subject are all configured."""
    config = current_app.config
    if not (config.get("VAPID_PUBLIC_KEY") and config.get("VAPID_PRIVATE_KEY")
            and config.get("VAPID_SUBJECT")):
        raise ProblemError("push-not-configured", "This server sends no push notifications; "
                           "reminders come by SMS.")
    return config["VAPID_PUBLIC_KEY"]


def _subscription_view(row: PushSubscription) -> dict:
    return {"id": row.id, "endpoint_host": urlsplit(row.endpoint).hostname or "",
            "created_at": row.created_at}


def subscribe_push(caller: Caller, endpoint: str, p256dh: str, auth: str) -> tuple[dict, bool]:
    """Keep this browser's subscription for the caller (a recipient gets their reminders on
    it). Idempotent by endpoint: a replay answers the same subscription; new keys for a known
    endpoint replace the old ones. Answers the view and whether it is new."""
    push_public_key()
    problem = push_rules.endpoint_problem(
        endpoint, push_rules.parse_host_patterns(current_app.config["PUSH_SERVICE_HOSTS"]))
    if problem:
        raise ProblemError("push-endpoint-not-allowed", f"The push endpoint {problem}; "
                           "subscribe again from the phone's browser.", {"endpoint": [problem]})
    errors = push_rules.key_problems(p256dh, auth)
    if errors:
        raise ProblemError("validation-failed", "The subscription's keys are not valid; "
                           "subscribe again from the phone's browser.", errors)
    inserted = insert_ignoring_conflicts(PushSubscription, [{
        "id": new_id(), "user_id": caller.user_id, "endpoint": endpoint, "p256dh": p256dh,
        "auth": auth, "created_at": clock.now()}], "id")
    row = db.session.scalar(select(PushSubscription).where(
        PushSubscription.user_id == caller.user_id, PushSubscription.endpoint == endpoint))
    assert row is not None
    host = urlsplit(endpoint).hostname
    # The endpoint is a capability (whoever holds it can message the phone): the audit
    # trail names its push service only.
    if inserted:
        audit.record("checkin.push_subscribed", "push_subscription", row.id,
                     after={"push_service": host}, jurisdiction_code=caller.jurisdiction_code)
    elif (row.p256dh, row.auth) != (p256dh, auth):
        row.p256dh, row.auth = p256dh, auth
        audit.record("checkin.push_keys_renewed", "push_subscription", row.id,
                     after={"push_service": host}, jurisdiction_code=caller.jurisdiction_code)
    db.session.flush()
    return _subscription_view(row), bool(inserted)


def unsubscribe_push(caller: Caller, subscription_id: str) -> None:
    """Forget one of the caller's own subscriptions; anyone else's is 404."""
    row = db.session.scalar(select(PushSubscription).where(
        PushSubscription.id == subscription_id, PushSubscription.user_id == caller.user_id))
    if row is None:
        raise ProblemError("push-subscription-not-found", "No such push subscription of yours.")
    audit.record("checkin.push_unsubscribed", "push_subscription", row.id,
                 before={"push_service": urlsplit(row.endpoint).hostname},
                 jurisdiction_code=caller.jurisdiction_code)
    db.session.delete(row)
    db.session.flush()


@dataclass(frozen=True)
class PushTarget:
    """A subscription to send to, as pywebpush reads it (``subscription_info``)."""

    id: str
    user_id: str
    endpoint: str
    p256dh: str
    auth: str

    def subscription_info(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def push_targets(user_ids: Iterable[str]) -> dict[str, list[PushTarget]]:
    """The live subscriptions of these users, by user."""
    found: dict[str, list[PushTarget]] = {}
    for chunk in chunks(user_ids):
        for row in db.session.scalars(select(PushSubscription).where(
                PushSubscription.user_id.in_(chunk)).order_by(PushSubscription.created_at)):
            found.setdefault(row.user_id, []).append(PushTarget(
                row.id, row.user_id, row.endpoint, row.p256dh, row.auth))
    return found


def forget_gone_push_target(target: PushTarget, status: int) -> None:
    """The push service answered 404/410: the subscription expired or was revoked."""
    row = db.session.get(PushSubscription, target.id)
    if row is None:
        return
    audit.record("checkin.push_subscription_gone", "push_subscription", row.id,
                 before={"push_service": urlsplit(row.endpoint).hostname},
                 after={"status": status})
    db.session.delete(row)
    db.session.flush()
