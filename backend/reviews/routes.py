from flask import request
from flask_smorest import Blueprint

from backend.auth.guard import current_caller, signed_in
from backend.errors import BODY_PROBLEMS, ETAG_HEADER, IF_MATCH_PARAMETER, problems
from backend.reviews import service
from backend.reviews.schemas import (
    CommentCreateSchema,
    DiffQuerySchema,
    DiffSchema,
    EvidenceSchema,
    QueuePageSchema,
    QueueQuerySchema,
    ReviewSchema,
    TransitionSchema,
)

blp = Blueprint("reviews", __name__, url_prefix="/api/reviews",
                description="Reviewing home visits (初审): the queue, states, comments, diffs")


def _etag(review) -> dict:
    return {"ETag": f'"{review.version}"'}


@blp.route("", methods=["GET"])
@signed_in
@blp.arguments(QueueQuerySchema, location="query")
@blp.response(200, QueuePageSchema)
@problems(401, 403, 422)
def list_reviews(query):
    """The review queue of your area: riskiest first, then oldest; counts per state."""
    return service.queue(current_caller(), query)


@blp.route("/<string:submission_id>", methods=["GET"])
@signed_in
@blp.response(200, ReviewSchema, headers=ETAG_HEADER)
@problems(401, 403, 404)
def get_review(submission_id):
    """A visit's review with its comments; the ETag is its version."""
    caller = current_caller()
    review = service.get_visible(caller, submission_id)
    return service.to_view(review, caller), 200, _etag(review)


@blp.route("/<string:submission_id>/transitions", methods=["POST"])
@signed_in
@blp.arguments(TransitionSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, ReviewSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409, 412, 428)
def move_review(body, submission_id):
    """Approve, reject, send back with issues, or request a re-visit (reviewers)."""
    caller = current_caller()
    review = service.move(caller, submission_id, request.headers.get("If-Match"), body["to"],
                          body["comments"])
    return service.to_view(review, caller), 200, _etag(review)


@blp.route("/<string:submission_id>/comments", methods=["POST"])
@signed_in
@blp.arguments(CommentCreateSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(201, ReviewSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 412, 428)
def comment_review(body, submission_id):
    """Comment on the visit or one field (reviewers, county supervisors)."""
    caller = current_caller()
    review = service.comment(caller, submission_id, request.headers.get("If-Match"), body)
    return service.to_view(review, caller), 201, _etag(review)


@blp.route("/<string:submission_id>/diff", methods=["GET"])
@signed_in
@blp.arguments(DiffQuerySchema, location="query")
@blp.response(200, DiffSchema)
@problems(401, 403, 404, 422)
def diff_review(query, submission_id):
    """Field by field, what changed between two revisions (default: the last two), masked."""
    return service.diff(current_caller(), submission_id, query["from_revision"],
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
    body = service.evidence(caller, submission_id)
    return body, 200, {"ETag": f'"{body["version"]}"'}
