from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.auth.guard import current_caller
from backend.sync import service
from backend.sync.registry import SyncRegistry

blp = Blueprint("sync", __name__, url_prefix="/api/sync",
                description="Offline sync: pull assignments, push visits "
                            "(see docs/sync-contract.md)")


class PullQuerySchema(Schema):
    cursor = fields.String(load_default=None, validate=validate.Length(max=600))


class PushSchema(Schema):
    device_id = fields.String(load_default=None, validate=validate.Length(max=64))
    sent_at = fields.AwareDateTime(load_default=None)
    # Records are checked one by one in the service, so one bad record cannot sink the batch.
    records = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1, max=2000))


class PushResultSchema(Schema):
    results = fields.List(fields.Dict())


@blp.route("/pull", methods=["GET"])
@blp.arguments(PullQuerySchema, location="query")
def pull(query):
    """Assignments, households, forms and settings changed since `cursor`.

    Returned as plain JSON (not through a schema) to keep a no-change pull tiny.
    """
    caller = current_caller()
    return service.pull(_registry(), caller, query["cursor"],
                        current_app.config["SYNC_PAGE_SIZE"])


@blp.route("/push", methods=["POST"])
@blp.arguments(PushSchema)
@blp.response(200, PushResultSchema)
def push(body):
    """A batch of device records; each answered `accepted`, `duplicate` or `rejected`."""
    caller = current_caller()
    device_id = body["device_id"] or request.headers.get("X-Device-Id")
    return {"results": service.push(_registry(), caller, device_id, body["sent_at"],
                                    body["records"])}


def _registry() -> SyncRegistry:
    return current_app.extensions["doorstep.sync"]
