from marshmallow import Schema, fields, validate

from backend.auth.rules import DEVICE_ID_PATTERN, MAX_PASSWORD_LENGTH, ROLES


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128),
                             load_only=True)
    device_id = fields.String(validate=validate.Regexp(DEVICE_ID_PATTERN), load_default=None,
                              allow_none=True)
    # The second step, sent with the password again (one request signs in, so one throttle
    # counts every wrong password and every wrong code alike).
    totp_code = fields.String(validate=validate.Length(min=1, max=16), load_default=None,
                              allow_none=True, load_only=True)
    recovery_code = fields.String(validate=validate.Length(min=1, max=32), load_default=None,
                                  allow_none=True, load_only=True)


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True,
                                     validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))
    new_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))


class PasswordResetSchema(Schema):
    new_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))


class TokenSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class JurisdictionRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()


class MeSchema(Schema):
    id = fields.String()
    username = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)))
    jurisdiction = fields.Nested(JurisdictionRefSchema)
    # Minutes of inactivity after which the desk signs out by itself; null: never (phones).
    idle_minutes = fields.Integer(allow_none=True)
    # A role that needs two-step sign-in, not yet enrolled: by when (null otherwise).
    second_factor_due_at = fields.DateTime(allow_none=True)


class TotpEnrolmentSchema(Schema):
    secret = fields.String(metadata={"description": "base32, for typing into the app"})
    otpauth_uri = fields.String()
    qr_code = fields.String(metadata={"description": "the otpauth URI as an SVG data: URI"})


class SecondFactorStepSchema(TotpEnrolmentSchema):
    state = fields.String(validate=validate.OneOf(["code", "enrol", "enrol-due"]), metadata={
        "description": "code: send totp_code or recovery_code with the password; enrol: "
        "scan this secret and send its first code; enrol-due: signed in, enrol by due_at"})
    due_at = fields.DateTime()


class LoginResultSchema(TokenSchema):
    user = fields.Nested(MeSchema)
    second_factor = fields.Nested(SecondFactorStepSchema)
    # Shown once, when enrolment at sign-in completes: only their hashes are kept.
    recovery_codes = fields.List(fields.String())


class SecondFactorStateSchema(Schema):
    is_enrolled = fields.Boolean()
    is_pending = fields.Boolean()
    is_required = fields.Boolean()
    due_at = fields.DateTime(allow_none=True)
    recovery_codes_left = fields.Integer()


class SecondFactorConfirmSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=16), load_only=True)


class RecoveryCodesSchema(Schema):
    recovery_codes = fields.List(fields.String())


class SignInSchema(Schema):
    at = fields.DateTime()
    ip = fields.String(allow_none=True)


class SignInHistorySchema(Schema):
    previous_sign_in = fields.Nested(SignInSchema, allow_none=True)
    failures_since = fields.Integer()
    failures = fields.List(fields.Nested(SignInSchema))

