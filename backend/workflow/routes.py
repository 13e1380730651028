from flask import Blueprint as FlaskBlueprint
from flask import Response, jsonify, request

from backend import versions
from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.cases import service as cases
from backend.documents import service as documents
from backend.errors import BODY_PROBLEMS, ETAG_HEADER, IF_MATCH_PARAMETER, problems
from backend.workflow import (
    allowances,
    case_view,
    due,
    notices,
    panel,
    paperwork,
    payment_files,
    payments,
    periodic_reviews,
    special_cases,
    spot_checks,
    transitions,
)
from backend.workflow.schemas import (
    DOCUMENT_KINDS,
    TASK_NAMES,
    ApplicationSchema,
    CaseTransitionSchema,
    DocumentQuerySchema,
    DrawCreateSchema,
    DrawQuerySchema,
    DrawSchema,
    DueQuerySchema,
    DueSchema,
    EconomicCheckSchema,
    PanelDrawCreateSchema,
    PanelDrawSchema,
    PaymentListSchema,
    PaymentQuerySchema,
    PendingChecksSchema,
    PoolReplaceSchema,
    PoolSchema,
    ReviewDueSchema,
    ReviewOpenedSchema,
    ReviewOpenSchema,
    SpecialCaseQuerySchema,
    SpecialCaseReportSchema,
    SpotCheckRecordSchema,
    SpotCheckSchema,
    StandardCreateSchema,
    StandardListSchema,
    StandardSchema,
    StandingNoticeQuerySchema,
    TimelineSchema,
    WorkflowSchema,
)

blp = Blueprint("workflow", __name__, url_prefix="/api",
                description="The case workflow: transitions, timeline, tasks, spot checks, "
                            "standards, due lists and payment lists")

def _own_options(func):
    """Flask reads this attribute: the rule answers OPTIONS through its own view below."""
    func.provide_automatic_options = False
    return func


