from flask import current_app, jsonify, request

from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.dbtypes import reads_first
from backend.errors import BODY_PROBLEMS, problems
from backend.sync import service
from backend.sync.registry import SyncRegistry
from backend.sync.schemas import (
    PullQuerySchema,
    PushResultSchema,
    PushSchema,
    pull_schema_for,
    push_results_dumped,
)


def make_blueprint(registry: SyncRegistry) -> Blueprint:
    """The sync routes of one app: the pull's answer schema is what its providers declared."""
    blp = Blueprint("sync", __name__, url_prefix="/api/sync",
                    description="Offline sync: pull assignments, push visits "
                                "(see docs/sync-contract.md)")

    @blp.route("/pull", methods=["GET"])
    @signed_in
    @blp.arguments(PullQuerySchema, location="query")
    @blp.response(200, pull_schema_for(registry))
    @problems(401, 422)
    def pull(query):
        """Assignments, households, forms and settings changed since `cursor`."""
        caller = current_caller()
        return service.pull(registry, caller, query["cursor"],
                            current_app.config["SYNC_PAGE_SIZE"])

    @blp.route("/push", methods=["POST"])
    @reads_first  # a replay is answered from reads alone (service.push calls start_writing)
    @signed_in
    @blp.arguments(PushSchema)
    @blp.response(200, PushResultSchema)
    @problems(*BODY_PROBLEMS, 401)
    def push(body):
        """A batch of device records; each answered `accepted`, `duplicate` or `rejected`."""
        caller = current_caller()
        device_id = body["device_id"] or request.headers.get("X-Device-Id")
        # A NUL reaches a parsed string only through the escape \u0000 (JSON text cannot
        # hold the byte raw): a body without it spares every record the scan.
        data = request.get_data(cache=True)
        may_hold_nul = b"\\u0000" in data or b"\x00" in data
        # The request wrote nothing before: a push of one record needs no SAVEPOINT.
        results = service.push(registry, caller, device_id, body["sent_at"], body["records"],
                               may_hold_nul, owns_transaction=True)
        # The answer is PushResultSchema's document, dumped without its per-field walk where
        # a result is in that form already (push_results_dumped); a Response is sent as it is.
        return jsonify({"results": push_results_dumped(results)})

    return blp

