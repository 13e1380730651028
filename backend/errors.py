"""The problem catalogue: every error the API can answer, with its status and stable slug.

Every error leaves as `application/problem+json` (RFC 9457) with a `type` slug that
clients and tests rely on; the PWA translates slugs into words for the user.
"""

from __future__ import annotations

import http
from dataclasses import dataclass

from flask import Response, current_app, json
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from marshmallow import INCLUDE, Schema, fields, validate
from werkzeug.exceptions import HTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemKind:
    status: int
    title: str


CATALOGUE: dict[str, ProblemKind] = {
    # generic HTTP
    "bad-request": ProblemKind(400, "The request could not be understood"),
    "malformed-json": ProblemKind(400, "The request body is not valid JSON"),
    "not-found": ProblemKind(404, "No such resource"),
    "method-not-allowed": ProblemKind(405, "Method not allowed on this resource"),
    "body-too-large": ProblemKind(413, "The request body is too large"),
    "unsupported-media-type": ProblemKind(415, "Unsupported content type"),
    "validation-failed": ProblemKind(422, "Some fields are not valid"),
    "precondition-required": ProblemKind(428, "This change needs an If-Match header"),
    "stale-version": ProblemKind(412, "The record changed since you loaded it"),
    "conflict": ProblemKind(409, "The request conflicts with the current state"),
    "internal-error": ProblemKind(500, "Something went wrong on the server"),
    "service-unavailable": ProblemKind(503, "A service the server needs is unavailable"),
    # auth
    "not-authenticated": ProblemKind(401, "Sign-in required"),
    "token-expired": ProblemKind(401, "The session expired; sign in again"),
    "token-invalid": ProblemKind(401, "The sign-in token is not valid"),
    "token-revoked": ProblemKind(401, "This session was signed out"),
    "login-failed": ProblemKind(401, "Wrong username or password"),
    "too-many-sign-ins": ProblemKind(
        429, "Too many failed sign-ins from here; wait before trying again"),
    "too-many-requests": ProblemKind(429, "Too many requests; wait before trying again"),
    "current-password-wrong": ProblemKind(403, "The current password is not right"),
    # A wrong or replayed TOTP/recovery code is a failed sign-in (401: the throttle counts it).
    "second-factor-wrong": ProblemKind(401, "The two-step sign-in code is not right"),
    "second-factor-replayed": ProblemKind(401, "That two-step sign-in code was used already"),
    "second-factor-enrolled": ProblemKind(409, "Two-step sign-in is already set up"),
    "second-factor-not-started": ProblemKind(409, "Start setting up two-step sign-in first"),
    "second-factor-reset-self": ProblemKind(
        403, "Another administrator must reset your two-step sign-in"),
    "account-disabled": ProblemKind(403, "This account is disabled"),
    "forbidden": ProblemKind(403, "Your role does not allow this"),
    # domain
    "jurisdiction-not-found": ProblemKind(404, "No such jurisdiction"),
    "household-not-found": ProblemKind(404, "No such household"),
    "case-not-found": ProblemKind(404, "No such case"),
    # privacy (issue 22): reveals with a purpose, authorised full exports, consent
    "reveal-purpose-required": ProblemKind(422, "Choose why you need the full number"),
    "reveal-not-allowed": ProblemKind(403, "Your role does not reveal this number"),
    "export-not-authorised": ProblemKind(403, "A full export needs an approver's authorisation"),
    "consent-text-outdated": ProblemKind(409, "The consent text changed; read the current one"),
    "user-not-found": ProblemKind(404, "No such user"),
    # recipient check-in (003)
    "recipient-not-found": ProblemKind(404, "No such recipient"),
    "recipient-already-enrolled": ProblemKind(409, "This member or phone is already enrolled"),
    "household-not-approved": ProblemKind(
        409, "Only members of a household with an approved case check in"),
    "activation-code-invalid": ProblemKind(404, "No such activation code"),
    "activation-code-used": ProblemKind(410, "The activation code was already used"),
    "activation-code-expired": ProblemKind(410, "The activation code has expired"),
    "checkin-photo-not-camera": ProblemKind(
        422, "A check-in photo is taken now with the camera, not from the gallery"),
    "checkin-capture-stale": ProblemKind(422, "The photo was not taken at the check-in"),
    "checkin-photo-not-yours": ProblemKind(403, "The photo was uploaded by someone else"),
    "checkin-signature-invalid": ProblemKind(
        403, "The check-in is not signed with the sender's own device key"),
    "follow-up-not-found": ProblemKind(404, "No such follow-up"),
    "push-not-configured": ProblemKind(
        404, "This server sends no push notifications (no VAPID keys); reminders come by SMS"),
    "push-endpoint-not-allowed": ProblemKind(
        422, "The push endpoint is not an https URL of a known push service"),
    "push-subscription-not-found": ProblemKind(404, "No such push subscription of yours"),
    "setting-out-of-bounds": ProblemKind(
        422, "A setting is outside what the regulations allow; stricter is fine, looser never"),
    "county-level-only": ProblemKind(403, "Only county-level staff may change this"),
    "outside-jurisdiction": ProblemKind(422, "That place is outside your jurisdiction"),
    "separation-of-duties": ProblemKind(
        422, "One person may not hold two of intake, review, approval and supervision on a "
        "case, nor any duty on a relative's case"
    ),
    "visit-team-too-small": ProblemKind(422, "A home visit needs at least two investigators"),
    "visit-team-conflict-of-interest": ProblemKind(
        422, "An investigator is a declared relative of the household"
    ),
    "visit-team-not-field-worker": ProblemKind(
        422, "Every investigator must be a field worker of the case's township"
    ),
    "case-not-assigned": ProblemKind(403, "This case is not assigned to you"),
    "form-not-found": ProblemKind(404, "No such form version"),
    "form-invalid": ProblemKind(422, "The survey answers do not satisfy the form"),
    "masked-id-mismatch": ProblemKind(
        422, "A masked ID sent back matches no number on record; send the full number"),
    "submission-conflict": ProblemKind(409, "The submission changed on the server"),
    "record-not-canonical": ProblemKind(
        422, "The record holds a value that cannot be signed (RFC 8785 canonical JSON)"),
    "attestation-not-yours": ProblemKind(403, "Only the signer may send their own attestation"),
    "attestation-not-team-member": ProblemKind(
        403, "Only a member of the visit's team may attest it"),
    "signature-image-not-yours": ProblemKind(
        403, "A signature image must come from the signer, the signing device or the visit"),
    "case-closed": ProblemKind(409, "The case is decided; its visits can no longer change"),
    "device-key-invalid": ProblemKind(422, "The device key is not a P-256 public key"),
    "device-key-challenge-invalid": ProblemKind(
        422, "The key challenge is unknown, already used, or issued to another user or device"),
    "device-key-challenge-expired": ProblemKind(422, "The key challenge expired"),
    "device-key-proof-invalid": ProblemKind(
        422, "The signature over the key challenge does not match the key"),
    "device-key-in-use": ProblemKind(409, "This key was registered before"),
    "device-key-not-found": ProblemKind(404, "No such device key"),
    "photo-not-found": ProblemKind(404, "No such photo"),
    "dossier-not-found": ProblemKind(404, "No such household file"),
    "dossier-not-ready": ProblemKind(409, "The household file is not built yet"),
    "photo-not-yours": ProblemKind(
        403, "A visit may name only photos its team uploaded or already filed on its case"),
    "photo-hash-mismatch": ProblemKind(422, "The photo's content does not match its hash"),
    "photo-empty": ProblemKind(422, "The photo is empty"),
    "photo-too-large": ProblemKind(413, "The photo is too large"),
    "photo-not-an-image": ProblemKind(422, "The file is not an image"),
    "photo-format-not-allowed": ProblemKind(
        415, "Only JPEG, PNG, WebP and HEIC photos are accepted"),
    "photo-too-many-pixels": ProblemKind(422, "The photo has too many pixels"),
    "photo-truncated": ProblemKind(422, "The photo is incomplete"),
    "photo-exif-too-large": ProblemKind(422, "The photo's metadata is too large"),
    "photo-type-mismatch": ProblemKind(415, "The photo's content does not match its declared type"),
    # feeds for other departments (一件事联办)
    "feed-token-invalid": ProblemKind(401, "The feed token is missing, unknown or revoked"),
    "feed-token-not-found": ProblemKind(404, "No such feed token in your area"),
    "feed-cursor-invalid": ProblemKind(400, "The cursor was not given by this feed"),
    "feed-cursor-other-jurisdiction": ProblemKind(
        403, "The cursor belongs to another jurisdiction's token"),
    "review-not-found": ProblemKind(404, "No such visit to review in your area"),
    "review-own-visit": ProblemKind(
        403, "You were on this visit's team; someone else must review it"),
    "review-transition-not-allowed": ProblemKind(
        409, "The review cannot move from its current state to that one"),
    "review-field-unknown": ProblemKind(422, "The visit's form has no such field"),
    "review-comment-required": ProblemKind(
        422, "Say what needs fixing: has issues needs at least one comment"),
    # printable documents (backend/documents)
    "document-content-invalid": ProblemKind(
        422, "The document cannot be printed with this content"),
    "document-discloses-identity": ProblemKind(
        422, "A printed document may not hold a resident ID or a mobile number"),
    # the case workflow (issue 11): a move the table does not allow, and each guard
    "transition-not-allowed": ProblemKind(
        409, "The case cannot move from its current state to that one"),
    "pledge-missing": ProblemKind(422, "The applicant's honesty pledge is not recorded"),
    "authorization-missing": ProblemKind(
        422, "The applicant's authorization of the economic check is not recorded"),
    "home-visit-incomplete": ProblemKind(
        422, "No home visit attested by the team and approved in review"),
    "economic-check-pending": ProblemKind(422, "The economic check has no result yet"),
    "economic-check-ineligible": ProblemKind(
        422, "The economic check found the household obviously ineligible: refuse in writing"),
    "panel-not-held": ProblemKind(
        422, "This jurisdiction holds no panel review and no objection called one"),
    "panel-required": ProblemKind(422, "A panel review must come first"),
    "panel-record-missing": ProblemKind(422, "Record the panel: date and who attended"),
    "panel-too-small": ProblemKind(422, "The panel has fewer members than the rule requires"),
    "panel-cadres-missing": ProblemKind(422, "At least 2 township cadres sit on the panel"),
    "panel-group-leader-missing": ProblemKind(
        422, "The applicant's group leader sits on the panel"),
    "panel-discipline-officer-missing": ProblemKind(
        422, "A special case's panel needs a discipline officer"),
    "panel-too-late": ProblemKind(
        422, "A special case's panel meets within 5 working days of intake"),
    "panel-pool-too-small": ProblemKind(422, "The village's panel pool is too small"),
    "panel-not-drawn": ProblemKind(422, "Draw the panel from the village pool first"),
    "panel-outside-step": ProblemKind(
        409, "A panel's record is taken only when the case leaves its panel review"),
    "panel-attendance-invalid": ProblemKind(
        422, "Every drawn member's attendance, and a signature from whoever sat"),
    "panel-held-on-outside-window": ProblemKind(
        422, "The panel's date is before intake or the draw, or in the future"),
    "panel-redraw-reason-missing": ProblemKind(422, "Say why the panel is drawn again"),
    "proposal-invalid": ProblemKind(422, "The proposed category or amount is not valid"),
    "notice-not-over": ProblemKind(422, "The public notice is still running"),
    "review-stage-notice-required": ProblemKind(
        422, "This jurisdiction posts the review-stage notice before the decision (004)"),
    "review-stage-notice-not-held": ProblemKind(
        422, "This jurisdiction posts no review-stage notice; the decision is posted (002)"),
    "notice-contact-missing": ProblemKind(
        409, "Set the township's phone and address for objections before printing a notice"),
    "spot-check-not-drawn": ProblemKind(
        422, "The county has not yet drawn this case's month for spot checks"),
    "spot-check-pending": ProblemKind(
        422, "The case was sampled for a county spot check that is not recorded yet"),
    "spot-check-found-problems": ProblemKind(422, "The county spot check found problems"),
    "spot-check-not-sampled": ProblemKind(409, "The case was not sampled for a spot check"),
    "objection-missing": ProblemKind(422, "Record who objected and what"),
    "reasons-missing": ProblemKind(422, "Written reasons are required"),
    "emergency-record-incomplete": ProblemKind(
        422, "Emergency aid records its recipient, reason and amount"),
    "amount-above-cap": ProblemKind(422, "The amount is above the cap"),
    "task-not-open": ProblemKind(409, "This task is not open on the case"),
    "draw-not-found": ProblemKind(404, "No such spot-check draw in your area"),
    "document-not-available": ProblemKind(409, "The case has no such document at this stage"),
    # periodic review (动态管理, 004)
    "periodic-review-open": ProblemKind(
        409, "A periodic review of this case is already open; work on that one"),
    "periodic-review-not-applicable": ProblemKind(
        409, "Only a current recipient's monthly allowance case is reviewed periodically"),
    "review-method-missing": ProblemKind(
        422, "Choose how the household is reviewed: home visit, system comparison or phone"),
    "review-visit-incomplete": ProblemKind(
        422, "The review's home visit is not attested by the team and approved in review"),
    "review-comparison-pending": ProblemKind(422, "The system comparison has no result yet"),
    "review-findings-missing": ProblemKind(422, "Write down what the review found"),
    "self-care-assessment-missing": ProblemKind(
        422, "An extreme-poverty case needs the six-item self-care assessment first"),
    # XLSForm import (backend/forms/xlsform.py); `rows` lists sheet, row, column and reason
    "xlsform-unreadable": ProblemKind(422, "The file is not an .xlsx workbook that can be read"),
    "xlsform-too-large": ProblemKind(413, "The workbook is too large"),
    "xlsform-invalid": ProblemKind(
        422, "The XLSForm has rows Doorstep cannot carry; each is named with its reason"),
    # webhooks (backend/webhooks)
    "webhook-url-not-allowed": ProblemKind(
        422, "This URL may not receive webhooks: https to a public internet address only"),
    "webhook-subscription-not-found": ProblemKind(404, "No such webhook subscription in your area"),
    "webhook-delivery-not-found": ProblemKind(404, "No such webhook delivery in your area"),
    # complaints and reports (举报, backend/complaints)
    "complaint-not-found": ProblemKind(404, "No such complaint in your area"),
    "complaint-step-not-allowed": ProblemKind(409, "The complaint is not at that step"),
    "complaint-not-handler": ProblemKind(403, "Only the complaint's named handler does this"),
    "complaint-not-verified": ProblemKind(
        422, "Verify the report first: home visit, system comparison or phone"),
    "complaint-visit-incomplete": ProblemKind(
        422, "No home visit of the linked case attested by the team and approved in review"),
    # retention and purge (backend/retention, ADR 0022)
    "retention-kind-not-found": ProblemKind(404, "No such kind of data has a retention"),
    "retention-below-minimum": ProblemKind(
        422, "This kind of data must be kept longer; the law sets a minimum"),
    "retention-too-long": ProblemKind(422, "A retention may be at most 30 years"),
    "legal-hold-not-found": ProblemKind(404, "No such legal hold in your area"),
    "legal-hold-lifted": ProblemKind(409, "This legal hold was lifted already"),
}