BINARY = {"type": "string", "format": "binary"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TASK = "<any(" + ", ".join(f'"{t}"' for t in TASK_NAMES) + "):task>"


def _answer(case, status=200):
    caller = current_caller()
    view = {**case_view.view(caller, case), "case": cases.to_view(case, caller)}
    return view, status, versions.etag(case.version)


@blp.route("/cases/<string:case_id>/workflow", methods=["GET"])
@signed_in
@blp.response(200, WorkflowSchema, headers=ETAG_HEADER)
@problems(401, 404)
def get_workflow(case_id):
    """Where the case stands: recorded facts, allowed transitions, duties, tasks."""
    return _answer(cases.get_visible(current_caller(), case_id))


@blp.route("/cases/<string:case_id>/transitions", methods=["POST"])
@signed_in
@blp.arguments(CaseTransitionSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, WorkflowSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409, 412, 428)
def move_case(body, case_id):
    """Move the case one step. 409 `transition-not-allowed` names both states; a broken
    guard is a 422 whose `type` is the rule (`home-visit-incomplete`, `notice-not-over`,
    `spot-check-pending`, `separation-of-duties`, `amount-above-cap`, ...) and `rules`
    lists every broken one."""
    case = transitions.transition(current_caller(), case_id, request.headers.get("If-Match"), body)
    return _answer(case)


@blp.route("/cases/<string:case_id>/periodic-reviews", methods=["POST"])
@signed_in
@blp.response(201, WorkflowSchema, headers=ETAG_HEADER)
@problems(401, 403, 404, 409)
def open_periodic_review(case_id):
    """Open a periodic review (动态管理, 004) of a current recipient's case; the answer is the
    review case. 409 `periodic-review-open` names the open one in `review_case_id`."""
    return _answer(periodic_reviews.open_periodic_review(current_caller(), case_id), 201)


@blp.route("/periodic-reviews/due", methods=["GET"])
@signed_in
@blp.response(200, ReviewDueSchema)
@problems(401, 403)
def periodic_reviews_due():
    """Current recipients whose review is due by their tier (yearly; half-yearly; special
    cases twice a year, 001) or triggered by missed check-ins, with none open."""
    return {"items": periodic_reviews.reviews_due(current_caller())}


@blp.route("/periodic-reviews/due", methods=["POST"])
@signed_in
@blp.arguments(ReviewOpenSchema)
@blp.response(201, ReviewOpenedSchema)
@problems(*BODY_PROBLEMS, 401, 403)
def open_due_reviews(body):
    """Open the periodic reviews of the chosen due cases in one go."""
    return {"opened": periodic_reviews.open_due_reviews(current_caller(), body["case_ids"])}


@blp.route("/periodic-reviews/special-cases", methods=["GET"])
@signed_in
@blp.arguments(SpecialCaseQuerySchema, location="query")
@blp.response(200, SpecialCaseReportSchema)
@problems(401, 403, 422)
def special_case_rereviews(query):
    """The county's check of special cases' re-reviews for a half-year (001: at least twice a
    year, 100%): the rate per township and the cases still missing one."""
    year, half = special_cases.current_half_year()
    return special_cases.rereview_report(current_caller(), query["year"] or year,
                                         query["half"] or half)


@blp.route("/cases/<string:case_id>/timeline", methods=["GET"])
@signed_in
@blp.response(200, TimelineSchema)
@problems(401, 404)
def case_timeline(case_id):
    """Every step of the case: what, who, when, from which device (全程留痕)."""
    return {"case_id": case_id, "items": case_view.timeline(current_caller(), case_id)}


@blp.route("/cases/<string:case_id>/application", methods=["PUT"])
@signed_in
@blp.arguments(ApplicationSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, WorkflowSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409, 412, 428)
def record_application(body, case_id):
    """Record the honesty pledge and the economic-check authorization (who and when are
    yours and now; scans as photo hashes) and list every missing document at once."""
    case = paperwork.record_application(current_caller(), case_id,
                                      request.headers.get("If-Match"), body)
    return _answer(case)


@blp.route("/cases/<string:case_id>/economic-check", methods=["PUT"])
@signed_in
@blp.arguments(EconomicCheckSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, WorkflowSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409, 412, 428)
def record_economic_check(body, case_id):
    """The economic check (核对): requested, returned, result. A check that took more than
    15 days extends the decision deadline (001: at most 30 working days)."""
    case = paperwork.record_economic_check(current_caller(), case_id,
                                         request.headers.get("If-Match"), body)
    return _answer(case)


@blp.route(f"/cases/<string:case_id>/tasks/{TASK}", methods=["POST"])
@signed_in
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, WorkflowSchema, headers=ETAG_HEADER)
@problems(401, 403, 404, 409, 412, 428)
def complete_task(case_id, task):
    """Mark a tracked task done: the refusal letter sent, emergency signatures completed,
    the special case filed, temporary aid paid."""
    case = paperwork.complete_task(current_caller(), case_id, request.headers.get("If-Match"),
                                 task)
    return _answer(case)


DOCUMENT = "<any(" + ", ".join(f'"{k}"' for k in DOCUMENT_KINDS) + "):kind>"


@blp.route(f"/cases/<string:case_id>/documents/{DOCUMENT}", methods=["GET"])
@signed_in
@blp.arguments(DocumentQuerySchema, location="query")
@blp.alt_response(200, schema=BINARY, content_type="application/pdf", success=True,
                  description="format=pdf: the printable document (Chinese text)")
@blp.alt_response(200, schema=BINARY, content_type="text/html", success=True,
                  description="format=html: the same content as a page")
