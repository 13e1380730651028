from backend.auth.guard import current_caller
from backend.blueprint import Blueprint
from backend.errors import problems
from backend.visits import queries
from backend.visits.schemas import VisitDetailSchema

blp = Blueprint("visits", __name__, url_prefix="/api/visits",
                description="Home-visit submissions with revisions, flags and attestations")


@blp.route("/<string:submission_id>", methods=["GET"])
@blp.response(200, VisitDetailSchema)
@problems(401, 404)
def get_visit(submission_id):
    """A visit with every revision, integrity flag and attestation (for reviewers)."""
    caller = current_caller()
    return queries.visit_detail(caller, submission_id)