class ProblemError(Exception):
    """Raised anywhere below the routes; the app turns it into problem+json."""

    def __init__(
        self,
        slug: str,
        detail: str | None = None,
        errors: dict | None = None,
        extra: dict | None = None,
        headers: dict | None = None,
        keep_changes: bool = False,
    ):
        if slug not in CATALOGUE:
            raise KeyError(f"unknown problem slug {slug!r}")
        super().__init__(detail or CATALOGUE[slug].title)
        self.slug = slug
        self.detail = detail
        self.errors = errors or {}
        self.extra = extra or {}
        self.headers = headers or {}
        # A failed login must still count the failure and audit it, so some
        # problems commit the transaction instead of rolling it back.
        self.keep_changes = keep_changes

    @property
    def status(self) -> int:
        return CATALOGUE[self.slug].status


def problem_body(slug: str, detail: str | None = None, errors: dict | None = None,
                 extra: dict | None = None) -> dict:
    kind = CATALOGUE[slug]
    body = {
        "type": slug,
        "title": kind.title,
        "status": kind.status,
        "detail": detail or kind.title,
        "errors": errors or {},
    }
    body.update(extra or {})
    return body


def problem_response(slug: str, detail: str | None = None, errors: dict | None = None,
                     extra: dict | None = None, headers: dict | None = None) -> Response:
    body = problem_body(slug, detail, errors, extra)
    response = Response(json.dumps(body), status=body["status"], mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def response_for(error: ProblemError) -> Response:
    return problem_response(error.slug, error.detail, error.errors, error.extra, error.headers)


_HTTP_SLUGS = {
    400: "bad-request",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "stale-version",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    428: "precondition-required",
    429: "too-many-requests",
}


def field_paths(messages) -> dict:
    """Nested marshmallow messages as {"a.b.0.c": [...]}; a bare message goes to "_record"."""
    flat: dict = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            flat[prefix or "_record"] = value if isinstance(value, list) else [str(value)]

    walk("", messages)
    return flat


def _flatten_webargs_messages(messages) -> dict:
    """webargs nests errors by location ({"json": {...}}); clients want field paths."""
    if not isinstance(messages, dict):
        return {"_body": messages if isinstance(messages, list) else [str(messages)]}
    flat: dict = {}
    for location, by_field in messages.items():
        if isinstance(by_field, dict):
            for name, value in by_field.items():
                flat[name] = value
        else:
            flat[f"_{location}"] = by_field if isinstance(by_field, list) else [str(by_field)]
    return flat


class ProblemSchema(Schema):
    """What every error body holds (RFC 9457), as the OpenAPI document shows it."""

    class Meta:
        # Some problems carry more members: `current_version` on a stale edit,
        # `server_version` and `your_version` on a sync conflict.
        unknown = INCLUDE

    type = fields.String(required=True, validate=validate.OneOf(sorted(CATALOGUE)),
                         metadata={"description": "stable slug from the problem catalogue "
                                                  "(backend/errors.py); clients switch on it"})
    title = fields.String(required=True)
    status = fields.Integer(required=True, validate=validate.Range(400, 599))
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), required=True,
                         metadata={"description": "messages by field path; empty when the "
                                                  "problem is not about fields"})


