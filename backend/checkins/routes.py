from __future__ import annotations

import time

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, render_template, request
from flask_limiter import RequestLimit
from marshmallow import RAISE

from backend import versions
from backend.audit.actor import bind_actor
from backend.auth import service as auth
from backend.auth import throttle
from backend.auth.guard import current_caller, signed_in
from backend.auth.routes import me_payload
from backend.auth.schemas import LoginResultSchema
from backend.blueprint import Blueprint
from backend.checkins import (
    enrolment,
    follow_ups,
    push_subscriptions,
    recipients,
    rules,
    sign_in_blocks,
)
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
    SignInBlockSchema,
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
        recipients.username_for(phone if isinstance(phone, str) else ""))


# One budget for the three routes that take a code (activate, the slip, its QR): a shared
# limit counts them together, so a script cannot spend the limit three times over.
def _recipient_on_known_device() -> bool:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return False
    phone, device_id = body.get("phone"), body.get("device_id")
    if not isinstance(phone, str) or not isinstance(device_id, str):
        return False
    user = auth.find_by_username(recipients.username_for(phone))
    return user is not None and auth.is_known_device(user.id, device_id)


_activation_limited = throttle.limiter.shared_limit(
    _activation_limit, deduct_when=_wrong_code, on_breach=_on_activation_breach,
    scope="checkin-activation")


# --- staff: enrolment, PIN reset, recipients, history, follow-up ----------------------------


def _slip_links(code: str) -> dict:
    return {"activation_code": code, "activation_url": recipients.activation_url(code)}


@blp.route("/recipients", methods=["POST"])
@signed_in
@blp.arguments(EnrolmentSchema)
@blp.response(201, EnrolmentResultSchema)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409)
def enrol(body):
    """Enrol a member of an approved household (village assistant, intake clerk). The answer
    holds the activation code once: print the slip (/checkin/slip?code=...) now."""
    caller = current_caller()
    enrolled = enrolment.enrol(caller, body)
    return {"recipient": recipients.recipient_view(enrolled.recipient, caller),
            "expires_at": enrolled.expires_at, **_slip_links(enrolled.activation_code)}


@blp.route("/recipients", methods=["GET"])
@signed_in
@blp.arguments(RecipientListQuerySchema, location="query")
@blp.response(200, RecipientListSchema)
@problems(401, 403, 422)
def list_recipients(query):
    """Recipients enrolled in your area (optionally one village)."""
    return {"items": recipients.list_recipients(current_caller(), query["village"])}


@blp.route("/recipients/<string:recipient_id>/history", methods=["GET"])
@signed_in
@blp.response(200, CheckInHistorySchema)
@problems(401, 403, 404)
def recipient_history(recipient_id):
    """A recipient's timeline: check-ins with photo, place, judgement and flags; windows."""
    return follow_ups.history(current_caller(), recipient_id)


@blp.route("/recipients/<string:recipient_id>/pin-reset", methods=["POST"])
@signed_in
@blp.response(200, PinResetResultSchema)
@problems(401, 403, 404)
def reset_pin(recipient_id):
    """A forgotten PIN: the old one stops working; print the new slip."""
    enrolled = enrolment.reset_pin(current_caller(), recipient_id)
    return {"expires_at": enrolled.expires_at, **_slip_links(enrolled.activation_code)}


@blp.route("/recipients/<string:recipient_id>/sign-in-block", methods=["GET"])
@signed_in
@blp.response(200, SignInBlockSchema)
@problems(401, 403, 404)
def get_sign_in_block(recipient_id):
    """Whether wrong PINs keep this recipient out (new devices, or some addresses), and for
    how long (village assistant, intake clerk). Their own phone still signs in."""
    return sign_in_blocks.view(current_caller(), recipient_id)


@blp.route("/recipients/<string:recipient_id>/sign-in-block", methods=["DELETE"])
@signed_in
@blp.response(204)
@problems(401, 403, 404)
def lift_sign_in_block(recipient_id):
    """Lift the block after checking who is asking (audited)."""
    sign_in_blocks.lift(current_caller(), recipient_id)


@blp.route("/follow-ups", methods=["GET"])
@signed_in
@blp.arguments(FollowUpQuerySchema, location="query", unknown=RAISE)  # 422, never all
@blp.response(200, FollowUpListSchema)
@problems(401, 403, 422)
def list_follow_ups(query):
    """Missed and flagged check-ins to follow up (a call, a home visit), per village."""
    return {"items": follow_ups.list_follow_ups(current_caller(), query["village"],
                                             query["status"])}


