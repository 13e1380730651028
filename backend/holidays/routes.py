from datetime import date

from backend.auth import rules as roles
from backend.auth.guard import current_caller, require_roles, signed_in
from backend.blueprint import Blueprint
from backend.errors import BODY_PROBLEMS, ProblemError, problems
from backend.holidays import service
from backend.holidays.schemas import (
    HolidayOverrideSchema,
    HolidayOverrideSetSchema,
    HolidayQuerySchema,
)

blp = Blueprint("holidays", __name__, url_prefix="/api/holidays",
                description="Public holidays and make-up workdays entered by administrators; "
                            "they override the chinese-calendar package in deadlines")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as bad:
        raise ProblemError("validation-failed", "The day must be a date like 2027-02-06.",
                           {"day_on": ["must be YYYY-MM-DD"]}) from bad


@blp.route("", methods=["GET"])
@signed_in
@blp.arguments(HolidayQuerySchema, location="query")
@blp.response(200, HolidayOverrideSchema(many=True))
@problems(401, 403, 422)
def list_days(query):
    """The entered days, optionally of one year (administrators)."""
    require_roles(current_caller(), roles.ADMIN)
    return service.list_days(query["year"])


@blp.route("/<string:day_on>", methods=["PUT"])
@signed_in
@blp.arguments(HolidayOverrideSetSchema)
@blp.response(200, HolidayOverrideSchema, description="The day was already entered")
@blp.alt_response(201, schema=HolidayOverrideSchema, description="The day is new")
@problems(*BODY_PROBLEMS, 401, 403)
def set_day(body, day_on):
    """Mark a day as a public holiday or a make-up workday (county administrators)."""
    row, created = service.set_day(current_caller(), _day(day_on), body["is_working_day"],
                                   body["note"])
    return row, 201 if created else 200


@blp.route("/<string:day_on>", methods=["DELETE"])
@signed_in
@blp.response(204)
@problems(401, 403, 404, 422)
def remove_day(day_on):
    """Remove a day; the package's schedule applies to it again (county administrators)."""
    service.remove_day(current_caller(), _day(day_on))
