from marshmallow import Schema, fields, validate

from backend.checkins import rules

PHONE = validate.Regexp(r"^1\d{10}$", error="an 11-digit mobile number")
PIN = validate.Regexp(r"^\d{6}$", error="6 digits")
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="64 lowercase hex characters")


class DeclaredResidenceSchema(Schema):
    address = fields.String(load_default=None, validate=validate.Length(max=200))
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class EnrolmentSchema(Schema):
    household_id = fields.String(required=True, validate=validate.Length(max=36))
    member_id = fields.String(required=True, validate=validate.Length(max=36))
    phone = fields.String(load_default=None, validate=PHONE, metadata={
        "description": "the recipient's mobile; defaults to the member's registered phone"})
    category = fields.String(required=True, validate=validate.OneOf(rules.CATEGORIES))
    reference_photo_sha256 = fields.String(required=True, validate=SHA256)
    declared_residence = fields.Nested(DeclaredResidenceSchema, load_default=None,
                                       allow_none=True)


class RecipientSchema(Schema):
    id = fields.String(required=True)
    user_id = fields.String(required=True)
    household_id = fields.String(required=True)
    member_id = fields.String(required=True)
    name = fields.String(required=True)
    phone = fields.String(required=True, metadata={"description": "masked unless your role "
                                                                  "sees phones"})
    jurisdiction_code = fields.String(required=True)
    category = fields.String(required=True)
    reference_photo_sha256 = fields.String(required=True)
    declared_residence = fields.Dict(allow_none=True)
    is_activated = fields.Boolean(required=True)
    activation_expires_at = fields.DateTime(allow_none=True)
    version = fields.Integer(required=True)


class EnrolmentResultSchema(Schema):
    recipient = fields.Nested(RecipientSchema, required=True)
    activation_code = fields.String(required=True, metadata={
        "description": "shown once: print the slip now (the server keeps only its hash)"})
    activation_url = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class RecipientListQuerySchema(Schema):
    village = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6,12}$"))


class RecipientListSchema(Schema):
    items = fields.List(fields.Nested(RecipientSchema), required=True)


class ActivationSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=4, max=40))
    pin = fields.String(required=True, validate=PIN)


class ActivationResultSchema(Schema):
    phone = fields.String(required=True, metadata={"description": "sign in with it and the PIN"})
    display_name = fields.String(required=True)


class RecipientLoginSchema(Schema):
    phone = fields.String(required=True, validate=PHONE)
    pin = fields.String(required=True, validate=validate.Length(max=20))
    device_id = fields.String(load_default=None, validate=validate.Length(max=64))


class CheckInWindowSchema(Schema):
    key = fields.String(required=True)
    opens_on = fields.Date(required=True)
    closes_on = fields.Date(required=True)
    late_until_on = fields.Date(required=True)


class MyCheckInStatusSchema(Schema):
    recipient_id = fields.String(required=True)
    display_name = fields.String(required=True)
    household_id = fields.String(required=True)
    category = fields.String(required=True)
    next_window = fields.Nested(CheckInWindowSchema, required=True)
    is_done_this_window = fields.Boolean(required=True)
    last_outcome = fields.String(allow_none=True)
    last_checked_in_at = fields.DateTime(allow_none=True)
    challenge = fields.Dict(required=True, metadata={
        "description": "a fresh challenge to show; the device may also make its own"})
    reminders = fields.List(fields.String(), required=True)


class OwnHouseholdSchema(Schema):
    id = fields.String(required=True)
    address = fields.String(required=True)
    members = fields.List(fields.Dict(), required=True)


class CheckInFlagSchema(Schema):
    code = fields.String(required=True)
    data = fields.Dict(required=True)
    detail_zh = fields.String(required=True)
    detail_en = fields.String(required=True)


class CheckInSchema(Schema):
    id = fields.String(required=True)
    recipient_id = fields.String(required=True)
    photo_sha256 = fields.String(required=True)
    challenge = fields.Dict(required=True)
    challenge_answer = fields.String(allow_none=True)
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    accuracy_m = fields.Float(allow_none=True)
    captured_at = fields.DateTime(required=True)
    received_at = fields.DateTime(required=True)
    window_key = fields.String(allow_none=True)
    outcome = fields.String(required=True)
    identity_status = fields.String(required=True)
    identity_distance = fields.Float(allow_none=True)
    is_proxy = fields.Boolean(required=True)
    proxy_reason = fields.String(allow_none=True)
    submitted_by_id = fields.String(required=True)
    flags = fields.List(fields.Nested(CheckInFlagSchema), required=True)


class CheckInHistorySchema(Schema):
    recipient = fields.Nested(RecipientSchema, required=True)
    windows = fields.List(fields.Dict(), required=True)
    checkins = fields.List(fields.Nested(CheckInSchema), required=True)