@blp.route("/follow-ups/<string:follow_up_id>/close", methods=["POST"])
@signed_in
@blp.arguments(FollowUpCloseSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
@blp.response(200, FollowUpSchema, headers=ETAG_HEADER)
@problems(*BODY_PROBLEMS, 401, 403, 404, 409, 412, 428)
def close_follow_up(body, follow_up_id):
    """Close a follow-up with what was done and found. Send If-Match with its version."""
    view = follow_ups.close_follow_up(current_caller(), follow_up_id,
                                   request.headers.get("If-Match"), body)
    return view, 200, versions.etag(view["version"])


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
    recipient, name = enrolment.activate(body["code"], body["pin"])
    return {"phone": recipient.phone, "display_name": name}


@blp.route("/login", methods=["POST"])
@blp.doc(security=[])
@throttle.limiter.limit(throttle.per_client_limit, deduct_when=throttle.sign_in_failed,
                        on_breach=throttle.on_breach, scope="checkin-login-client")
# Account-wide, shared so staff can read and lift it by name (sign_in_blocks); the
# recipient's own phone (a device they signed in on before) passes it, as staff's do.
@throttle.limiter.shared_limit(throttle.per_account_limit, key_func=_phone_key,
                               deduct_when=throttle.sign_in_failed, on_breach=throttle.on_breach,
                               exempt_when=_recipient_on_known_device,
                               scope=throttle.RECIPIENT_ACCOUNT_SCOPE)
@blp.arguments(RecipientLoginSchema)
@blp.response(200, LoginResultSchema)
@problems(*BODY_PROBLEMS, 401, 403, 429)
def login(body):
    """A recipient signs in with phone number and PIN (throttled and locked like staff)."""
    user, tokens = auth.login(recipients.username_for(body["phone"]), body["pin"],
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
    return recipients.my_status(current_caller())


@blp.route("/households/<string:household_id>", methods=["GET"])
@signed_in
@blp.response(200, OwnHouseholdSchema)
@problems(401, 403, 404)
def own_household(household_id):
    """The recipient's own household; any other is 404."""
    return recipients.own_household(current_caller(), household_id)


# --- Web Push: reminders on the phone when the server has VAPID keys ------------------------


@blp.route("/push/key", methods=["GET"])
@signed_in
@blp.response(200, PushPublicKeySchema)
@problems(401, 404)
def push_public_key():
    """The VAPID public key to subscribe with; 404 `push-not-configured` when this server
    sends no push (reminders then come by SMS only)."""
    return {"public_key": push_subscriptions.push_public_key()}


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
    view, is_new = push_subscriptions.subscribe_push(current_caller(), body["endpoint"],
                                          body["keys"]["p256dh"], body["keys"]["auth"])
    return view, 201 if is_new else 200


@blp.route("/push/subscriptions/<string:subscription_id>", methods=["DELETE"])
@signed_in
@blp.response(204)
@problems(401, 404)
def push_unsubscribe(subscription_id):
    """Stop push to this browser (one of your own subscriptions)."""
    push_subscriptions.unsubscribe_push(current_caller(), subscription_id)


# --- printable slip --------------------------------------------------------------------------


def _qr(code: str):
    base = request.host_url.rstrip("/")
    import segno  # only the activation slip draws a QR code (issue 23, memory)

    return segno.make(base + recipients.activation_url(code), error="m")


@pages.get("/checkin/qr.svg")
@_activation_limited
def activation_qr():
    code = request.args.get("code", "")[:40]
    try:
        enrolment.slip_recipient(code)
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
        recipient, name = enrolment.slip_recipient(code)
    except ProblemError as problem:
        return problem_response(problem.slug, problem.detail)
    expires = rules.china_date(recipient.activation_expires_at)
    # One language (the recipient's), and the address typed by hand for who cannot scan.
    body = render_template(
        "checkin-slip.html", name=name, code=code, qr_svg=_qr(code).svg_inline(scale=6),
        expires_on=f"{expires.year}年{expires.month}月{expires.day}日",
        address=request.host_url.rstrip("/") + "/checkin",
        asset_version=current_app.config["ASSET_VERSION"])
    return Response(body, mimetype="text/html", headers={"Cache-Control": "no-store"})


@pages.get("/checkin")
def checkin_shell():
    """The app opened from the QR: the same shell; the PWA routes to activation."""
    return render_template("app.html", asset_version=current_app.config["ASSET_VERSION"])
