from flask_smorest import Blueprint

from backend.auth.guard import current_caller
from backend.visits import queries

blp = Blueprint("visits", __name__, url_prefix="/api/visits",
                description="Home-visit submissions with revisions, flags and attestations")


@blp.route("/<string:submission_id>", methods=["GET"])
def get_visit(submission_id):
    """A visit with every revision, integrity flag and attestation (for reviewers)."""
    caller = current_caller()
    return queries.visit_detail(caller, submission_id)
