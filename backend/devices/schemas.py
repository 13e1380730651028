from marshmallow import Schema, fields, validate

DEVICE_ID = validate.Length(min=8, max=64)


class ChallengeCreateSchema(Schema):
    device_id = fields.String(required=True, validate=DEVICE_ID)


class ChallengeSchema(Schema):
    nonce = fields.String(metadata={"description": "Sign `doorstep-device-key:v1:<user id>:"
                                                   "<device id>:<nonce>` with the new key"})
    device_id = fields.String()
    expires_at = fields.DateTime()
    pin_max_attempts = fields.Integer(metadata={
        "description": "Wrong PINs after which the phone destroys the key"})


class DeviceKeyCreateSchema(Schema):
    device_id = fields.String(required=True, validate=DEVICE_ID)
    public_key_jwk = fields.Dict(required=True)
    nonce = fields.String(required=True, validate=validate.Length(min=1, max=64))
    signature = fields.String(required=True, validate=validate.Length(min=1, max=200),
                              metadata={"description": "ECDSA P-256/SHA-256, raw r||s, "
                                                       "base64url, over the challenge"})
    end_session = fields.Boolean(load_default=False, metadata={
        "description": "End the sign-in used to register (adding a colleague to a phone)"})


class DeviceKeySchema(Schema):
    id = fields.String()
    user_id = fields.String()
    device_id = fields.String()
    public_key_jwk = fields.Dict()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    revoked_reason = fields.String(allow_none=True)


class DeviceKeyQuerySchema(Schema):
    user_id = fields.String(validate=validate.Length(min=1, max=36), load_default=None,
                            metadata={"description": "Another user's keys (admins only)"})


class DeviceKeyListSchema(Schema):
    items = fields.List(fields.Nested(DeviceKeySchema))
