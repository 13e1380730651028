from __future__ import annotations

import time

import segno
from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, render_template, request
from flask_limiter import RequestLimit
from flask_smorest import Blueprint

from backend.audit.actor import bind_actor
from backend.auth import service as auth
from backend.auth import throttle
from backend.auth.guard import current_caller, signed_in
from backend.auth.routes import me_payload
from backend.auth.schemas import LoginResultSchema
from backend.checkins import rules, service
from backend.checkins.schemas import (
    ActivationResultSchema,
    ActivationSchema,
    CheckInHistorySchema,
    EnrolmentResultSchema,
    EnrolmentSchema,
    FollowUpCloseSchema,
    FollowUpListSchema,
    FollowUpQuerySchema,
    FollowUpSchema,
    MyCheckInStatusSchema,
    OwnHouseholdSchema,
    PinResetResultSchema,
    PushPublicKeySchema,
    PushSubscriptionCreateSchema,
    PushSubscriptionSchema,
    RecipientListQuerySchema,
    RecipientListSchema,
    RecipientLoginSchema,
)
from backend.errors import (
    BODY_PROBLEMS,
    ETAG_HEADER,
    IF_MATCH_PARAMETER,
    ProblemError,
    problem_response,
    problems,
)

blp = Blueprint("checkins", __name__, url_prefix="/api/checkins",
                description="Recipient check-in: enrolment, activation, follow-up (003)")
# The printable slip and the QR are pages, not API: opened in a browser tab to print.
pages = FlaskBlueprint("checkin_pages", __name__)


# --- rate limits: guessing activation codes, PINs -------------------------------------------


def _activation_limit() -> str:
    return current_app.config.get("CHECKIN_ACTIVATION_LIMIT", "10 per 15 minutes")


def _wrong_code(response) -> bool:
    return response.status_code in (404, 410)


def _on_activation_breach(limit: RequestLimit):
    seconds = max(1, int(limit.reset_at - time.time()) + 1)
    return problem_response("too-many-requests",
                            f"Too many wrong codes. Try again in {(seconds + 59) // 60} "
                            "minutes.", extra={"retry_after_seconds": seconds},
                            headers={"Retry-After": str(seconds)})


def _phone_key() -> str:
    body = request.get_json(silent=True)
    phone = body.get("phone") if isinstance(body, dict) else None
    return "account:" + auth.login_name_key(
        service.username_for(phone if isinstance(phone, str) else ""))


_activation_limited = throttle.limiter.limit(
    _activation_limit, deduct_when=_wrong_code, on_breach=_on_activation_breach,
    scope="checkin-activation")


# --- staff: enrolment, PIN reset, recipients, history, follow-up ----------------------------


def _slip_links(code: str) -> dict:
    return {"activation_code": code, "activation_url": service.activation_url(code)}


@blp.route("/recipients", methods=["POST"])
@signed_in
@blp.arguments(EnrolmentSchema)
@blp.response(201, EnrolmentResultSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409)
def enrol(body):
    """Enrol a member of an approved household (village assistant, intake clerk). The answer
    holds the activation code once: print the slip (/checkin/slip?code=...) now."""
    caller = current_caller()
    enrolment = service.enrol(caller, body)
    return {"recipient": service.recipient_view(enrolment.recipient, caller),
            "expires_at": enrolment.expires_at, **_slip_links(enrolment.activation_code)}


@blp.route("/recipients", methods=["GET"])
@signed_in
@blp.arguments(RecipientListQuerySchema, location="query")
@blp.response(200, RecipientListSchema)
@problems(401, 403, 422)
def list_recipients(query):
    """Recipients enrolled in your area (optionally one village)."""
    return {"items": service.list_recipients(current_caller(), query["village"])}


@blp.route("/recipients/<string:recipient_id>/history", methods=["GET"])
@signed_in
@blp.response(200, CheckInHistorySchema)
@problems(401, 403, 404)
def recipient_history(recipient_id):
    """A recipient's timeline: check-ins with photo, place, judgement and flags; windows."""
    return service.history(current_caller(), recipient_id)


@blp.route("/recipients/<string:recipient_id>/pin-reset", methods=["POST"])
@signed_in
@blp.response(200, PinResetResultSchema)
@problems(401, 403, 404)
def reset_pin(recipient_id):
    """A forgotten PIN: the old one stops working; print the new slip."""
    enrolment = service.reset_pin(current_caller(), recipient_id)
    return {"expires_at": enrolment.expires_at, **_slip_links(enrolment.activation_code)}


@blp.route("/follow-ups", methods=["GET"])
@signed_in
@blp.arguments(FollowUpQuerySchema, location="query")
@blp.response(200, FollowUpListSchema)
@problems(401, 403, 422)
def list_follow_ups(query):
    """Missed and flagged check-ins to follow up (a call, a home visit), per village."""
    return {"items": service.list_follow_ups(current_caller(), query["village"],
                                             query["status"])}


@blp.route("/follow-ups/<string:follow_up_id>/close", methods=["POST"])
@signed_in
@blp.arguments(FollowUpCloseSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, FollowUpSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409, 412, 428)
def close_follow_up(body, follow_up_id):
    """Close a follow-up with what was done and found. Send If-Match with its version."""
    view = service.close_follow_up(current_caller(), follow_up_id,
                                   request.headers.get("If-Match"), body)
    return view, 200, {"ETag": f'"{view["version"]}"'}


