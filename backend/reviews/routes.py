import os

from flask import Response, request, stream_with_context

from backend import clock, versions
from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.dbtypes import writes_on_read
from backend.errors import BODY_PROBLEMS, ETAG_HEADER, IF_MATCH_PARAMETER, problems
from backend.privacy.catalogue import EXPORT, FULL_EXPORT
from backend.reviews import dashboard, exports, moves, queue, visit_evidence
from backend.reviews.schemas import (
    ChartQuerySchema,
    CommentCreateSchema,
    CsvExportQuerySchema,
    DashboardQuerySchema,
    DashboardSchema,
    DiffQuerySchema,
    DiffSchema,
    EvidenceSchema,
    ExportQuerySchema,
    QueuePageSchema,
    QueueQuerySchema,
    ReviewSchema,
    TransitionSchema,
)

blp = Blueprint("reviews", __name__, url_prefix="/api/reviews",
                description="Reviewing home visits (初审): the queue, states, comments, diffs")


@blp.route("", methods=["GET"])
@signed_in
@blp.arguments(QueueQuerySchema, location="query")
@blp.response(200, QueuePageSchema)
@problems(401, 403, 422)
def list_reviews(query):
    """The review queue of your area: riskiest first, then oldest; counts per state."""
    return queue.queue(current_caller(), query)


@blp.route("/dashboard", methods=["GET"])
@signed_in
@blp.arguments(DashboardQuerySchema, location="query")
@blp.response(200, DashboardSchema)
@problems(401, 403, 422)
def review_dashboard(query):
    """The supervisors' dashboard, per village and per field worker: visits, median visit
    duration, flags per 100 visits, has-issues rate, overdue and untouched open cases.
    Reviewers and approvers see their township, county supervisors the county; field
    workers 403."""
    return dashboard.dashboard(current_caller(), query)


# An SVG drawn here holds no script and loads nothing; this policy says so to the browser.
SVG_HEADERS = {"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
               "X-Content-Type-Options": "nosniff",
               "Content-Disposition": "inline"}


@blp.route("/dashboard/charts/<string:metric>.svg", methods=["GET"])
@signed_in
@blp.arguments(ChartQuerySchema, location="query")
@blp.alt_response(200, schema={"type": "string"}, content_type="image/svg+xml", success=True,
                  description="A bar chart per village with <title> and <desc>; no script, "
                              "no external font")
@problems(401, 403, 404, 422)
def review_dashboard_chart(query, metric):
    """One dashboard chart as SVG: `flags_per_100_visits`, `has_issues_rate` or
    `untouched_cases` (≥ 30, 60, 120 days), per village, in zh-CN or en."""
    svg = dashboard.dashboard_chart(current_caller(), metric, query["lang"], query)
    return Response(svg, mimetype="image/svg+xml", headers=SVG_HEADERS)


def _download_name(kind: str, extension: str) -> str:
    return f"doorstep-{kind}-{clock.now().astimezone(clock.SHANGHAI):%Y%m%d-%H%M}.{extension}"


@blp.route("/export.csv", methods=["GET"])
@writes_on_read  # audited (who read or downloaded what), so it writes
@signed_in
@blp.arguments(CsvExportQuerySchema, location="query")
@blp.alt_response(200, schema={"type": "string"}, content_type="text/csv", success=True,
                  description="UTF-8 with a byte-order mark (opens in Excel); one row per visit "
                              "(sheet=visits) or per household member (sheet=members)")
@problems(401, 403, 422)
def export_csv(query):
    """The visits the queue's filters select, as CSV, masked (a full export needs an
    approver's `authorisation`, and says so in its first lines); streamed. Text a
    spreadsheet would run as a formula starts with '."""
    caller = current_caller()
    authorised = exports.full_export(caller, query.pop("authorisation"))
    rows = exports.export_visits(caller, query, FULL_EXPORT if authorised else EXPORT)
    exports.record_export(caller, f"csv-{query['sheet']}", query)
    body = exports.csv_chunks(rows, query["sheet"], query["lang"], clock.now(), clock.SHANGHAI,
                              authorised)
    name = _download_name(query["sheet"], "csv")
    return Response(stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/export.xlsx", methods=["GET"])
@writes_on_read  # audited (who read or downloaded what), so it writes
@signed_in
@blp.arguments(ExportQuerySchema, location="query")
@blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type=XLSX,
                  success=True, description="Two sheets: visits (one row each) and members")
@problems(401, 403, 422)
def export_xlsx(query):
    """The visits the queue's filters select, as an Excel workbook with a visits sheet and a
    members sheet, masked (a full export needs an approver's `authorisation`; it adds a
    first sheet and document properties naming who made it, when, and who authorised it).
    Written row by row to a temporary file, then streamed."""
    caller = current_caller()
    authorised = exports.full_export(caller, query.pop("authorisation"))
    rows = exports.export_visits(caller, query, FULL_EXPORT if authorised else EXPORT)
    exports.record_export(caller, "xlsx", query)
    path = exports.write_xlsx(rows, query["lang"], clock.now(), clock.SHANGHAI, authorised)
    name = _download_name("visits", "xlsx")
    return Response(exports.file_chunks(path), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Content-Length": str(os.path.getsize(path))})


@blp.route("/<string:submission_id>", methods=["GET"])
@signed_in
@blp.response(200, ReviewSchema, headers=ETAG_HEADER)
@problems(401, 403, 404)
def get_review(submission_id):
    """A visit's review with its comments; the ETag is its version."""
    caller = current_caller()
    review = queue.get_visible(caller, submission_id)
    return queue.to_view(review, caller), 200, versions.etag(review.version)


@blp.route("/<string:submission_id>/transitions", methods=["POST"])
@signed_in
@blp.arguments(TransitionSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, ReviewSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409, 412, 428)
def move_review(body, submission_id):
    """Approve, reject, send back with issues, or request a re-visit (reviewers)."""
    caller = current_caller()
    review = moves.move(caller, submission_id, request.headers.get("If-Match"), body["to"],
                          body["comments"])
    return queue.to_view(review, caller), 200, versions.etag(review.version)


@blp.route("/<string:submission_id>/comments", methods=["POST"])
@signed_in
@blp.arguments(CommentCreateSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(201, ReviewSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 412, 428)
def comment_review(body, submission_id):
    """Comment on the visit or one field (reviewers, county supervisors)."""
    caller = current_caller()
    review = moves.comment(caller, submission_id, request.headers.get("If-Match"), body)
    return queue.to_view(review, caller), 201, versions.etag(review.version)


@blp.route("/<string:submission_id>/diff", methods=["GET"])
@signed_in
@blp.arguments(DiffQuerySchema, location="query")
@blp.response(200, DiffSchema)
@problems(401, 403, 404, 422)
def diff_review(query, submission_id):
    """Field by field, what changed between two revisions (default: the last two), masked."""
    return visit_evidence.diff(current_caller(), submission_id, query["from_revision"],
                        query["to_revision"])


@blp.route("/<string:submission_id>/evidence", methods=["GET"])
@signed_in
@blp.response(200, EvidenceSchema, headers=ETAG_HEADER)
@problems(401, 403, 404)
def review_evidence(submission_id):
    """The evidence viewer's one call: the review, masked answers, stamps and photos against
    the registered home with distances, attestations, flags with their thresholds and a
    timeline. The ETag is the review's version (send it as If-Match to act)."""
    caller = current_caller()
    body = visit_evidence.evidence(caller, submission_id)
    return body, 200, versions.etag(body["version"])
