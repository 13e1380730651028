"""Complaints and reports (举报): the public form's two endpoints (no sign-in, rate limited,
no address kept) and the desk's, plus the public page itself."""

from __future__ import annotations

import time
from functools import wraps

from flask import Blueprint as FlaskBlueprint
from flask import current_app, render_template, request
from flask_limiter import RequestLimit
from werkzeug.exceptions import RequestEntityTooLarge

from backend.audit.actor import bind_anonymous_without_network
from backend.auth import throttle
from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.complaints import page_words, service
from backend.complaints.schemas import (
    AnswerSchema,
    AssignSchema,
    CandidateListSchema,
    ComplaintListSchema,
    ComplaintQuerySchema,
    ComplaintSchema,
    FindingSchema,
    LinkSchema,
    PublicComplaintSchema,
    ReceiptSchema,
    ReporterSchema,
    StaffComplaintSchema,
    TownshipListSchema,
    VerifySchema,
)
from backend.dbtypes import writes_on_read
from backend.errors import (
    BODY_PROBLEMS,
    ETAG_HEADER,
    IF_MATCH_PARAMETER,
    ProblemError,
    problem_response,
    problems,
)

blp = Blueprint("complaints", __name__, url_prefix="/api",
                description="Complaints and reports (举报, 004/002): the public form, the "
                            "desk's handling, verification, finding and reply")
# The public form is a page anyone opens (no sign-in), outside the PWA's shell.
pages = FlaskBlueprint("complaint_pages", __name__)

# The public form's body is small: a few texts of bounded length.
PUBLIC_BODY_MAX_BYTES = 16 * 1024


def _public_limit() -> str:
    return current_app.config.get("COMPLAINT_LIMIT_PER_CLIENT", "5 per 10 minutes")


def _on_breach(limit: RequestLimit):
    seconds = max(1, int(limit.reset_at - time.time()) + 1)
    return problem_response("too-many-requests",
                            f"Too many reports from here. Try again in {(seconds + 59) // 60} "
                            "minutes.", extra={"retry_after_seconds": seconds},
                            headers={"Retry-After": str(seconds)})


def _anonymous(view):
    """The public endpoints: bounded body, and audit rows that keep no address (the
    limiter alone holds the client's address, for its window only)."""

    @wraps(view)
    def public(*args, **kwargs):
        bind_anonymous_without_network()
        if (request.content_length or 0) > PUBLIC_BODY_MAX_BYTES:
            # The generic 413 (the problem catalogue's body-too-large), as any route answers.
            raise RequestEntityTooLarge(f"A report is at most {PUBLIC_BODY_MAX_BYTES // 1024} KB.")
        return view(*args, **kwargs)

    return public


@pages.get("/report")
def report_page():
    """The public report form (举报), Chinese first, usable on a small phone."""
    lang = "en" if request.args.get("lang") == "en" else "zh-CN"
    return render_template("report.html", asset_version=current_app.config["ASSET_VERSION"],
                           lang=lang, w=page_words.WORDS[lang],
                           reply_channels=page_words.REPLY_CHANNELS_SHOWN)


@blp.route("/public/complaint-townships", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, TownshipListSchema)
@problems()
def public_townships():
    """The townships a report may be addressed to (public: names only)."""
    return {"items": service.townships()}


@blp.route("/public/complaints", methods=["POST"])
@blp.doc(security=[])
@throttle.limiter.limit(_public_limit, on_breach=_on_breach, scope="public-complaint")
@_anonymous
@blp.arguments(PublicComplaintSchema)
@blp.response(201, ReceiptSchema)
@blp.alt_response(200, schema=ReceiptSchema, success=True,
                  description="A report with this `id` was filed already: the resend's answer")
@problems(*BODY_PROBLEMS, 429)
def file_public(body):
    """File a report without signing in; anonymous reports are allowed. Answers the number
    to quote. Over-long fields and control characters are 422, a body over 16 KB 413, a body
    that is not JSON 415/400; floods from one client 429. Nothing is stored half."""
    body["id"] = str(body["id"])
    complaint, created = service.file_public(body)
    return _receipt(complaint), 201 if created else 200


def _receipt(complaint):
    return {"id": complaint.id, "number": complaint.number,
            "received_at": complaint.received_at, "reply_due_on": complaint.reply_due_on}