@problems(401, 404, 409, 422)
def case_document(query, case_id, kind):
    """A printable document of the case: missing_documents_notice, public_notice (the
    review-stage notice; adults only, no ID numbers), approval_public_notice (the decision's
    notice, 004), refusal_letter (also for an obviously ineligible economic check),
    stop_notice, approval_notice, emergency_record. 409 when the case has none yet, or
    `notice-contact-missing` when the township has set no phone and address for objections."""
    content = paperwork.document_content(current_caller(), case_id, kind)
    body, mimetype = documents.render(kind, content, query["format"])
    headers = {"Content-Disposition": 'inline; filename="'
               + documents.filename(kind, case_id, query["format"]) + '"'}
    if query["format"] == "html":
        headers["Content-Security-Policy"] = documents.HTML_CONTENT_SECURITY_POLICY
    return Response(body, content_type=mimetype, headers=headers)


@blp.route("/villages/<string:village_code>/standing-notice", methods=["GET"])
@signed_in
@blp.arguments(StandingNoticeQuerySchema, location="query")
@blp.alt_response(200, schema=BINARY, content_type="application/pdf", success=True,
                  description="format=pdf: the month's standing notice (Chinese text)")
@blp.alt_response(200, schema=BINARY, content_type="text/html", success=True,
                  description="format=html: the same content as a page")
@problems(401, 403, 404, 409, 422)
def standing_notice(query, village_code):
    """The standing notice (长期公示, 004) of a village's current recipients for a month:
    name, adult members and monthly amount of each household, and where to object."""
    content = notices.standing_notice(current_caller(), village_code, query["month"])
    body, mimetype = documents.render("standing_notice", content, query["format"])
    month = content["month"][:7]
    headers = {"Content-Disposition": 'inline; filename="'
               + documents.filename("standing_notice", f"{village_code}-{month}",
                                    query["format"]) + '"'}
    if query["format"] == "html":
        headers["Content-Security-Policy"] = documents.HTML_CONTENT_SECURITY_POLICY
    return Response(body, content_type=mimetype, headers=headers)


@blp.route("/cases/due", methods=["GET"])
@_own_options
@signed_in
@blp.arguments(DueQuerySchema, location="query")
@blp.response(200, DueSchema)
@problems(401, 422)
def due_list(query):
    """What your roles have to do next, overdue first, then due within 3 days."""
    return {"items": due.due(current_caller(), query["state"])}


def _static_options(path: str, methods: str) -> None:
    """``path`` also matches a sibling ``<case_id>`` rule; without its own OPTIONS answer,
    Flask's automatic one would advertise that rule's methods too. Plain Flask
    registration: an OPTIONS answer is not an API operation to document."""
    def answer():
        return Response(status=200, headers={"Allow": f"{methods}, OPTIONS"})

    FlaskBlueprint.add_url_rule(blp, path, "options_" + path.strip("/").replace("/", "_"),
                                answer, methods=["OPTIONS"], provide_automatic_options=False)


_static_options("/cases/due", "GET, HEAD")
_static_options("/spot-checks/draws", "POST")
_static_options("/spot-checks/pending", "GET, HEAD")


@blp.route("/villages/<string:village_code>/panel-pool", methods=["GET"])
@signed_in
@blp.response(200, PoolSchema)
@problems(401, 403, 404)
def get_pool(village_code):
    """A village's deliberation pool (004: at least 30 members): administrators, intake
    clerks, reviewers, approvers and the county supervisor."""
    return {"village_code": village_code,
            "items": panel.pool(current_caller(), village_code)}


@blp.route("/villages/<string:village_code>/panel-pool", methods=["PUT"])
@signed_in
@blp.arguments(PoolReplaceSchema)
@blp.response(200, PoolSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404)
def replace_pool(body, village_code):
    """Replace a village's pool (administrators and intake clerks)."""
    return {"village_code": village_code,
            "items": panel.replace_pool(current_caller(), village_code, body["members"])}


@blp.route("/cases/<string:case_id>/panel-draw", methods=["GET"])
@signed_in
@blp.response(200, PanelDrawSchema)
@problems(401, 404)
def get_panel(case_id):
    """The case's drawn panel with its seed; `redraw_matches` re-checks it."""
    caller = current_caller()
    return panel.panel_view(caller, cases.get_visible(caller, case_id))


