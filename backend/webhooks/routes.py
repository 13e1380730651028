from flask import request

from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.errors import BODY_PROBLEMS, ETAG_HEADER, IF_MATCH_PARAMETER, problems
from backend.webhooks import service
from backend.webhooks.catalogue import EVENT_TYPES
from backend.webhooks.rules import PURPOSES
from backend.webhooks.schemas import (
    DeliveryListSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    EventTypeListSchema,
    NoticeListSchema,
    RotateSchema,
    SubscriptionCreateSchema,
    SubscriptionListSchema,
    SubscriptionSchema,
    SubscriptionUpdateSchema,
    SubscriptionWithSecretSchema,
)

blp = Blueprint("webhooks", __name__, url_prefix="/api/webhooks",
                description="Signed webhooks (Standard Webhooks): county and township "
                            "administrators subscribe receivers to events, rotate secrets "
                            "and watch deliveries")


def _view(row, secret=None):
    view = {column: getattr(row, column) for column in (
        "id", "jurisdiction_code", "url", "event_types", "purpose", "description",
        "is_enabled", "consecutive_failures", "disabled_at", "previous_secret_until",
        "created_at", "updated_at", "version")}
    view["waiting"] = service.waiting_counts([row.id]).get(row.id, 0)
    if secret is not None:
        view["secret"] = secret
    return view


def _etag(row):
    return {"ETag": f'"{row.version}"'}


@blp.route("/event-types", methods=["GET"])
@signed_in
@blp.response(200, EventTypeListSchema)
@problems(401)
def event_types():
    """The event types a subscription may name, with their versions and schema names."""
    return {"items": [{"type": event.slug, "version": event.version,
                       "description": event.description, "schema": event.schema_name}
                      for event in EVENT_TYPES.values()], "purposes": sorted(PURPOSES)}


@blp.route("/subscriptions", methods=["GET"])
@signed_in
@blp.response(200, SubscriptionListSchema)
@problems(401, 403)
def list_subscriptions():
    """The subscriptions of your jurisdiction (administrators). Secrets are never listed."""
    rows = service.list_subscriptions(current_caller())
    waiting = service.waiting_counts([row.id for row in rows])
    return {"items": [{**_view(row), "waiting": waiting.get(row.id, 0)} for row in rows]}


@blp.route("/subscriptions", methods=["POST"])
@signed_in
@blp.arguments(SubscriptionCreateSchema)
@blp.response(201, SubscriptionWithSecretSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403)
def create_subscription(body):
    """Subscribe a receiver. The answer holds the signing secret, shown this once. A URL
    that is not https, or whose host is or resolves to a private, loopback, link-local or
    metadata address, is refused: 422 `webhook-url-not-allowed` naming `url`."""
    row, secret = service.create_subscription(current_caller(), body)
    return _view(row, secret), 201, _etag(row)


@blp.route("/subscriptions/<string:subscription_id>", methods=["GET"])
@signed_in
@blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
@problems(401, 403, 404)
def get_subscription(subscription_id):
    """One subscription, with its version as ETag."""
    row = service.get_subscription(current_caller(), subscription_id)
    return _view(row), 200, _etag(row)


@blp.route("/subscriptions/<string:subscription_id>", methods=["PATCH"])
@signed_in
@blp.arguments(SubscriptionUpdateSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 412, 428)
def update_subscription(body, subscription_id):
    """Change the URL, event types, purpose or description, or disable and enable it
    (enabling again sends what waited). Send If-Match with its version."""
    row = service.update_subscription(current_caller(), subscription_id,
                                      request.headers.get("If-Match"), body)
    return _view(row), 200, _etag(row)


@blp.route("/subscriptions/<string:subscription_id>/secret", methods=["POST"])
@signed_in
@blp.arguments(RotateSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, SubscriptionWithSecretSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 412, 428)
def rotate_secret(body, subscription_id):
    """A new signing secret, shown this once; the old one also signs for
    `overlap_hours` (both signatures are sent meanwhile)."""
    row, secret = service.rotate_secret(current_caller(), subscription_id,
                                        request.headers.get("If-Match"), body["overlap_hours"])
    return _view(row, secret), 200, _etag(row)


@blp.route("/subscriptions/<string:subscription_id>/deliveries", methods=["GET"])
@signed_in
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, DeliveryListSchema)
@problems(401, 403, 404, 422)
def list_deliveries(query, subscription_id):
    """The delivery log, newest event first: each delivery with every attempt's outcome,
    response code and duration."""
    found = service.deliveries(current_caller(), subscription_id, query["limit"],
                               query["before_sequence"])
    return {"items": [{**{column: getattr(item["delivery"], column) for column in (
        "id", "event_id", "event_type", "aggregate_id", "sequence", "status", "attempts",
        "next_attempt_at", "last_status_code", "last_outcome", "created_at", "delivered_at")},
        "log": item["attempts"]} for item in found]}


@blp.route("/deliveries/<string:delivery_id>/redeliver", methods=["POST"])
@signed_in
@blp.response(200, DeliverySchema)
@problems(401, 403, 404)
def redeliver(delivery_id):
    """Send a delivery again now, with a fresh 24-hour retry window (the worker's next
    round, within a minute)."""
    delivery = service.redeliver(current_caller(), delivery_id)
    return {column: getattr(delivery, column) for column in (
        "id", "event_id", "event_type", "aggregate_id", "sequence", "status", "attempts",
        "next_attempt_at", "last_status_code", "last_outcome", "created_at", "delivered_at")}


@blp.route("/notices", methods=["GET"])
@signed_in
@blp.response(200, NoticeListSchema)
@problems(401, 403)
def list_notices():
    """What administrators must know: subscriptions disabled after a run of failures."""
    return {"items": service.notices(current_caller())}