def response_name(status: int) -> str:
    """The name of the shared OpenAPI response that documents problems of this status."""
    return http.HTTPStatus(status).name


def _status_description(status: http.HTTPStatus) -> str:
    slugs = sorted(slug for slug, kind in CATALOGUE.items() if kind.status == status)
    if not slugs:
        return status.phrase
    return f"{status.phrase}. Problem types: {', '.join(slugs)}."


# Never registered: only lends its `alt_response` to the `problems` decorator below.
_DOCS = Blueprint("problem-docs", __name__)

# Statuses any JSON-body operation may answer: malformed JSON, too large, not JSON, invalid.
BODY_PROBLEMS = (400, 413, 415, 422)


def problems(*statuses: int):
    """Document the problems an operation can answer, each as `application/problem+json`.

    Every API operation reads the database, so 503 (`service-unavailable`) is always added.
    """

    def decorator(func):
        for status in sorted({*statuses, 503}, reverse=True):
            func = _DOCS.alt_response(status, response_name(status))(func)
        return func

    return decorator


# Optimistic concurrency on edits (STYLE.md): read the ETag, send it back as If-Match.
IF_MATCH_PARAMETER = {
    "in": "header", "name": "If-Match", "required": True,
    "description": "The ETag of the version you edited, e.g. `\"3\"`. Missing: 428 "
                   "`precondition-required`; stale: 412 `stale-version`.",
    "schema": {"type": "string", "maxLength": 300},
}
ETAG_HEADER = {
    "ETag": {"description": "The record's version, quoted; send it back as If-Match to edit.",
             "required": True, "schema": {"type": "string", "pattern": r'^"\d+"$'}},
}