@blp.route("/cases/<string:case_id>/panel-draw", methods=["POST"])
@signed_in
@blp.arguments(PanelDrawCreateSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(201, PanelDrawSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409, 412, 428)
def draw_panel(body, case_id):
    """Draw the panel from the village pool with a stored seed: ≥ 9 with ≥ 2 township cadres
    and the group leader (004); a special case ≥ 12 with a discipline officer (001)."""
    caller = current_caller()
    case = panel.draw_panel(caller, case_id, request.headers.get("If-Match"),
                            body["group_leader_id"], body.get("reason"))
    return panel.panel_view(caller, case), 201, versions.etag(case.version)


@blp.route("/spot-checks/draws", methods=["POST"])
@_own_options
@signed_in
@blp.arguments(DrawCreateSchema)
@blp.response(201, DrawSchema)
@problems(*BODY_PROBLEMS, 401, 403)
def draw_spot_checks(body):
    """The county's seeded draw of the month's new cases (≥ 30% dibao and extreme poverty,
    ≥ 20% temporary aid, every relative of staff); the seed is stored."""
    draw = spot_checks.draw_spot_checks(current_caller(), body["month"])
    return spot_checks.draw_view(draw), 201


@blp.route("/spot-checks/draws/<string:draw_id>", methods=["GET"])
@signed_in
@blp.arguments(DrawQuerySchema, location="query")
@blp.response(200, DrawSchema)
@problems(401, 404, 422)
def get_draw(query, draw_id):
    """A draw with its sample; `redraw=true` recomputes it from the stored seed."""
    return spot_checks.draw_view(spot_checks.get_draw(current_caller(), draw_id), query["redraw"])


@blp.route("/spot-checks/pending", methods=["GET"])
@_own_options
@signed_in
@blp.response(200, PendingChecksSchema)
@problems(401, 403)
def pending_checks():
    """Sampled cases whose check is not recorded yet (the county supervisor's list)."""
    return {"items": spot_checks.pending_spot_checks(current_caller())}


@blp.route("/spot-checks/<string:case_id>", methods=["PUT"])
@signed_in
@blp.arguments(SpotCheckRecordSchema)
@blp.response(200, SpotCheckSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409)
def record_spot_check(body, case_id):
    """Record the county's check of a sampled case (confirmed / problems_found)."""
    check = spot_checks.record_spot_check(current_caller(), case_id, body)
    return check


@blp.route("/allowance-standards", methods=["GET"])
@signed_in
@blp.response(200, StandardListSchema)
@problems(401)
def list_standards():
    """Monthly standards of your place, its ancestors and its subtree, with their dates."""
    return {"items": allowances.standards(current_caller())}


@blp.route("/allowance-standards", methods=["POST"])
@signed_in
@blp.arguments(StandardCreateSchema)
@blp.response(201, StandardSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409)
def add_standard(body):
    """Set a place's monthly standard from a date on (administrators)."""
    return allowances.add_standard(current_caller(), body), 201


@blp.route("/payments", methods=["GET"])
@signed_in
@blp.arguments(PaymentQuerySchema, location="query")
@blp.alt_response(200, schema=PaymentListSchema, success=True, description="format=json")
@blp.alt_response(200, schema=BINARY, content_type="text/csv", success=True,
                  description="format=csv (UTF-8 with BOM, opens in Excel)")
@blp.alt_response(200, schema=BINARY, content_type=XLSX, success=True,
                  description="format=xlsx")
@problems(401, 403, 422)
def payment_list(query):
    """The month's payment list with generic bank columns (masked IDs and accounts)."""
    lines = payments.payment_list(current_caller(), query["month"])
    name = f"payments-{query['month']}"
    if query["format"] == "csv":
        return Response(payment_files.csv_text(lines, query["lang"]), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"'})
    if query["format"] == "xlsx":
        return Response(payment_files.xlsx_bytes(lines, query["lang"]), mimetype=XLSX, headers={
            "Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return jsonify(PaymentListSchema().dump({"month": query["month"], "items": lines}))
