from marshmallow import Schema, fields, validate

from backend.auth.rules import DEVICE_ID_PATTERN, MAX_PASSWORD_LENGTH, ROLES


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128),
                             load_only=True)
    device_id = fields.String(validate=validate.Regexp(DEVICE_ID_PATTERN), load_default=None,
                              allow_none=True)


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


class LoginResultSchema(TokenSchema):
    user = fields.Nested(MeSchema)