class FollowUpQuerySchema(Schema):
    village = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6,12}$"))
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "closed", "all")))


class FollowUpSchema(Schema):
    id = fields.String(required=True)
    recipient_id = fields.String(required=True)
    recipient_name = fields.String(required=True)
    phone = fields.String(allow_none=True, metadata={
        "description": "masked unless the caller's role sees full phone numbers"})
    reference_photo_sha256 = fields.String(allow_none=True)
    checkin_captured_at = fields.DateTime(allow_none=True, metadata={
        "description": "when the flagged check-in was taken (none for a missed window)"})
    checkin_photo_sha256 = fields.String(allow_none=True)
    jurisdiction_code = fields.String(required=True)
    reason = fields.String(required=True)
    window_key = fields.String(allow_none=True)
    checkin_id = fields.String(allow_none=True)
    flags = fields.List(fields.Nested(CheckInFlagSchema), required=True)
    action = fields.String(required=True)
    status = fields.String(required=True)
    outcome = fields.String(allow_none=True)
    closed_by_id = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    version = fields.Integer(required=True)


class FollowUpListSchema(Schema):
    items = fields.List(fields.Nested(FollowUpSchema), required=True)


class FollowUpCloseSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(("call", "home_visit")))
    outcome = fields.String(required=True, validate=validate.Length(min=1, max=500))


class PinResetResultSchema(Schema):
    activation_code = fields.String(required=True)
    activation_url = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class SignInBlockSchema(Schema):
    is_blocked = fields.Boolean(required=True, metadata={
        "description": "new devices, or some addresses, may not sign in now (the recipient's "
                       "own phone still may)"})
    retry_after_seconds = fields.Integer(allow_none=True, required=True)
    failed_sign_ins = fields.Integer(required=True, metadata={
        "description": "wrong PINs the account-wide limit counts now"})
    locked_addresses = fields.Integer(required=True)


class ReviewTriggerSchema(Schema):
    id = fields.String(required=True)
    recipient_id = fields.String(required=True)
    household_id = fields.String(required=True)
    window_key = fields.String(required=True)
    consecutive_misses = fields.Integer(required=True)
    raised_at = fields.DateTime(required=True)


# --- the sync record --------------------------------------------------------------------------


class CheckInPhotoSchema(Schema):
    sha256 = fields.String(required=True, validate=SHA256)
    source = fields.String(required=True, validate=validate.Length(max=12), metadata={
        "description": "camera (the front camera, taken now); anything else is refused"})
    captured_at = fields.AwareDateTime(required=True)


class CheckInLocationSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(load_default=None, allow_none=True,
                              validate=validate.Range(0, 100000))


class CheckInChallengeSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(rules.CHALLENGE_KINDS))
    value = fields.Raw(required=True)


class CheckInProxySchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200))


class CheckInRecordSchema(Schema):
    type = fields.String(required=True, validate=validate.Equal("checkin"))
    id = fields.UUID(required=True)
    recipient_id = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Length(max=36))
    photo = fields.Nested(CheckInPhotoSchema, required=True)
    challenge = fields.Nested(CheckInChallengeSchema, required=True)
    challenge_answer = fields.String(load_default=None, allow_none=True,
                                     validate=validate.Length(max=40))
    location = fields.Nested(CheckInLocationSchema, required=True)
    captured_at = fields.AwareDateTime(required=True)
    proxy = fields.Nested(CheckInProxySchema, load_default=None, allow_none=True)
    key_id = fields.String(required=True, validate=validate.Length(max=36))
    signature = fields.String(required=True, validate=validate.Length(max=200))


# --- Web Push (RFC 8030): the browser's PushSubscription as subscription.toJSON() gives it ----


class PushPublicKeySchema(Schema):
    public_key = fields.String(required=True, metadata={
        "description": "the server's VAPID public key (base64url, uncompressed P-256): the "
                       "applicationServerKey of pushManager.subscribe()"})


class PushKeysSchema(Schema):
    p256dh = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={
        "description": "the browser's P-256 public key, base64url (65 bytes)"})
    auth = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "the 16-byte authentication secret, base64url"})


class PushSubscriptionCreateSchema(Schema):
    endpoint = fields.String(required=True, validate=validate.Length(min=1, max=1024), metadata={
        "description": "https URL of a known push service (PUSH_SERVICE_HOSTS)"})
    keys = fields.Nested(PushKeysSchema, required=True)


class PushSubscriptionSchema(Schema):
    id = fields.String(required=True, metadata={"description": "unsubscribe with it"})
    endpoint_host = fields.String(required=True)
    created_at = fields.DateTime(required=True)