# --- the recipient ---------------------------------------------------------------------------


@blp.route("/activate", methods=["POST"])
@blp.doc(security=[])
@_activation_limited
@blp.arguments(ActivationSchema)
@blp.response(200, ActivationResultSchema)
@problems(*BODY_PROBLEMS, 404, 410, 429)
def activate(body):
    """Spend the one-time code from the slip and set a 6-digit PIN; then sign in with the
    phone number and PIN (/api/checkins/login). Wrong codes are rate limited."""
    recipient, name = service.activate(body["code"], body["pin"])
    return {"phone": recipient.phone, "display_name": name}


@blp.route("/login", methods=["POST"])
@blp.doc(security=[])
@throttle.limiter.limit(throttle.per_client_limit, deduct_when=throttle.sign_in_failed,
                        on_breach=throttle.on_breach, scope="checkin-login-client")
@throttle.limiter.limit(throttle.per_account_limit, key_func=_phone_key,
                        deduct_when=throttle.sign_in_failed, on_breach=throttle.on_breach,
                        scope="checkin-login-account")
@blp.arguments(RecipientLoginSchema)
@blp.response(200, LoginResultSchema)
@problems(*BODY_PROBLEMS, 401, 403, 429)
def login(body):
    """A recipient signs in with phone number and PIN (throttled and locked like staff)."""
    user, tokens = auth.login(service.username_for(body["phone"]), body["pin"],
                              body.get("device_id"))
    bind_actor(user.id)
    return {**tokens, "user": me_payload(user)}


@blp.route("/me", methods=["GET"])
@signed_in
@blp.response(200, MyCheckInStatusSchema)
@problems(401, 403)
def my_status():
    """The recipient's screen: the next window, whether this one is done, the last result,
    a challenge to show and in-app reminders."""
    return service.my_status(current_caller())


@blp.route("/households/<string:household_id>", methods=["GET"])
@signed_in
@blp.response(200, OwnHouseholdSchema)
@problems(401, 403, 404)
def own_household(household_id):
    """The recipient's own household; any other is 404."""
    return service.own_household(current_caller(), household_id)


# --- Web Push: reminders on the phone when the server has VAPID keys ------------------------


@blp.route("/push/key", methods=["GET"])
@signed_in
@blp.response(200, PushPublicKeySchema)
@problems(401, 404)
def push_public_key():
    """The VAPID public key to subscribe with; 404 `push-not-configured` when this server
    sends no push (reminders then come by SMS only)."""
    return {"public_key": service.push_public_key()}


@blp.route("/push/subscriptions", methods=["POST"])
@signed_in
@blp.arguments(PushSubscriptionCreateSchema)
@blp.response(201, PushSubscriptionSchema)
@blp.alt_response(200, schema=PushSubscriptionSchema,
                  description="This browser was already subscribed for you")
@problems(*BODY_PROBLEMS, 401, 404)
def push_subscribe(body):
    """Keep this browser's push subscription for you: a recipient's reminders arrive on it.
    Idempotent by endpoint. The endpoint must be https on a known push service."""
    view, is_new = service.subscribe_push(current_caller(), body["endpoint"],
                                          body["keys"]["p256dh"], body["keys"]["auth"])
    return view, 201 if is_new else 200


@blp.route("/push/subscriptions/<string:subscription_id>", methods=["DELETE"])
@signed_in
@blp.response(204)
@problems(401, 404)
def push_unsubscribe(subscription_id):
    """Stop push to this browser (one of your own subscriptions)."""
    service.unsubscribe_push(current_caller(), subscription_id)


# --- printable slip --------------------------------------------------------------------------


def _qr(code: str):
    base = request.host_url.rstrip("/")
    return segno.make(base + service.activation_url(code), error="m")


@pages.get("/checkin/qr.svg")
@_activation_limited
def activation_qr():
    code = request.args.get("code", "")[:40]
    try:
        service.slip_recipient(code)
    except ProblemError as problem:
        return problem_response(problem.slug, problem.detail)
    svg = _qr(code).svg_inline(scale=6, title="激活二维码")
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@pages.get("/checkin/slip")
@_activation_limited
def activation_slip():
    """The printable activation slip: name, QR, the code in large type, expiry."""
    code = request.args.get("code", "")[:40]
    try:
        recipient, name = service.slip_recipient(code)
    except ProblemError as problem:
        return problem_response(problem.slug, problem.detail)
    body = render_template(
        "checkin-slip.html", name=name, code=code, qr_svg=_qr(code).svg_inline(scale=6),
        expires_on=rules.china_date(recipient.activation_expires_at).isoformat(),
        asset_version=current_app.config["ASSET_VERSION"])
    return Response(body, mimetype="text/html", headers={"Cache-Control": "no-store"})


@pages.get("/checkin")
def checkin_shell():
    """The app opened from the QR: the same shell; the PWA routes to activation."""
    return render_template("app.html", asset_version=current_app.config["ASSET_VERSION"])
