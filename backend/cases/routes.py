from flask import request

from backend import versions
from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.cases import service
from backend.cases.schemas import (
    CaseCreateSchema,
    CasePageSchema,
    CaseQuerySchema,
    CaseSchema,
    CaseUpdateSchema,
    TeamAssignSchema,
    TeamCandidatesSchema,
)
from backend.errors import BODY_PROBLEMS, ETAG_HEADER, IF_MATCH_PARAMETER, problems

blp = Blueprint("cases", __name__, url_prefix="/api/cases",
                description="Applications for assistance")


@blp.route("", methods=["GET"])
@signed_in
@blp.arguments(CaseQuerySchema, location="query")
@blp.response(200, CasePageSchema)
@problems(401, 422)
def list_cases(query):
    """Cases in your jurisdiction; field workers see the cases assigned to them."""
    caller = current_caller()
    rows, total = service.list_visible(caller, query)
    # One views() for the page: its households, places and names in a few queries, not a
    # few per case (issue 23 found 64 statements for a page of 15).
    return {"items": service.views(rows, caller), "total": total,
            "page": query["page"], "page_size": query["page_size"]}


@blp.route("", methods=["POST"])
@signed_in
@blp.arguments(CaseCreateSchema)
@blp.response(201, CaseSchema, headers=ETAG_HEADER)
@blp.alt_response(200, schema=CaseSchema, headers=ETAG_HEADER, success=True,
                  description="A case with this `id` already exists: the retry's answer")
@problems(*BODY_PROBLEMS, 401, 403, 404, 409)
def create_case(body):
    """Accept an application (受理). Retrying with the same `id` is safe."""
    caller = current_caller()
    case, created = service.create(caller, body)
    return service.to_view(case, caller), 201 if created else 200, versions.etag(case.version)


@blp.route("/<string:case_id>", methods=["GET"])
@blp.response(200, CaseSchema, headers=ETAG_HEADER)
@problems(401, 404)
def get_case(case_id):
    """A case with its household and visit team; the ETag is its version."""
    caller = current_caller()
    case = service.get_visible(caller, case_id)
    return service.to_view(case, caller), 200, versions.etag(case.version)


@blp.route("/<string:case_id>", methods=["PATCH"])
@signed_in
@blp.arguments(CaseUpdateSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, CaseSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 412, 428)
def update_case(changes, case_id):
    """Edit a case. Send `If-Match` with the version you read; a stale one gets 412."""
    caller = current_caller()
    case = service.update(caller, case_id, request.headers.get("If-Match"), changes)
    return service.to_view(case, caller), 200, versions.etag(case.version)


@blp.route("/<string:case_id>/team-candidates", methods=["GET"])
@signed_in
@blp.response(200, TeamCandidatesSchema)
@problems(401, 403, 404)
def team_candidates(case_id):
    """Who may visit the household: the township's field workers, how busy each is, who is a
    declared relative (refused, 004), and a suggested team that rotates pairs by village."""
    return service.team_candidates(current_caller(), case_id)


@blp.route("/<string:case_id>/team", methods=["PUT"])
@signed_in
@blp.arguments(TeamAssignSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, CaseSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 412, 428)
def assign_team(body, case_id):
    """Assign the home-visit team: at least two field workers of the township (004)."""
    caller = current_caller()
    case = service.assign_team(caller, case_id, request.headers.get("If-Match"),
                               body["user_ids"])
    return service.to_view(case, caller), 200, versions.etag(case.version)