def _one(complaint, status: int = 200):
    caller = current_caller()
    view = service.views(caller, [complaint], with_visits=True)[0]
    return view, status, {"ETag": f'"{complaint.version}"'}


@blp.route("/complaints", methods=["GET"])
@signed_in
@blp.arguments(ComplaintQuerySchema, location="query")
@blp.response(200, ComplaintListSchema)
@problems(401, 422)
def list_complaints(query):
    """Complaints of the caller's area (the county sees every township's), newest first;
    ``is_overdue`` keeps those with a step past its due date."""
    unknown = sorted(set(request.args) - set(ComplaintQuerySchema().fields))
    if unknown:  # a misspelt filter must not silently list everything
        raise ProblemError("validation-failed", "Unknown query parameters.",
                           {name[:40]: ["Unknown field."] for name in unknown})
    caller = current_caller()
    found = service.list_visible(caller, query)
    return {"items": service.views(caller, found), "summary": service.summary(caller)}


@blp.route("/complaints", methods=["POST"])
@signed_in
@blp.arguments(StaffComplaintSchema)
@blp.response(201, ComplaintSchema, headers=ETAG_HEADER)
@blp.alt_response(200, schema=ComplaintSchema, headers=ETAG_HEADER, success=True,
                  description="A complaint with this `id` exists: the retry's answer")
@problems(*BODY_PROBLEMS, 401, 403, 404)
def enter_complaint(body):
    """Enter a report taken by box, phone, e-mail, WeChat or at the window."""
    body["id"] = str(body["id"])
    complaint, created = service.file_by_staff(current_caller(), body)
    return _one(complaint, 201 if created else 200)


@blp.route("/complaints/<string:complaint_id>", methods=["GET"])
@signed_in
@blp.response(200, ComplaintSchema, headers=ETAG_HEADER)
@problems(401, 404)
def get_complaint(complaint_id):
    return _one(service.get_visible(current_caller(), complaint_id))


@blp.route("/complaints/<string:complaint_id>/reporter", methods=["GET"])
@writes_on_read  # audited (who read or downloaded what), so it writes
@signed_in
@blp.response(200, ReporterSchema)
@problems(401, 403, 404)
def get_reporter(complaint_id):
    """Who reported: the named handler and the county supervisor only; each reading is
    audited (``complaint.reporter_viewed``)."""
    return service.reporter(current_caller(), complaint_id)


@blp.route("/complaints/<string:complaint_id>/handler-candidates", methods=["GET"])
@signed_in
@blp.response(200, CandidateListSchema)
@problems(401, 404)
def handler_candidates(complaint_id):
    return {"items": [{"id": c.id, "display_name": c.display_name, "roles": list(c.roles)}
                      for c in service.handler_candidates(current_caller(), complaint_id)]}


def _step(name: str, schema, use_case, doc: str):
    @blp.route(f"/complaints/<string:complaint_id>/{name}", methods=["POST"],
               endpoint=f"complaint_{name}")
    @signed_in
    @blp.arguments(schema)
    @blp.doc(parameters=[IF_MATCH_PARAMETER], description=doc)
    @blp.response(200, ComplaintSchema, headers=ETAG_HEADER)
    @problems(*BODY_PROBLEMS, 401, 403, 404, 409, 412, 428)
    def step(body, complaint_id):
        return _one(use_case(current_caller(), complaint_id, request.headers.get("If-Match"),
                             body))

    return step


_step("assign", AssignSchema,
      lambda caller, cid, if_match, body: service.assign(caller, cid, if_match,
                                                         body["handler_id"]),
      "Name the handler (专人负责, 004): township office staff do it.")
_step("link", LinkSchema,
      lambda caller, cid, if_match, body: service.link(caller, cid, if_match, body["case_id"],
                                                       body["case_no"]),
      "Link the case (and household) the report is about.")
_step("verifications", VerifySchema, service.verify,
      "Record a verification: home visit (a complete visit of the linked case), system "
      "comparison or phone. The handler only.")
_step("finding", FindingSchema, service.find,
      "Record the finding; a substantiated one may open a periodic review or a stop of the "
      "linked case (the workflow's guards apply). 422 complaint-not-verified before any "
      "verification.")
_step("reply", AnswerSchema, service.answer,
      "Record the reply sent through the reporter's channel; the report is answered.")
