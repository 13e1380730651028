from flask import request

from backend import versions
from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.errors import BODY_PROBLEMS, ETAG_HEADER, IF_MATCH_PARAMETER, problems
from backend.households import service
from backend.households.schemas import (
    HouseholdCreateSchema,
    HouseholdPageSchema,
    HouseholdQuerySchema,
    HouseholdSchema,
    RelativeOfStaffSchema,
)

blp = Blueprint("households", __name__, url_prefix="/api/households",
                description="Households and their members")


@blp.route("", methods=["GET"])
@signed_in
@blp.arguments(HouseholdQuerySchema, location="query")
@blp.response(200, HouseholdPageSchema)
@problems(401, 422)
def list_households(query):
    """Households in your jurisdiction (field workers: those of their assigned cases)."""
    caller = current_caller()
    rows, total = service.list_visible(caller, query["village"], query["q"], query["page"],
                                       query["page_size"])
    views = service.views(rows, caller)  # the page's places in one query, not one per row
    return {"items": [views[h.id] for h in rows], "total": total,
            "page": query["page"], "page_size": query["page_size"]}


@blp.route("", methods=["POST"])
@signed_in
@blp.arguments(HouseholdCreateSchema)
@blp.response(201, HouseholdSchema)
@blp.alt_response(200, schema=HouseholdSchema, success=True,
                  description="A household with this `id` already exists: the retry's answer")
@problems(*BODY_PROBLEMS, 401, 403, 404, 409)
def create_household(body):
    """Register a household with its members. Retrying with the same `id` is safe."""
    caller = current_caller()
    household, created = service.create(caller, body)
    return service.to_view(household, caller), 201 if created else 200


@blp.route("/<string:household_id>", methods=["GET"])
@blp.response(200, HouseholdSchema, headers=ETAG_HEADER)
@problems(401, 404)
def get_household(household_id):
    """A household with its members; the ETag is its version."""
    caller = current_caller()
    household = service.get_visible(caller, household_id)
    return service.to_view(household, caller), 200, versions.etag(household.version)


@blp.route("/<string:household_id>/relative-of-staff", methods=["PUT"])
@signed_in
@blp.arguments(RelativeOfStaffSchema)
@blp.response(200, HouseholdSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@problems(*BODY_PROBLEMS, 401, 403, 404, 412, 428)
def set_relative_of_staff(body, household_id):
    """Declare or withdraw, after registration, that the household is a close relative of
    staff (近亲属备案, 004); If-Match the household's version; audited."""
    caller = current_caller()
    household = service.set_relative_of_staff(caller, household_id,
                                              request.headers.get("If-Match"), body)
    return service.to_view(household, caller), 200, versions.etag(household.version)