class ProblemApi(Api):
    """flask-smorest's Api answering every HTTP error as problem+json."""

    ERROR_SCHEMA = ProblemSchema
    # No catch-all `default` response: each operation lists the statuses it can answer,
    # so a status outside that list is a contract bug that Schemathesis reports.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self):
        """The shared error responses, served as problem+json with the Problem schema."""
        self.spec.components.schema("Problem", schema=ProblemSchema)
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response = {"description": _status_description(status), "schema": "Problem"}
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)

    def handle_http_exception(self, error: HTTPException):
        # The app's Flask-SQLAlchemy, found through the app: extensions imports this module.
        current_app.extensions["sqlalchemy"].session.rollback()
        if error.response is not None:
            # A ready problem (Flask-Limiter's 429 from auth.throttle.on_breach).
            return error.response
        data = getattr(error, "data", None) or {}
        code = error.code or 500
        messages = data.get("errors") or data.get("messages")
        slug = _HTTP_SLUGS.get(code, "internal-error" if code >= 500 else "bad-request")
        detail = data.get("message") or error.description
        errors = _flatten_webargs_messages(messages) if messages else {}
        if code == 400 and messages and "Invalid JSON body." in json.dumps(messages):
            slug = "malformed-json"
            detail = "The body is not valid JSON; check quotes, commas and brackets."
        if code == 422:
            detail = "Some fields are not valid; see errors for each field."
        if code >= 500:
            detail = "The server failed; your data was not changed. Try again later."
        response = problem_response(slug, detail, errors)
        if code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        for name, value in (data.get("headers") or {}).items():
            response.headers[name] = value
        return response
